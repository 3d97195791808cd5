"""Saved views (save, tabs on list and board, rename, delete, privacy) and the task list's
bulk change (form POST without JavaScript, per-task refusals, summary) on the web."""

from __future__ import annotations

from sqlalchemy import func, select

from taskdesk.models import Activity, SavedView, TaskLabel
from tests.support.web import (
    confirm,
    csrf_token,
    find_form,
    flashes,
    list_titles,
    post,
    reload_task,
)


def _tabs(page):
    nav = page.html.select_one("nav.saved-views")
    return [a.get_text(" ", strip=True) for a in nav.select("li > a[data-view]")] if nav else []


def _save(testapp, url, name, shared=False):
    page = testapp.get(url)
    form = find_form(page, "/views/")
    form["name"] = name
    if shared:
        form["shared"] = True
    return form.submit()


def test_save_a_shared_view_and_see_its_tab_on_list_and_board(
        testapp, login_as, world, make_task, signed_in):
    make_task(world.project, world.manager, title="Urgent one", priority="urgent")
    make_task(world.project, world.manager, title="Calm one", priority="low")
    login_as("mia")
    answer = _save(testapp, "/projects/apollo/?priority=urgent&sort=due", "Hot", shared=True)
    assert answer.status_int == 303
    page = answer.follow()
    assert ("success", "View “Hot” saved.") in flashes(page)
    assert list_titles(page) == ["Urgent one"]
    assert _tabs(page) == ["Hot"]
    assert page.html.select_one("nav.saved-views a[aria-current]").get_text() == "Hot"
    # Another member sees the shared tab, on the list and on the board.
    other = signed_in("manny")
    assert _tabs(other.get("/projects/apollo/")) == ["Hot"]
    board = other.get("/projects/apollo/board")
    assert _tabs(board) == ["Hot"]
    tab = board.html.select_one("nav.saved-views a[data-view]")
    assert "/board?" in tab["href"]
    assert "priority=urgent" in tab["href"]
    assert "sort=" not in tab["href"]


def test_a_private_view_is_its_owners_alone(testapp, login_as, world, signed_in, dbsession):
    login_as("mia")
    page = _save(testapp, "/projects/apollo/?state=closed", "Mine").follow()
    assert _tabs(page) == ["Mine (private)"]
    view = dbsession.scalar(select(SavedView))
    assert view.params == {"state": "closed"}
    other = signed_in("manny")
    assert _tabs(other.get("/projects/apollo/")) == []
    # Someone else's private view is not found, whoever asks (a manager too).
    other.get(f"/projects/apollo/views/{view.id}", status=404)
    other.get(f"/projects/apollo/views/{view.id}/edit", status=404)


def test_viewers_save_private_views_but_may_not_share(testapp, login_as, world, dbsession):
    login_as("vic")
    page = testapp.get("/projects/apollo/")
    assert "shared" not in find_form(page, "/views/").fields
    answer = post(testapp, "/projects/apollo/views/", {"name": "Team", "shared": "on"},
                  status=400)
    assert "Only the project's members may share a view" in answer.html.get_text()
    assert dbsession.scalar(select(func.count()).select_from(SavedView)) == 0
    assert _save(testapp, "/projects/apollo/", "Just me").status_int == 303


def test_rename_and_delete_a_view(testapp, login_as, world, signed_in, dbsession):
    login_as("mia")
    _save(testapp, "/projects/apollo/?priority=high", "Old", shared=True)
    view = dbsession.scalar(select(SavedView))
    # A member who does not own it may not change it; a manager may change a shared one.
    other = signed_in("vic")
    other.get(f"/projects/apollo/views/{view.id}/edit", status=403)
    manager = signed_in("manny")
    form = find_form(manager.get(f"/projects/apollo/views/{view.id}/edit"), "/edit")
    form["name"] = "New name"
    page = form.submit().follow()
    assert _tabs(page) == ["New name"]
    page = confirm(testapp.get(f"/projects/apollo/views/{view.id}/delete")).follow()
    assert ("success", "View “New name” deleted.") in flashes(page)
    assert _tabs(page) == []


def test_an_invalid_name_or_filter_is_a_form_error(testapp, login_as, world):
    login_as("mia")
    answer = post(testapp, "/projects/apollo/views/", {"name": "", "status": "nonsense"},
                  status=400)
    assert "This field is required." in answer.text
    assert "Unknown value: nonsense" in answer.text


def test_a_stored_filter_that_no_longer_holds_shows_as_a_filter_error(
        testapp, login_as, world, dbsession):
    login_as("mia")
    view = SavedView(project_id=world.project.id, owner_id=world.member.id, name="Stale",
                     shared=True, params={"status": "vanished"})
    dbsession.add(view)
    dbsession.flush()
    page = testapp.get(f"/projects/apollo/views/{view.id}").follow(status=400)
    assert "Please correct the marked filters." in page.text


