"""The board's order, swimlanes and WIP limits, as people use them in the web UI."""

from __future__ import annotations

from sqlalchemy import select

from taskdesk.models import Activity, Project, Task
from tests.support.web import csrf_token, field_errors, find_form, flashes, post


def _titles(page, status):
    column = page.html.find("section", attrs={"data-status": status})
    return [a.get_text() for a in column.select(".board-card__title")]


def _fresh(dbsession, task):
    dbsession.expire_all()
    return dbsession.get(Task, task.id)


def _move(testapp, task, **data):
    """A move as board.js sends it (htmx, with the CSRF header), followed to the board."""
    return testapp.post(
        f"/projects/apollo/tasks/{task.number}/move",
        {"next": "/projects/apollo/board", **{k: str(v) for k, v in data.items()}},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_token(testapp)},
    ).follow(headers={"HX-Request": "true"})


def test_new_tasks_go_on_top_and_cards_move_up_and_down_without_javascript(
        testapp, login_as, world, make_task, dbsession):
    first, second, third = (make_task(world.project, world.manager, title=title)
                            for title in ("First", "Second", "Third"))
    login_as("mia")
    page = testapp.get("/projects/apollo/board")
    assert _titles(page, "open") == ["Third", "Second", "First"]
    # The top card cannot move up, the last one not down.
    top = page.html.find("li", id=f"card-{third.number}").select_one("form.move-form")
    assert [b.get_text() for b in top.find_all("button")] == ["Move", "Move down"]
    form = find_form(page, f"/tasks/{third.number}/move")
    page = form.submit("after", value=str(second.number)).follow()
    assert _titles(page, "open") == ["Second", "Third", "First"]
    assert ("success", f"#{third.number} moved.") in flashes(page)
    page = find_form(page, f"/tasks/{first.number}/move").submit(
        "before", value=str(third.number)).follow()
    assert _titles(page, "open") == ["Second", "First", "Third"]
    # Kept: the order is the project's, for everyone.
    login_as("manny")
    assert _titles(testapp.get("/projects/apollo/board"), "open") == ["Second", "First", "Third"]
    # Ordering is not a change of the task: no new version, no history entry.
    assert _fresh(dbsession, third).version == 1
    assert dbsession.scalar(select(Activity.id).where(
        Activity.task_id == third.id, Activity.action == "task.updated")) is None


def test_a_move_to_another_column_is_a_status_change_in_place(
        testapp, login_as, world, make_task, dbsession):
    cards = [make_task(world.project, world.manager, title=f"Doing {n}", status="in_progress")
             for n in (1, 2)]
    moved = make_task(world.project, world.manager, title="Moved")
    login_as("mia")
    page = _move(testapp, moved, status="in_progress", after=cards[1].number,
                 version=moved.version)
    assert _titles(page, "in_progress") == ["Doing 2", "Moved", "Doing 1"]
    assert _titles(page, "open") == []
    assert f"#{moved.number} moved to In progress." in page.text
    task = _fresh(dbsession, moved)
    assert (task.status, task.version) == ("in_progress", 2)
    changes = dbsession.scalars(select(Activity.changes).where(
        Activity.task_id == moved.id, Activity.action == "task.updated")).all()
    assert changes == [{"status": ["open", "in_progress"]}]
    # To the top of a column, with neither neighbour given; a stale version changes nothing.
    page = _move(testapp, moved, status="blocked", version=1)
    assert "changed by someone else meanwhile" in page.text
    assert _fresh(dbsession, moved).status == "in_progress"
    page = _move(testapp, moved, status="done", version=2)
    assert _titles(page, "done") == ["Moved"]


def test_a_task_whose_status_changes_elsewhere_goes_on_top(testapp, login_as, world,
                                                           make_task):
    make_task(world.project, world.manager, title="Waiting", status="blocked")
    task = make_task(world.project, world.manager, title="Now blocked")
    login_as("mia")
    # The task page's status form.
    form = find_form(testapp.get(f"/projects/apollo/tasks/{task.number}"), "/status")
    form["status"] = "blocked"
    form.submit()
    page = testapp.get("/projects/apollo/board")
    assert _titles(page, "blocked") == ["Now blocked", "Waiting"]


