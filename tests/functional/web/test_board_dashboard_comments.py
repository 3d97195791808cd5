"""Board, charts, dashboard and comments."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from taskdesk.models import Comment, Task
from taskdesk.models.meta import utcnow
from tests.support.web import csrf_token, find_form


def _status(dbsession, task):
    dbsession.expire_all()
    return dbsession.scalar(select(Task.status).where(Task.id == task.id))


def _column_titles(page, status):
    column = page.html.find("section", attrs={"data-status": status})
    return [a.get_text() for a in column.select(".board-card__title")]


def test_board_columns_and_move_without_javascript(testapp, login_as, world, make_task,
                                                  dbsession):
    task = make_task(world.project, world.manager, title="Card 卡片", assignee="mia",
                     priority="urgent", due_date="2030-05-06")
    done = make_task(world.project, world.manager, title="Done one", status="done")
    login_as("mia")
    page = testapp.get("/projects/apollo/board")
    assert [h.get_text(" ", strip=True).rsplit(" ", 1)[0]
            for h in page.html.select(".board__column h2")] == [
        "Open", "In progress", "Blocked", "Done", "Won't do"]
    assert _column_titles(page, "open") == ["Card 卡片"]
    card = page.html.find("li", id=f"card-{task.number}").get_text(" ", strip=True)
    assert "Urgent" in card
    assert "Mia Member" in card
    assert "Due May 6, 2030" in card
    # Each card's move form names its task and preselects its own status.
    for moved, status in ((task, "open"), (done, "done")):
        label = page.html.find("label", attrs={"for": f"move-{moved.number}"})
        assert label.get_text() == f"Status of #{moved.number}"
        select = page.html.find("select", id=f"move-{moved.number}")
        assert [o["value"] for o in select.find_all("option", selected=True)] == [status]
        assert len(select.find_all("option")) == 5
    form = find_form(page, f"/tasks/{task.number}/move")
    form["status"] = "in_progress"
    response = form.submit()
    assert response.location == "http://taskdesk.test/projects/apollo/board"
    page = response.follow()
    assert _column_titles(page, "in_progress") == ["Card 卡片"]
    assert "moved to In progress" in page.text
    assert _status(dbsession, task) == "in_progress"


def test_board_move_with_htmx_returns_the_board(testapp, login_as, world, make_task, dbsession):
    task = make_task(world.project, world.manager, title="Dragged")
    login_as("mia")
    page = testapp.get("/projects/apollo/board")
    form = page.html.find("form", class_="move-form")
    assert form["hx-post"] == form["action"]
    # What htmx does with the answer, inherited from the card's column.
    column = form.find_parent("ul", class_="board__cards")
    assert (column["hx-target"], column["hx-select"], column["hx-swap"],
            column["hx-select-oob"]) == ("#board", "#board", "outerHTML", "#flash")
    response = testapp.post(
        form["action"],
        {"status": "blocked", "version": str(task.version), "next": "/projects/apollo/board"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_token(testapp)},
    ).follow(headers={"HX-Request": "true"})
    assert _column_titles(response, "blocked") == ["Dragged"]
    assert response.html.find(id="board") is not None
    assert _status(dbsession, task) == "blocked"


def test_board_is_read_only_for_viewers(testapp, login_as, world, make_task, dbsession):
    task = make_task(world.project, world.manager, title="Look only")
    login_as("vic")
    page = testapp.get("/projects/apollo/board")
    assert not page.html.select("form.move-form")
    assert not page.html.select("[draggable]")
    testapp.post(f"/projects/apollo/tasks/{task.number}/status",
                 {"status": "done", "csrf_token": csrf_token(testapp)}, status=403)
    assert _status(dbsession, task) == "open"


def test_reporter_role_may_move_but_not_edit(testapp, login_as, world, factory, make_task,
                                             dbsession, settings):
    from taskdesk.domain.projects import set_member

    reporter = factory.user("rita")
    set_member(dbsession, settings, world.project, reporter, world.manager, {"role": "reporter"})
    task = make_task(world.project, world.manager, title="Report")
    login_as("rita")
    testapp.get(f"/projects/apollo/tasks/{task.number}/edit", status=403)
    form = find_form(testapp.get("/projects/apollo/board"), f"/tasks/{task.number}/move")
    form["status"] = "done"
    form.submit()
    assert _status(dbsession, task) == "done"


def test_charts_are_svg_with_escaped_labels(testapp, login_as, world, make_task):
    make_task(world.project, world.manager, title="a")
    make_task(world.project, world.manager, title="b", status="done")
    login_as("mia")
    page = testapp.get("/projects/apollo/charts")
    charts = page.html.select(".chart svg")
    assert len(charts) == 2
    status_chart = charts[0]
    assert status_chart["role"] == "img"
    labels = [t.get_text() for t in status_chart.find_all("text")]
    assert "Open" in labels
    assert "Won't do" in labels
    assert "Won&#39;t do" in page.text or "Won&#x27;t do" in page.text  # escaped in the SVG
    rows = page.html.select(".chart table tbody tr")
    assert len(rows) == 5 + 12
    week_rows = [[td.get_text() for td in tr.find_all("td")] for tr in rows[5:]]
    assert week_rows[-1][1:] == ["2", "1"]
    zh = testapp.get("/projects/apollo/charts", headers={"Accept-Language": "zh-CN"})
    assert "月" in zh.html.select(".chart svg")[1].get_text()


def test_dashboard_groups_my_tasks_by_due_date(testapp, login_as, world, make_task, factory):
    today = utcnow().date()
    make_task(world.project, world.manager, title="Late", assignee="mia",
              due_date=str(today - timedelta(days=2)))
    make_task(world.project, world.manager, title="Soon", assignee="mia",
              due_date=str(today + timedelta(days=6 - today.weekday())))
    make_task(world.project, world.manager, title="Someday", assignee="mia")
    make_task(world.project, world.manager, title="Closed", assignee="mia", status="done")
    make_task(world.project, world.member, title="I reported it")
    hidden = factory.project(world.outsider, slug="hidden")
    make_task(hidden, world.outsider, title="Invisible work")
    login_as("mia")
    page = testapp.get("/")
    section = page.html.find("section", attrs={"aria-labelledby": "my-tasks"})
    groups = {h3.get_text(" ", strip=True).split(" (")[0]:
              [a.get_text() for a in h3.find_next("ul").find_all("a")]
              for h3 in section.find_all("h3")}
    assert groups == {"Overdue": ["Late"], "Due this week": ["Soon"], "Later": ["Someday"]}
    reported = page.html.find("section", attrs={"aria-labelledby": "reported"})
    assert [a.get_text() for a in reported.find_all("a")] == ["I reported it"]
    feed = page.html.find("section", attrs={"aria-labelledby": "activity"}).get_text()
    assert "Manny Manager created #1 Late" in feed
    assert "Invisible work" not in feed
    assert "Invisible work" not in page.text


def test_comments_add_edit_delete(testapp, login_as, world, make_task, dbsession):
    task = make_task(world.project, world.manager, title="Talk")
    login_as("mia")
    page = testapp.get(f"/projects/apollo/tasks/{task.number}")
    form = find_form(page, "/comments/")
    form["body"] = "你好，*世界*"  # noqa: RUF001 - Chinese punctuation on purpose
    page = form.submit().follow()
    assert "Comment added." in page.text
    assert "你好，<em>世界</em>" in page.text  # noqa: RUF001 - Chinese punctuation on purpose
    comment = dbsession.scalar(select(Comment).where(Comment.task_id == task.id))
    assert comment.body == "你好，*世界*"  # noqa: RUF001 - Chinese punctuation on purpose

    page = testapp.get(page.html.find("a", href=lambda h: h and h.endswith("/edit")
                                      and "/comments/" in h)["href"])
    form = find_form(page, f"/comments/{comment.id}/edit")
    form["body"] = "改过了"
    page = form.submit().follow()
    assert "改过了" in page.text
    assert "(edited)" in page.text

    find_form(page, f"/comments/{comment.id}/delete").submit().follow()
    assert dbsession.scalar(select(func.count()).select_from(Comment)) == 0


def test_empty_comment_is_refused(testapp, login_as, world, make_task, dbsession):
    task = make_task(world.project, world.manager, title="Quiet")
    login_as("mia")
    form = find_form(testapp.get(f"/projects/apollo/tasks/{task.number}"), "/comments/")
    form["body"] = "   "
    page = form.submit(status=400)
    assert "This field is required." in page.text
    assert dbsession.scalar(select(func.count()).select_from(Comment)) == 0
    # The re-rendered task page links to the task, not to the comments container.
    edit = page.html.find("a", string="Edit")["href"]
    assert edit == f"http://taskdesk.test/projects/apollo/tasks/{task.number}/edit"
    assert find_form(page, "/comments/")["body"].value == "   "


def test_only_authors_edit_and_managers_delete_any_comment(testapp, login_as, world, make_task,
                                                           dbsession):
    from taskdesk.domain.comments import add_comment

    task = make_task(world.project, world.manager, title="Thread")
    comment = add_comment(dbsession, task, world.member, {"body": "mine"})
    dbsession.flush()
    base = f"/projects/apollo/tasks/{task.number}/comments/{comment.id}"
    login_as("vic")
    testapp.get(f"{base}/edit", status=403)
    testapp.post(f"{base}/delete", {"csrf_token": csrf_token(testapp)}, status=403)
    login_as("manny")
    testapp.get(f"{base}/edit", status=403)
    page = testapp.get(f"/projects/apollo/tasks/{task.number}")
    find_form(page, f"/comments/{comment.id}/delete").submit()
    assert dbsession.scalar(select(func.count()).select_from(Comment)) == 0


def test_board_filters(testapp, login_as, world, make_task):
    make_task(world.project, world.manager, title="Mine", assignee="mia")
    make_task(world.project, world.manager, title="Theirs", assignee="vic")
    login_as("mia")
    page = testapp.get("/projects/apollo/board?assignee=me")
    assert _column_titles(page, "open") == ["Mine"]
    form = find_form(page, "/projects/apollo/board", method="get")
    assert form["assignee"].value == "me"
    form["assignee"] = ""
    assert _column_titles(form.submit(), "open") == ["Theirs", "Mine"]
    page = testapp.get("/projects/apollo/board?due_before=soon", status=400)
    assert "Must be a date like 2026-12-31." in page.text


def test_comment_edit_conflict_shows_both_texts_and_saves_the_choice(
        testapp, make_testapp, login_as, world, make_task, dbsession):
    from taskdesk.domain.comments import add_comment
    from tests.support.web import login

    task = make_task(world.project, world.manager, title="Edited twice")
    comment = add_comment(dbsession, task, world.member, {"body": "first"})
    dbsession.flush()
    login_as("mia")
    other_tab = make_testapp()
    login(other_tab, "mia")
    base = f"/projects/apollo/tasks/{task.number}/comments/{comment.id}"
    form = find_form(testapp.get(f"{base}/edit"), f"{base}/edit")
    unchanged = find_form(other_tab.get(f"{base}/edit"), f"{base}/edit")
    other = find_form(other_tab.get(f"{base}/edit"), f"{base}/edit")
    other["body"] = "from another tab"
    other.submit()
    # A stale form whose text was not touched saves nothing over the newer text.
    assert "Nothing changed." in unchanged.submit().follow().text
    form["body"] = "my new words"
    page = form.submit(status=409)
    box = page.html.find(class_="conflict")
    assert "This comment was changed while you were editing it." in box.get_text()
    assert [v.get_text() for v in box.select(".conflict-value")] == [
        "first", "from another tab", "my new words"]
    assert "Changed by Mia Member" in box.get_text()
    dbsession.expire_all()
    assert dbsession.get(Comment, comment.id).body == "from another tab"
    again = find_form(page, f"{base}/edit")
    assert again["body"].value == "from another tab"  # nothing is overwritten unchosen
    again["body"] = "my new words"
    assert "Comment saved." in again.submit().follow().text
    dbsession.expire_all()
    assert dbsession.get(Comment, comment.id).body == "my new words"


def test_project_description_is_rendered_on_the_task_list(testapp, login_as, world, dbsession):
    world.project.description = "**Goal**: ship <script>alert(1)</script>"
    dbsession.flush()
    login_as("mia")
    page = testapp.get("/projects/apollo/")
    about = page.html.find("details", class_="card").find("div", class_="markdown")
    assert about.find("strong").get_text() == "Goal"
    assert about.find("script") is None


def test_board_move_form_is_for_browsers_without_javascript(testapp, login_as, world,
                                                            make_task):
    """has-js.js runs before the page is drawn and marks <html class="js">; the stylesheet
    then hides the move forms (see the browser tests for what a browser shows)."""
    make_task(world.project, world.manager, title="Card")
    login_as("mia")
    page = testapp.get("/projects/apollo/board")
    head_scripts = [s for s in page.html.head.find_all("script")]
    assert head_scripts[0]["src"].endswith("/js/has-js.js")
    assert not head_scripts[0].has_attr("defer")  # runs before the body is drawn
    assert page.html.select_one("p.no-js-only").get_text() == (
        "Choose a card's status and press Move, or move it up or down in its column.")
    assert "Drag a card" in page.html.select_one("p.js-only").get_text()
    css = testapp.get(page.html.find("link", rel="stylesheet")["href"]).text
    assert ".js .board-card:not(:focus-within) .move-form" in css


def test_long_board_columns_show_more(testapp, login_as, world, make_task, monkeypatch):
    monkeypatch.setattr("taskdesk.web.views.tasks.BOARD_CLOSED_COLUMN_SIZE", 2)
    monkeypatch.setattr("taskdesk.web.views.tasks.BOARD_COLUMN_MAX", 4)
    for number in range(5):
        make_task(world.project, world.manager, title=f"Done {number}", status="done")
    for number in range(3):
        make_task(world.project, world.manager, title=f"Open {number}")
    login_as("mia")
    page = testapp.get("/projects/apollo/board")
    assert len(_column_titles(page, "done")) == 2
    assert len(_column_titles(page, "open")) == 3  # open columns start larger
    done = page.html.find("section", attrs={"data-status": "done"})
    more = done.select_one(".board__more a[hx-get]")
    assert more.get_text(" ", strip=True) == "Show more (Done)"
    assert "cards_done=4" in more["href"]
    # With htmx the link swaps just this column in; without, it is a plain link.
    assert more["hx-get"] == more["href"]
    assert more["hx-select"] == more["hx-target"] == "#column-done"
    assert page.html.find("section", attrs={"data-status": "open"}).select_one(
        ".board__more") is None
    page = testapp.get(more["href"], headers={"HX-Request": "true"})
    assert page.html.find(id="column-done") is not None
    assert len(_column_titles(page, "done")) == 4
    done = page.html.find("section", attrs={"data-status": "done"})
    assert done.select_one(".board__more a[hx-get]") is None
    assert done.find("a", string="All 5 tasks")["href"].endswith("?status=done")
    # A limit beyond the maximum or garbage falls back to the bounds.
    assert len(_column_titles(testapp.get("/projects/apollo/board?cards_done=9999"),
                              "done")) == 4
    assert len(_column_titles(testapp.get("/projects/apollo/board?cards_done=x"),
                              "done")) == 2


def test_overdue_is_marked_on_board_list_and_task_page(testapp, login_as, world, make_task):
    """Not by colour alone: a mark and the word for screen readers. Closed tasks never are."""
    yesterday = str(utcnow().date() - timedelta(days=1))
    late = make_task(world.project, world.manager, title="Late", due_date=yesterday)
    on_time = make_task(world.project, world.manager, title="On time",
                        due_date=str(utcnow().date()))
    finished = make_task(world.project, world.manager, title="Finished", status="done",
                         due_date=yesterday)
    dropped = make_task(world.project, world.manager, title="Dropped", status="wont_do",
                        due_date=yesterday)
    login_as("mia")

    def overdue_marks(element):
        return [mark.get_text(" ", strip=True) for mark in element.select(".overdue")]

    board = testapp.get("/projects/apollo/board")
    for task, expected in ((late, 1), (on_time, 0), (finished, 0), (dropped, 0)):
        marks = overdue_marks(board.html.find("li", id=f"card-{task.number}"))
        assert len(marks) == expected, task.title
    card = board.html.find("li", id=f"card-{late.number}").select_one(".overdue")
    assert card.select_one(".visually-hidden").get_text() == "Overdue: "
    assert card.find("span", attrs={"aria-hidden": "true"}).get_text().strip() == "⚠"

    listed = testapp.get("/projects/apollo/?state=all")
    rows = {row.select_one("td:nth-of-type(2) a").get_text(): overdue_marks(row)
            for row in listed.html.select("tbody tr")}
    assert [title for title, marks in rows.items() if marks] == ["Late"]

    for task, expected in ((late, 1), (finished, 0)):
        page = testapp.get(f"/projects/apollo/tasks/{task.number}")
        assert len(overdue_marks(page.html.select_one(".task-meta"))) == expected


def test_new_users_dashboard_says_what_to_do_next(testapp, login_as, world, make_task):
    login_as("olga")  # in no project
    page = testapp.get("/")
    welcome = page.html.find("section", attrs={"aria-labelledby": "getting-started"})
    text = welcome.get_text(" ", strip=True)
    assert "You are not in any project yet" in text
    assert "olga" in text  # what to tell a manager
    assert welcome.find("a", string="Create a project")["href"].endswith("/projects/new")
    login_as("vic")  # in a project, nothing assigned
    page = testapp.get("/")
    assert page.html.find("section", attrs={"aria-labelledby": "getting-started"}) is None
    mine = page.html.find("section", attrs={"aria-labelledby": "my-tasks"})
    assert "Nothing is assigned to you." in mine.get_text()
    assert "filter the task list by assignee “none”" in mine.get_text()
    assert mine.find("a", string="Go to your projects")["href"].endswith("/projects")
    page = testapp.get("/", headers={"Accept-Language": "zh-CN"})
    mine = page.html.find("section", attrs={"aria-labelledby": "my-tasks"})
    assert "没有分配给你的任务" in mine.get_text()


def test_dashboard_activity_is_of_projects_i_hold_a_role_in_also_through_a_group(
        testapp, login_as, world, make_task, factory):
    crew = factory.group("crew", members=(world.member,))
    through_group = factory.project(world.outsider, slug="gemini", members={crew: "viewer"})
    make_task(through_group, world.outsider, title="Through the crew")
    internal = factory.project(world.outsider, slug="open-house", visibility="internal")
    make_task(internal, world.outsider, title="Seen but not mine")
    login_as("mia")
    feed = testapp.get("/").html.find("section", attrs={"aria-labelledby": "activity"})
    assert "Through the crew" in feed.get_text()
    assert "Seen but not mine" not in feed.get_text()
    assert "Seen but not mine" in testapp.get("/projects/open-house/").text


def test_comment_of_a_deleted_user_is_shown_as_such(testapp, login_as, world, make_task,
                                                     factory, dbsession):
    task = make_task(world.project, world.manager, title="Talk")
    gone = factory.user("gone", display_name="Gone Person")
    dbsession.add(Comment(task_id=task.id, author_id=gone.id, body="Before I left"))
    dbsession.flush()
    dbsession.delete(gone)
    dbsession.flush()
    login_as("mia")
    comment = testapp.get(f"/projects/apollo/tasks/{task.number}").html.select_one(".comment")
    assert "Before I left" in comment.get_text()
    assert "Deleted user" in comment.get_text()
    assert "Gone Person" not in comment.get_text()