def test_the_dashboard_is_my_work_by_due_date_then_priority(testapp, login_as, world,
                                                           make_task):
    for title, priority, due in (("Later low", "low", "2030-01-02"),
                                 ("Same day low", "low", "2030-01-01"),
                                 ("Same day urgent", "urgent", "2030-01-01"),
                                 ("Undated", "urgent", None)):
        make_task(world.project, world.manager, title=title, priority=priority,
                  due_date=due, assignee="mia")
    make_task(world.project, world.manager, title="Done", status="done", assignee="mia")
    login_as("mia")
    page = testapp.get("/")
    section = page.html.select_one("section[aria-labelledby=my-tasks]")
    assert section.select_one("h2").get_text() == "My work"
    titles = [a.get_text() for a in section.select("li > a")]
    assert titles == ["Same day urgent", "Same day low", "Later low", "Undated"]


# -- bulk change ------------------------------------------------------------------------------
def _bulk_form(page):
    return find_form(page, "/tasks/bulk")


def _tick(form, *numbers):
    for field in form.fields["task"]:
        if int(field._value.partition(":")[0]) in numbers:
            field.checked = True


def test_bulk_set_status_without_javascript(testapp, login_as, world, make_task, dbsession):
    tasks = [make_task(world.project, world.manager, title=f"Task {i}") for i in range(4)]
    login_as("mia")
    form = _bulk_form(testapp.get("/projects/apollo/"))
    _tick(form, tasks[0].number, tasks[2].number)
    form["status"] = "done"
    page = form.submit()
    assert page.status_int == 200
    summary = page.html.select_one("#bulk-summary")
    assert "2 tasks changed." in summary.get_text(" ")
    assert [reload_task(dbsession, world.project, t.number).status for t in tasks] == [
        "done", "open", "done", "open"]
    # One history entry per changed task, as a single edit writes.
    entries = dbsession.scalars(select(Activity).where(Activity.action == "task.updated")).all()
    assert sorted(e.task_id for e in entries) == sorted([tasks[0].id, tasks[2].id])
    assert all(e.changes == {"status": ["open", "done"]} for e in entries)


def test_bulk_refuses_a_task_changed_since_it_was_shown(testapp, login_as, world, make_task,
                                                        dbsession, signed_in):
    one = make_task(world.project, world.manager, title="Stays")
    two = make_task(world.project, world.manager, title="Moves")
    login_as("mia")
    form = _bulk_form(testapp.get("/projects/apollo/"))
    _tick(form, one.number, two.number)
    form["priority"] = "urgent"
    # Someone else changes #one meanwhile.
    other = signed_in("manny")
    edit = find_form(other.get(f"/projects/apollo/tasks/{one.number}/edit"), "/edit")
    edit["title"] = "Stays, renamed"
    edit.submit()
    page = form.submit()
    text = page.html.select_one("#bulk-summary").get_text(" ")
    assert "1 task changed." in text
    assert "1 refused." in text
    assert "Changed by someone else since it was shown" in text
    assert reload_task(dbsession, world.project, one.number).priority != "urgent"
    assert reload_task(dbsession, world.project, two.number).priority == "urgent"


def test_bulk_checks_each_permission(testapp, login_as, world, make_task, factory, dbsession):
    task = make_task(world.project, world.manager, title="Guarded")
    login_as("vic")  # a viewer: no checkboxes, and a forged post changes nothing
    page = testapp.get("/projects/apollo/")
    assert not page.html.select("input[name=task]")
    answer = post(testapp, "/projects/apollo/tasks/bulk",
                  {"task": f"{task.number}:{task.version}", "status": "done"})
    assert "1 refused." in answer.html.select_one("#bulk-summary").get_text(" ")
    assert reload_task(dbsession, world.project, task.number).status == "open"


def test_bulk_labels_assignee_and_all_matching(testapp, login_as, world, make_task, dbsession):
    tasks = [make_task(world.project, world.manager, title=f"Bug {i}", labels=["bug", "old"])
             for i in range(3)]
    make_task(world.project, world.manager, title="Feature", labels=["feature"])
    login_as("manny")
    form = _bulk_form(testapp.get("/projects/apollo/?label=bug"))
    form["all_matching"] = True
    form["add_labels"] = "triaged"
    form["remove_labels"] = "old"
    form["assignee"] = "Mia Member"
    page = form.submit()
    assert "3 tasks changed." in page.html.select_one("#bulk-summary").get_text(" ")
    for task in tasks:
        row = reload_task(dbsession, world.project, task.number)
        assert sorted(dbsession.scalars(select(TaskLabel.name).where(
            TaskLabel.task_id == row.id))) == ["bug", "triaged"]
        assert row.assignee_id == world.member.id