def test_bad_moves_say_why_and_change_nothing(testapp, login_as, world, make_task, dbsession):
    task = make_task(world.project, world.manager, title="Card")
    other = make_task(world.project, world.manager, title="Elsewhere", status="done")
    login_as("mia")
    for data, message in (
        ({"after": other.number}, f"Task #{other.number} is not in that column (any more)."),
        ({"after": 999}, "There is no task #999 in this project."),
        ({"after": task.number}, "A task cannot be moved next to itself."),
        ({"after": other.number, "before": other.number},
         "Give either after or before, not both."),
        ({"status": "nonsense"}, "Must be one of"),
    ):
        page = _move(testapp, task, **data)
        assert message in page.text, data
    assert (_fresh(dbsession, task).status, _fresh(dbsession, task).version) == ("open", 1)


def test_viewers_cannot_order_the_board(testapp, login_as, world, make_task):
    task = make_task(world.project, world.manager, title="Card")
    login_as("vic")
    page = testapp.get("/projects/apollo/board")
    assert page.html.select("form.move-form") == []
    post(testapp, f"/projects/apollo/tasks/{task.number}/move", {"status": "done"},
         status=403)


def test_wip_limits_are_set_in_the_settings_and_shown_on_the_board(
        testapp, login_as, world, make_task, dbsession):
    for n in range(3):
        make_task(world.project, world.manager, title=f"Doing {n}", status="in_progress")
    extra = make_task(world.project, world.manager, title="One more")
    login_as("manny")
    form = find_form(testapp.get("/projects/apollo/settings"), "/settings")
    for value in ("0", "x", "-1", "10000"):
        form["wip_in_progress"] = value
        page = form.submit(status=400)
        assert field_errors(page)["wip_limits"] == (
            "Use whole numbers from 1 to 9999, or nothing for no limit.")
        assert page.html.find("input", id="f-wip_in_progress")["value"] == value
    form["wip_in_progress"] = "3"
    form["wip_blocked"] = " 5 "
    form.submit().follow()
    dbsession.expire_all()
    assert dbsession.get(Project, world.project.id).wip_limits == {
        "in_progress": 3, "blocked": 5}
    settings = testapp.get("/projects/apollo/settings")
    assert settings.html.find("input", id="f-wip_in_progress")["value"] == "3"
    assert settings.html.find("input", id="f-wip_open")["value"] == ""

    board = testapp.get("/projects/apollo/board")
    column = board.html.find("section", attrs={"data-status": "in_progress"})
    assert column.find("h2").get_text(" ", strip=True) == "In progress 3 / 3"
    assert "is-over-limit" not in column["class"]
    # A move past the limit is made, with a warning; the column says it is over.
    page = _move(testapp, extra, status="in_progress", version=1)
    assert _titles(page, "in_progress")[0] == "One more"
    assert ("warning", "In progress now holds more than its WIP limit of 3 tasks.") in \
        flashes(page)
    column = page.html.find("section", attrs={"data-status": "in_progress"})
    assert "is-over-limit" in column["class"]
    assert column.find("h2").get_text(" ", strip=True) == "In progress 4 / 3"
    assert column.select_one(".board__over").get_text() == "Over the WIP limit"
    # Emptying a field removes the limit.
    form = find_form(testapp.get("/projects/apollo/settings"), "/settings")
    form["wip_in_progress"] = ""
    form.submit().follow()
    dbsession.expire_all()
    assert dbsession.get(Project, world.project.id).wip_limits == {"blocked": 5}


def test_members_cannot_set_wip_limits(testapp, login_as, world):
    login_as("mia")
    post(testapp, "/projects/apollo/settings", {"wip_open": "2"}, status=403)


