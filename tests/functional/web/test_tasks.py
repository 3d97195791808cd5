"""Tasks: list, filters, paging, create, edit, detail, quick actions, delete (edit conflicts:
test_edit_conflicts.py)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select

from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.domain.schemas import TASK_QUERY
from taskdesk.models import Task
from taskdesk.models.meta import utcnow
from tests.support.web import confirm, find_form, list_titles, reload_task


def test_task_list_filters_and_sort(testapp, login_as, world, make_task):
    today = utcnow().date()
    make_task(world.project, world.manager, title="Mine urgent", priority="urgent",
                 assignee="mia", labels=["backend"], due_date=str(today - timedelta(days=1)))
    make_task(world.project, world.manager, title="Nobody's", priority="low")
    make_task(world.project, world.manager, title="Finished", status="done",
                 assignee="manny")
    make_task(world.project, world.manager, title="修复登录页面", labels=["前端"])
    login_as("mia")
    page = testapp.get("/projects/apollo/")
    # Open tasks unless the filters say otherwise; the filter form shows that.
    assert list_titles(page) == ["修复登录页面", "Nobody's", "Mine urgent"]
    assert find_form(page, "/projects/apollo/", method="get")["state"].value == "open"
    page = testapp.get("/projects/apollo/?state=all")
    assert list_titles(page) == ["修复登录页面", "Finished", "Nobody's", "Mine urgent"]
    assert find_form(page, "/projects/apollo/", method="get")["state"].value == "all"
    assert list_titles(testapp.get("/projects/apollo/?assignee=me")) == ["Mine urgent"]
    assert list_titles(testapp.get("/projects/apollo/?assignee=none")) == [
        "修复登录页面", "Nobody's"]
    assert list_titles(testapp.get("/projects/apollo/?state=closed")) == ["Finished"]
    assert list_titles(testapp.get("/projects/apollo/?status=done")) == ["Finished"]
    assert list_titles(testapp.get("/projects/apollo/?priority=urgent")) == ["Mine urgent"]
    assert list_titles(testapp.get("/projects/apollo/?label=backend")) == ["Mine urgent"]
    assert list_titles(testapp.get("/projects/apollo/", {"label": "前端"})) == ["修复登录页面"]
    assert list_titles(testapp.get("/projects/apollo/", {"q": "登录"})) == ["修复登录页面"]
    assert list_titles(testapp.get(f"/projects/apollo/?due_before={today}")) == ["Mine urgent"]
    assert list_titles(testapp.get("/projects/apollo/?sort=number"))[0] == "Mine urgent"
    # The filter form shows the state of the URL, so a bookmark restores it.
    page = testapp.get("/projects/apollo/?assignee=me&priority=urgent")
    form = find_form(page, "/projects/apollo/", method="get")
    assert form["assignee"].value == "me"
    assert form["priority"].value == "urgent"
    # The form's fields are the filters the list query declares for it.
    assert set(form.fields) - {None} == set(TASK_QUERY.form_keys)  # None: the button
    form["priority"] = ""
    assert list_titles(form.submit()) == ["Mine urgent"]


def test_task_list_invalid_filter_shows_the_error(testapp, login_as, world, make_task):
    make_task(world.project, world.manager, title="x")
    login_as("mia")
    page = testapp.get("/projects/apollo/?due_before=tomorrow", status=400)
    assert "Must be a date like 2026-12-31." in page.text
    assert list_titles(page) == []


def test_task_list_keyset_paging(testapp, login_as, world, make_task, monkeypatch):
    monkeypatch.setattr("taskdesk.web.views.tasks.PAGE_SIZE", 2)
    for index in range(5):
        make_task(world.project, world.manager, title=f"T{index + 1}")
    login_as("mia")
    page = testapp.get("/projects/apollo/?assignee=none")
    assert list_titles(page) == ["T5", "T4"]
    assert not page.html.find("a", rel="prev")
    page = testapp.get(page.html.find("a", rel="next")["href"])
    assert list_titles(page) == ["T3", "T2"]
    page3 = testapp.get(page.html.find("a", rel="next")["href"])
    assert list_titles(page3) == ["T1"]
    assert not page3.html.find("a", rel="next")
    assert "assignee=none" in page3.request.url
    back = testapp.get(page3.html.find("a", rel="prev")["href"])
    assert list_titles(back) == ["T3", "T2"]
    first = testapp.get(back.html.find("a", rel="prev")["href"])
    assert list_titles(first) == ["T5", "T4"]


def test_task_list_links_to_the_csv_export(testapp, login_as, world):
    login_as("mia")
    page = testapp.get("/projects/apollo/?assignee=me")
    link = page.html.find("a", string="Export CSV")["href"]
    assert link == ("http://taskdesk.test/projects/apollo/tasks/export.csv"
                    "?assignee=me&state=open")


def test_create_task(testapp, login_as, world, dbsession):
    login_as("mia")
    form = find_form(testapp.get("/projects/apollo/tasks/new"), "/tasks/new")
    form["title"] = "准备发布说明"
    form["description"] = "**重要**：检查所有链接"  # noqa: RUF001 - Chinese punctuation on purpose
    form["priority"] = "high"
    form["assignee"] = "vic"
    form["due_date"] = "2030-01-31"
    form["labels"] = "release，文档, docs"  # noqa: RUF001 - Chinese punctuation on purpose
    response = form.submit()
    assert response.location == "http://taskdesk.test/projects/apollo/tasks/1"
    page = response.follow()
    assert "准备发布说明" in page.text
    assert "<strong>重要</strong>" in page.text
    assert "Task #1 created." in page.text
    task = reload_task(dbsession, world.project, 1)
    assert (task.title, task.priority, task.assignee_id, task.due_date) == (
        "准备发布说明", "high", world.viewer.id, date(2030, 1, 31))
    assert task.reporter_id == world.member.id


def test_create_task_invalid_input_keeps_values_and_saves_nothing(testapp, login_as, world,
                                                                  dbsession):
    login_as("mia")
    form = find_form(testapp.get("/projects/apollo/tasks/new"), "/tasks/new")
    form["title"] = ""
    form["description"] = "我写了很多"
    form["due_date"] = "31/12/2030"
    form["assignee"] = "olga"  # not a member of the private project
    page = form.submit(status=400)
    assert "This field is required." in page.text
    assert "Must be a date like 2026-12-31." in page.text
    again = find_form(page, "/tasks/new")
    assert again["description"].value == "我写了很多"
    assert again["due_date"].value == "31/12/2030"
    assert dbsession.scalar(select(func.count()).select_from(Task)) == 0
    again["title"] = "Now with a title"
    again["due_date"] = ""
    page = again.submit(status=400)
    assert "This user is not a member of the project." in page.text
    assert dbsession.scalar(select(func.count()).select_from(Task)) == 0


def test_viewer_cannot_create_or_edit(testapp, login_as, world, make_task):
    task = make_task(world.project, world.manager)
    login_as("vic")
    page = testapp.get("/projects/apollo/")
    assert "New task" not in page.text
    testapp.get("/projects/apollo/tasks/new", status=403)
    testapp.get(f"/projects/apollo/tasks/{task.number}/edit", status=403)
    detail = testapp.get(f"/projects/apollo/tasks/{task.number}")
    assert "Edit" not in [a.get_text() for a in detail.html.select(".page-header a")]
    assert "Add a comment" not in detail.text


def test_edit_task(testapp, login_as, world, make_task, dbsession):
    task = make_task(world.project, world.manager, title="Old", labels=["a"])
    login_as("mia")
    form = find_form(testapp.get(f"/projects/apollo/tasks/{task.number}/edit"), "/edit")
    assert form["title"].value == "Old"
    assert form["labels"].value == "a"
    form["title"] = "New 新"
    form["status"] = "in_progress"
    page = form.submit().follow()
    assert "saved" in page.text
    history = page.html.find("ol", class_="history").get_text(" ", strip=True)
    assert "Mia Member changed the task" in history
    assert "Title: Old → New 新" in history
    assert "Status: Open → In progress" in history
    assert reload_task(dbsession, world.project, task.number).title == "New 新"


def test_markdown_is_sanitised(testapp, login_as, world, make_task):
    description = (
        "<script>alert('x')</script>\n\n"
        '<img src=x onerror="alert(1)">\n\n'
        "[click](javascript:alert(2)) and [site](https://example.com)\n\n"
        "**bold**"
    )
    task = make_task(world.project, world.manager, title="XSS", description=description)
    login_as("mia")
    page = testapp.get(f"/projects/apollo/tasks/{task.number}")
    body = page.html.find("div", class_="markdown")
    assert body.find("script") is None
    assert not any(attr.startswith("on") for tag in body.find_all(True) for attr in tag.attrs)
    assert "<strong>bold</strong>" in str(body)
    assert not [a for a in body.find_all("a") if a["href"].lower().startswith("javascript")]
    link = body.find("a", string="site")
    assert link["href"] == "https://example.com"
    assert set(link["rel"]) >= {"noopener", "nofollow"}
    assert "<script>alert" not in page.text


def test_quick_actions_assign_to_me_and_status(testapp, login_as, world, make_task, dbsession):
    task = make_task(world.project, world.manager, title="Quick")
    login_as("mia")
    page = testapp.get(f"/projects/apollo/tasks/{task.number}")
    page = find_form(page, "/assign-me").submit().follow()
    assert "assigned to you" in page.text
    assert reload_task(dbsession, world.project, task.number).assignee_id == world.member.id
    form = find_form(page, "/status")
    form["status"] = "done"
    page = form.submit().follow()
    done = reload_task(dbsession, world.project, task.number)
    assert done.status == "done"
    assert done.completed_at is not None


def test_stale_quick_action_changes_nothing(testapp, login_as, world, make_task, dbsession,
                                            settings):
    from taskdesk.domain.tasks import update_task

    task = make_task(world.project, world.manager, title="Stale")
    login_as("mia")
    form = find_form(testapp.get(f"/projects/apollo/tasks/{task.number}"), "/status")
    update_task(dbsession, settings, task, world.manager, {"priority": "high"}, may=UNRESTRICTED)
    dbsession.flush()
    form["status"] = "blocked"
    page = form.submit().follow()
    assert "changed by someone else" in page.text
    assert reload_task(dbsession, world.project, task.number).status == "open"


def test_delete_task_with_confirmation(testapp, login_as, world, make_task, dbsession):
    task = make_task(world.project, world.manager, title="Doomed")
    login_as("mia")
    testapp.get(f"/projects/apollo/tasks/{task.number}/delete", status=403)  # members may not
    login_as("manny")
    page = testapp.get(f"/projects/apollo/tasks/{task.number}")
    # Without JavaScript the Delete button asks on a page first; nothing is deleted yet.
    asked = find_form(page, "/delete").submit(status=200)
    assert asked.html.select_one("h1").text == "Delete task #1?"
    assert "cannot be undone" in asked.text
    assert reload_task(dbsession, world.project, task.number) is not None
    # A link to the action asks the same.
    linked = testapp.get(f"/projects/apollo/tasks/{task.number}/delete")
    assert linked.html.select_one("h1").text == "Delete task #1?"
    page = confirm(asked).follow()
    assert "Task #1 deleted." in page.text
    assert reload_task(dbsession, world.project, task.number) is None


def test_destructive_forms_ask_in_a_dialog_with_javascript(testapp, login_as, world,
                                                           make_task):
    """Each destructive form carries the question taskdesk.js asks in its <dialog>."""
    task = make_task(world.project, world.manager, title="Doomed")
    login_as("manny")
    page = testapp.get(f"/projects/apollo/tasks/{task.number}")
    delete = page.html.select_one('form[action$="/delete"]')
    assert delete["data-confirm"] == "Delete task #1?"
    assert delete["data-confirm-button"] == "Delete task"
    assert delete["data-confirm-cancel"] == "Cancel"
    remove = testapp.get("/projects/apollo/members/").html.select_one(
        'form[action$="/members/user:mia/remove"]')
    assert remove["data-confirm"] == "Remove Mia Member from Apollo?"
    archive = testapp.get("/projects/apollo/settings").html.select_one(
        'form[action$="/archive"]')
    assert archive["data-confirm"] == "Archive Apollo?"


def test_dates_and_numbers_follow_the_locale(testapp, login_as, world, make_task):
    task = make_task(world.project, world.manager, due_date="2030-03-04")
    login_as("mia")
    page = testapp.get(f"/projects/apollo/tasks/{task.number}")
    assert "Mar 4, 2030" in page.text
    page = testapp.get(f"/projects/apollo/tasks/{task.number}",
                       headers={"Accept-Language": "zh-CN"})
    assert "2030年3月4日" in page.text


def test_csv_link_downloads_the_filtered_list_with_the_browser_session(testapp, login_as,
                                                                       world, make_task):
    make_task(world.project, world.manager, title="导出我", assignee="mia")
    make_task(world.project, world.manager, title="Not mine")
    login_as("mia")
    page = testapp.get("/projects/apollo/?assignee=me")
    export = testapp.get(page.html.find("a", string="Export CSV")["href"])
    assert export.content_type == "text/csv"
    text = export.body.decode("utf-8-sig")
    assert "导出我" in text
    assert "Not mine" not in text


def test_csv_export_is_read_as_dates_and_links_to_the_web_pages(testapp, login_as, world,
                                                                 make_task, dbsession):
    """A spreadsheet parses `YYYY-MM-DD HH:MM:SS` as a date and time, not ISO 8601 with a
    `T` and an offset; the url column opens the task page in the browser."""
    task = make_task(world.project, world.manager, title="Dated", due_date="2030-01-31")
    task.created_at = datetime(2026, 3, 4, 23, 30, 5, tzinfo=timezone(timedelta(hours=8)))
    dbsession.flush()
    login_as("mia")
    export = testapp.get("/projects/apollo/tasks/export.csv")
    assert export.headers["Content-Disposition"] == 'attachment; filename="apollo.csv"'
    header, row = list(csv.reader(io.StringIO(export.body.decode("utf-8-sig"))))
    values = dict(zip(header, row, strict=True))
    assert values["created_at_utc"] == "2026-03-04 15:30:05"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", values["updated_at_utc"])
    assert values["completed_at_utc"] == ""
    assert values["due_date"] == "2030-01-31"
    assert values["url"] == f"http://taskdesk.test/projects/apollo/tasks/{task.number}"
    assert testapp.get(values["url"]).status_int == 200


def test_csv_export_with_a_bad_filter_goes_back_to_the_list(testapp, login_as, world):
    login_as("mia")
    export = testapp.get("/projects/apollo/tasks/export.csv?due_before=soon", status=303)
    page = export.follow(status=400)
    assert "Must be a date like 2026-12-31." in page.text


def test_task_list_bad_cursor_is_explained(testapp, login_as, world):
    login_as("mia")
    page = testapp.get("/projects/apollo/?cursor=garbage", status=400)
    assert "This cursor is not valid for this list." in page.text


def test_task_list_shows_the_total(testapp, login_as, world, make_task, monkeypatch):
    for number in range(3):
        make_task(world.project, world.manager, title=f"Open {number}")
    make_task(world.project, world.manager, title="Finished", status="done")
    login_as("mia")

    def total(page):
        return page.html.select_one(".list-total").get_text(strip=True)

    assert total(testapp.get("/projects/apollo/")) == "3 tasks"
    assert total(testapp.get("/projects/apollo/?state=all")) == "4 tasks"
    assert total(testapp.get("/projects/apollo/?state=closed")) == "1 task"
    assert total(testapp.get("/projects/apollo/?q=nothing-like-this")) == "0 tasks"
    # Counting stops at the cap: a huge list costs what a list of cap + 1 tasks costs.
    monkeypatch.setattr("taskdesk.web.views.tasks.LIST_COUNT_CAP", 2)
    assert total(testapp.get("/projects/apollo/")) == "2+ tasks"
    assert total(testapp.get("/projects/apollo/", headers={"Accept-Language": "zh-CN"})) == (
        "2+ 个任务")


def test_task_list_pages_keep_the_chosen_state(testapp, login_as, world, make_task,
                                               monkeypatch):
    monkeypatch.setattr("taskdesk.web.views.tasks.PAGE_SIZE", 2)
    for number in range(2):
        make_task(world.project, world.manager, title=f"Open {number}")
    make_task(world.project, world.manager, title="Finished", status="done")
    login_as("mia")
    page = testapp.get("/projects/apollo/?state=all")
    page = testapp.get(page.html.find("a", rel="next")["href"])
    assert list_titles(page) == ["Open 0"]
    assert find_form(page, "/projects/apollo/", method="get")["state"].value == "all"
    assert list_titles(testapp.get("/projects/apollo/")) == ["Open 1", "Open 0"]
    assert not testapp.get("/projects/apollo/").html.find("a", rel="next")


def test_long_unbroken_titles_wrap(testapp, login_as, world, make_task):
    task = make_task(world.project, world.manager, title="x" * 200)
    login_as("mia")
    listed = testapp.get("/projects/apollo/")
    assert "wrap-anywhere" in listed.html.select_one("tbody td:nth-of-type(2)")["class"]
    page = testapp.get(f"/projects/apollo/tasks/{task.number}")
    assert "wrap-anywhere" in page.html.select_one("h1")["class"]
    css = testapp.get(page.html.find("link", rel="stylesheet")["href"]).text
    assert ".wrap-anywhere, .board-card__title" in css