def test_bulk_delete_asks_first(testapp, login_as, world, make_task, dbsession):
    tasks = [make_task(world.project, world.manager, title=f"Junk {i}") for i in range(2)]
    login_as("manny")
    form = _bulk_form(testapp.get("/projects/apollo/"))
    _tick(form, *(t.number for t in tasks))
    form["delete"] = True
    page = confirm(form.submit())
    assert "2 tasks changed." in page.html.select_one("#bulk-summary").get_text(" ")
    assert reload_task(dbsession, world.project, tasks[0].number) is None


def test_bulk_without_a_change_or_task_is_explained(testapp, login_as, world, make_task):
    make_task(world.project, world.manager, title="Something")
    login_as("mia")
    page = _bulk_form(testapp.get("/projects/apollo/")).submit(status=400)
    text = page.html.select_one("#bulk-summary").get_text(" ")
    assert "Choose at least one task." in text


# -- statement counts -------------------------------------------------------------------------
def _count(testapp, count_statements, path):
    testapp.get(path)  # warm caches
    with count_statements() as statements:
        testapp.get(path)
    return len(statements)


def _add_views(dbsession, world, count):
    dbsession.add_all([SavedView(project_id=world.project.id, owner_id=world.manager.id,
                                 name=f"View {i}", shared=i % 2 == 0,
                                 params={"priority": "high"}) for i in range(count)])
    dbsession.flush()


def test_the_tabs_cost_one_statement_however_many_views(testapp, login_as, world, make_task,
                                                       dbsession, count_statements):
    for i in range(3):
        make_task(world.project, world.manager, title=f"Task {i}")
    login_as("manny")
    _add_views(dbsession, world, 1)
    few = {path: _count(testapp, count_statements, path)
           for path in ("/projects/apollo/", "/projects/apollo/board")}
    _add_views(dbsession, world, 12)
    many = {path: _count(testapp, count_statements, path)
            for path in ("/projects/apollo/", "/projects/apollo/board")}
    assert few == many == {"/projects/apollo/": 8, "/projects/apollo/board": 8}
    assert len(_tabs(testapp.get("/projects/apollo/"))) == 13


def _bulk_count(testapp, count_statements, dbsession, tasks, data):
    """Post a bulk change of ``tasks`` (the done ones too, which the list hides by default)
    as the list's form does; its statements."""
    for task in tasks:
        dbsession.refresh(task)
    body = {"task": [f"{t.number}:{t.version}" for t in tasks], **data}
    if data.get("delete"):
        body["confirmed"] = "yes"
    token = csrf_token(testapp)
    with count_statements() as statements:
        answer = testapp.post("/projects/apollo/tasks/bulk", {**body, "csrf_token": token})
    summary = answer.html.select_one("#bulk-summary").get_text(" ")
    assert f"{len(tasks)} tasks changed." in summary
    assert "refused" not in summary
    return len(statements)


def test_a_bulk_change_costs_the_same_statements_for_2_tasks_as_for_20(
        testapp, login_as, world, make_task, count_statements, dbsession):
    """The tasks are read in two statements whatever their number, and every task taking
    the same columns is written by one UPDATE, its history entries and events by one INSERT
    each: the cost of a batch does not grow with its size."""
    def make_batch(prefix):
        batch = [make_task(world.project, world.manager, title=f"{prefix} {i}",
                           labels=["old"]) for i in range(20)]
        for task in batch[::2]:  # half of them done: a status change splits them in two
            task.status = "done"
        return batch

    small, large = make_batch("Small"), make_batch("Large")
    make_task(world.project, world.manager, title="A sub-task", parent=large[0].number)
    make_task(world.project, world.manager, title="Another sub-task",
              parent=small[0].number)
    dbsession.flush()
    login_as("manny")
    changes = [
        {"status": "in_progress"},
        {"priority": "high", "assignee": "mia", "due_date": "2030-01-31",
         "add_labels": "triaged", "remove_labels": "old"},
        {"delete": True},
    ]
    counts = [(_bulk_count(testapp, count_statements, dbsession, small[:2], data),
               _bulk_count(testapp, count_statements, dbsession, large, data))
              for data in changes]
    print(f"bulk statements (2 tasks, 20 tasks): {counts}")
    # The request and its reads are 7 (session and identity, project, actor, the tasks and
    # their labels, the bell). Then a status: a savepoint around one UPDATE per kind of task
    # (was done, was not), one INSERT of the history entries, one of their events, and its
    # release (8 in all). Fields: the assignee's look-up (the form's and the membership
    # check), a savepoint around one UPDATE, the label DELETE and INSERT, the watch, the
    # history entries, the events (12). A deletion: the sub-tasks read, a savepoint around
    # one DELETE, the history entries and the events (8).
    assert counts == [(15, 15), (19, 19), (15, 15)]