def test_swimlanes_by_assignee_and_by_priority(testapp, login_as, world, make_task):
    make_task(world.project, world.manager, title="Mia's", assignee="mia", priority="high")
    make_task(world.project, world.manager, title="Mia's done", assignee="mia", status="done",
              priority="low")
    make_task(world.project, world.manager, title="Manny's", assignee="manny",
              priority="high")
    make_task(world.project, world.manager, title="Nobody's", priority="urgent")
    login_as("mia")
    page = testapp.get("/projects/apollo/board?lanes=assignee")
    lanes = page.html.select("section.board-lane")
    assert [lane.find("h2").get_text(" ", strip=True) for lane in lanes] == [
        "Manny Manager 1", "Mia Member 2", "Unassigned 1"]
    mia = lanes[1]
    cells = {cell["data-status"]: [a.get_text() for a in cell.select(".board-card__title")]
             for cell in mia.select("section[data-status]")}
    assert cells == {"open": ["Mia's"], "in_progress": [], "blocked": [], "done": ["Mia's done"],
                     "wont_do": []}
    # The column headings (totals) are shown once, above the lanes; the control keeps its
    # choice, and the filters apply inside the lanes.
    assert [h.get_text(" ", strip=True) for h in page.html.select(".board__heads h2")][:1] == [
        "Open 3"]
    assert page.html.find("select", id="f-lanes").find("option", selected=True)["value"] == (
        "assignee")
    page = testapp.get("/projects/apollo/board?lanes=priority")
    assert [lane.find("h2").get_text(" ", strip=True)
            for lane in page.html.select("section.board-lane")] == [
        "Urgent 1", "High 2", "Low 1"]  # no "Medium" lane: it would be empty
    page = testapp.get("/projects/apollo/board?lanes=priority&assignee=me")
    assert [lane.find("h2").get_text(" ", strip=True)
            for lane in page.html.select("section.board-lane")] == ["High 1", "Low 1"]
    # Unknown values: no swimlanes.
    page = testapp.get("/projects/apollo/board?lanes=nonsense")
    assert page.html.select("section.board-lane") == []
    assert _titles(page, "open") == ["Nobody's", "Manny's", "Mia's"]


def test_board_statement_counts_with_swimlanes_and_limits_are_constant(
        testapp, login_as, world, make_task, dbsession, count_statements):
    world.project.wip_limits = {"open": 2}
    dbsession.flush()
    login_as("manny")

    def count(path):
        testapp.get(path)
        with count_statements() as statements:
            testapp.get(path)
        return len(statements)

    for n in range(3):
        make_task(world.project, world.manager, title=f"Small {n}", assignee="mia")
    small = [count("/projects/apollo/board?lanes=assignee"),
             count("/projects/apollo/board?lanes=priority")]
    for n in range(30):
        make_task(world.project, world.manager, title=f"Large {n}",
                  assignee=("mia", "manny", None)[n % 3], priority=("low", "high")[n % 2])
    large = [count("/projects/apollo/board?lanes=assignee"),
             count("/projects/apollo/board?lanes=priority")]
    # The board's 7, plus one for the saved-view tabs.
    assert small == large == [8, 8]


def test_the_task_list_sorts_by_board_order(testapp, login_as, world, make_task):
    older = make_task(world.project, world.manager, title="Older")
    make_task(world.project, world.manager, title="Newer")
    login_as("manny")
    page = testapp.get("/projects/apollo/?sort=rank")
    assert [row.select("td")[1].a.get_text() for row in page.html.select("tbody tr")] == [
        "Newer", "Older"]
    assert page.html.find("select", id="f-sort").find("option", selected=True)["value"] == (
        "rank")
    _move(testapp, older, before=2)
    page = testapp.get("/projects/apollo/?sort=rank")
    assert [row.select("td")[1].a.get_text() for row in page.html.select("tbody tr")] == [
        "Older", "Newer"]
