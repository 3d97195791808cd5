"""Two people editing one task: a stale save is merged field by field; only the fields both
changed are shown side by side to choose from, and nobody's work is undone unseen."""

from __future__ import annotations

import pytest
import webtest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from taskdesk import main
from taskdesk.domain import projects
from taskdesk.models import Activity, Task, User
from tests.support.apps import app_settings, joined
from tests.support.factories import Factory
from tests.support.web import find_form, login


@pytest.fixture
def browsers(make_testapp, world):
    """Mia (a member) and Manny (the manager), each signed in in a browser of their own."""
    apps = {}
    for username in ("mia", "manny"):
        app = make_testapp()
        assert login(app, username).status_int == 303
        apps[username] = app
    return apps


@pytest.fixture
def task(make_task, world):
    return make_task(world.project, world.manager, title="Original", description="Base text",
                     priority="normal", labels=["a"])


def _edit_form(app, task):
    return find_form(app.get(f"/projects/apollo/tasks/{task.number}/edit"), "/edit")


def _row(dbsession, task):
    dbsession.expire_all()
    return dbsession.scalar(select(Task).options(selectinload(Task.label_rows))
                            .where(Task.id == task.id))


def _flash(page):
    return page.html.find(class_="flash--success").get_text(" ", strip=True)


def _conflicts(page):
    """Field legend -> the texts of the conflict box of that field."""
    return {box.legend.get_text(strip=True): box.get_text(" ", strip=True)
            for box in page.html.select(".conflict-field")}


def test_disjoint_changes_are_merged_and_both_kept(browsers, task, dbsession):
    mine = _edit_form(browsers["mia"], task)
    theirs = _edit_form(browsers["manny"], task)
    theirs["title"] = "Manny's title"
    theirs["status"] = "in_progress"
    theirs.submit().follow()
    mine["priority"] = "high"
    mine["description"] = "Mia's\r\nlonger text"
    page = mine.submit().follow()
    assert _flash(page) == ("Task #1 saved and merged: Manny Manager changed it meanwhile, "
                            "and their changes to Title and Status were kept.")
    row = _row(dbsession, task)
    assert (row.title, row.status) == ("Manny's title", "in_progress")
    assert (row.priority, row.description) == ("high", "Mia's\nlonger text")
    assert row.version == 3
    entries = dbsession.scalars(select(Activity).where(Activity.task_id == task.id)
                                .order_by(Activity.id)).all()
    assert [e.action for e in entries] == ["task.created", "task.updated", "task.updated"]
    assert set(entries[-1].changes) == {"priority", "description"}
    history = page.html.find("ol", class_="history").get_text(" ", strip=True)
    assert "Mia Member changed the task" in history


def test_a_stale_form_without_changes_of_mine_saves_nothing(browsers, task, dbsession):
    mine = _edit_form(browsers["mia"], task)
    theirs = _edit_form(browsers["manny"], task)
    theirs["labels"] = "a, b"
    theirs.submit()
    page = mine.submit().follow()
    assert _flash(page) == ("Task #1 already holds your changes; Manny Manager changed it "
                            "meanwhile, and their changes to Labels were kept.")
    assert _row(dbsession, task).labels == ["a", "b"]
    assert _row(dbsession, task).version == 2


def test_the_same_change_on_both_sides_is_no_conflict(browsers, task, dbsession):
    mine = _edit_form(browsers["mia"], task)
    theirs = _edit_form(browsers["manny"], task)
    theirs["title"] = "Agreed"
    theirs.submit()
    mine["title"] = "Agreed"
    mine["labels"] = "a,c"  # the same labels as "a, c": compared cleaned
    page = mine.submit().follow()
    assert _flash(page) == "Task #1 saved and merged with the changes made meanwhile."
    row = _row(dbsession, task)
    assert (row.title, row.labels) == ("Agreed", ["a", "c"])


@pytest.mark.parametrize(("choice", "title"), [("mine", "Mia's title"),
                                                ("theirs", "Manny's title")])
def test_a_field_both_changed_is_shown_and_saved_as_chosen(browsers, task, dbsession, choice,
                                                           title):
    mine = _edit_form(browsers["mia"], task)
    theirs = _edit_form(browsers["manny"], task)
    theirs["title"] = "Manny's title"
    theirs["labels"] = "a, from-manny"
    theirs.submit()
    mine["title"] = "Mia's title"
    mine["due_date"] = "2030-05-01"
    page = mine.submit(status=409)
    assert "Someone else changed this task while you were editing it." in page.text
    conflicts = _conflicts(page)
    assert list(conflicts) == ["Title"]
    assert "When you opened the form: Original" in conflicts["Title"]
    assert "Changed by Manny Manager" in conflicts["Title"]
    assert "Manny's title" in conflicts["Title"]
    assert "Your change Mia's title" in conflicts["Title"]
    # Nothing is saved yet; the rest of the form already holds both people's changes.
    merged = page.html.select_one(".conflict__merged").get_text(" ", strip=True)
    assert merged == ("Already in the form from the newer changes: Labels. "
                      "Your other changes, also in the form: Due date.")
    assert _row(dbsession, task).due_date is None
    again = find_form(page, "/edit")
    assert again["title"].value == "Manny's title"  # the current value is chosen at first
    assert again["labels"].value == "a, from-manny"
    assert again["due_date"].value == "2030-05-01"
    assert again["description"].value == "Base text"
    again["title"] = title
    saved = again.submit().follow()
    assert "Task #1 saved." in _flash(saved)
    row = _row(dbsession, task)
    assert row.title == title
    assert row.labels == ["a", "from-manny"]
    assert str(row.due_date) == "2030-05-01"
    assert row.description == "Base text"
    assert row.version == 3


def test_saving_again_never_reverts_what_only_the_colleague_changed(browsers, task,
                                                                    dbsession):
    mine = _edit_form(browsers["mia"], task)
    theirs = _edit_form(browsers["manny"], task)
    theirs["status"] = "in_progress"
    theirs["priority"] = "urgent"
    theirs["description"] = "Manny rewrote this.\n\nSecond paragraph."
    theirs.submit()
    mine["description"] = "Mia rewrote this."
    page = mine.submit(status=409)
    assert list(_conflicts(page)) == ["Description"]
    shown = [value.get_text() for value in page.html.select(".conflict-field .conflict-value")]
    assert shown == ["Base text", "Manny rewrote this.\n\nSecond paragraph.", "Mia rewrote this."]
    again = find_form(page, "/edit")
    assert (again["status"].value, again["priority"].value) == ("in_progress", "urgent")
    again["description"] = "Mia rewrote this."
    again.submit().follow()
    row = _row(dbsession, task)
    assert (row.status, row.priority) == ("in_progress", "urgent")
    assert row.description == "Mia rewrote this."


def test_a_change_during_the_resolution_is_merged_again(browsers, task, dbsession):
    mine = _edit_form(browsers["mia"], task)
    theirs = _edit_form(browsers["manny"], task)
    theirs["title"] = "Manny's title"
    theirs.submit()
    mine["title"] = "Mia's title"
    resolution = find_form(mine.submit(status=409), "/edit")
    # While Mia decides, Manny changes another field: her choice is merged with it.
    theirs = _edit_form(browsers["manny"], task)
    theirs["priority"] = "low"
    theirs.submit()
    resolution["title"] = "Mia's title"
    page = resolution.submit().follow()
    assert _flash(page) == ("Task #1 saved and merged: Manny Manager changed it meanwhile, "
                            "and their changes to Priority were kept.")
    row = _row(dbsession, task)
    assert (row.title, row.priority) == ("Mia's title", "low")


def test_a_second_conflict_during_the_resolution_is_shown_again(browsers, task, dbsession):
    mine = _edit_form(browsers["mia"], task)
    theirs = _edit_form(browsers["manny"], task)
    theirs["title"] = "Manny's title"
    theirs.submit()
    mine["title"] = "Mia's title"
    resolution = find_form(mine.submit(status=409), "/edit")
    theirs = _edit_form(browsers["manny"], task)
    theirs["title"] = "Manny's second title"
    theirs.submit()
    resolution["title"] = "Mia's title"
    page = resolution.submit(status=409)
    conflict = _conflicts(page)["Title"]
    assert "When you opened the form: Manny's title" in conflict
    assert "Manny's second title" in conflict
    assert _row(dbsession, task).title == "Manny's second title"
    again = find_form(page, "/edit")
    again["title"] = "Mia's title"
    again.submit().follow()
    assert _row(dbsession, task).title == "Mia's title"


def test_a_refused_stale_form_keeps_its_base_and_merges_once_corrected(browsers, task,
                                                                       dbsession):
    mine = _edit_form(browsers["mia"], task)
    theirs = _edit_form(browsers["manny"], task)
    theirs["status"] = "in_progress"
    theirs.submit()
    mine["title"] = ""
    mine["priority"] = "high"
    page = mine.submit(status=400)
    assert "This field is required." in page.text
    again = find_form(page, "/edit")
    assert (again["version"].value, again["base_status"].value) == ("1", "open")
    again["title"] = "Corrected"
    again.submit().follow()
    row = _row(dbsession, task)
    assert (row.title, row.priority, row.status) == ("Corrected", "high", "in_progress")


@pytest.fixture
def editor_app(database_url, connection, dbsession, world):
    """The app with an "editor" role that may edit tasks but neither set their status nor
    assign them, and Ed signed in with it on project apollo."""
    app = main({}, **app_settings(database_url, **{"taskdesk.roles.editor": "view edit_task"}))
    ed = Factory(dbsession, app.registry.taskdesk_settings).user("ed", display_name="Ed Editor")
    projects.set_member(dbsession, app.registry.taskdesk_settings, world.project, ed,
                        world.manager, {"role": "editor"})
    dbsession.flush()
    try:
        with joined(app, connection):
            browser = webtest.TestApp(app, extra_environ={"HTTP_HOST": "taskdesk.test"})
            assert login(browser, "ed").status_int == 303
            yield browser
    finally:
        app.registry["dbbinds"].engine.dispose()


def test_a_field_the_editor_may_not_change_is_never_theirs_to_merge(editor_app, browsers,
                                                                    task, dbsession):
    form = _edit_form(editor_app, task)
    assert "status" not in form.fields
    assert "assignee" not in form.fields
    theirs = _edit_form(browsers["manny"], task)
    theirs["status"] = "in_progress"
    theirs["assignee"] = "mia"
    theirs.submit()
    form["title"] = "Ed's title"
    # Even a forged status and assignee are left out: they are not Ed's to change.
    fields = {**dict(form.submit_fields()), "status": "done", "assignee": "manny"}
    page = editor_app.post(form.action, fields).follow()
    assert "Task #1 saved and merged" in _flash(page)
    row = _row(dbsession, task)
    assert (row.title, row.status, row.assignee_id) == ("Ed's title", "in_progress",
                                                        _user_id(dbsession, "mia"))


def _user_id(dbsession, username):
    return dbsession.scalar(select(User.id).where(User.username == username))
