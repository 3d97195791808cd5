"""Sub-tasks and checklists on the web: the task page, the form's parent, quick add, the
delete confirmation, ticking checklist items (stale ticks refused), and the list and board
showing or hiding sub-tasks."""

from __future__ import annotations

from taskdesk.models import Task
from tests.support.web import confirm, field_errors, find_form, flashes, list_titles, reload_task

CHECKLIST = "Before release:\n\n- [x] Tests pass\n- [ ] Notes written\n- [ ] Tag pushed"


def _rows(page):
    return [tr.get_text(" ", strip=True) for tr in page.html.select("tbody tr")]


def test_task_page_shows_subtasks_progress_and_parent(testapp, login_as, world, make_task):
    parent = make_task(world.project, world.manager, title="Release 2.0")
    make_task(world.project, world.manager, title="Write notes", parent=str(parent.number),
              status="done")
    make_task(world.project, world.manager, title="Push tag", parent=str(parent.number),
              description="- [x] a\n- [ ] b")
    login_as("mia")
    page = testapp.get(f"/projects/apollo/tasks/{parent.number}")
    section = page.html.find(id="subtasks")
    assert section.h2.get_text(" ", strip=True) == "Sub-tasks 1 of 2 done"
    items = [li.get_text(" ", strip=True) for li in section.select(".subtask-list li")]
    assert items == ["#2 Write notes Done", "#3 Push tag ☑ 1/2 Open"]
    child_page = testapp.get("/projects/apollo/tasks/2")
    assert child_page.html.find(class_="parent-line").get_text(" ", strip=True) == (
        "Sub-task of #1 Release 2.0")
    # A sub-task has no sub-tasks: no such section, nor an "Add sub-task" there.
    assert child_page.html.find(id="subtasks") is None


def test_quick_add_subtask(testapp, login_as, world, make_task, dbsession):
    parent = make_task(world.project, world.manager, title="Parent")
    login_as("mia")
    page = testapp.get(f"/projects/apollo/tasks/{parent.number}")
    form = find_form(page, "/subtasks/")
    form["title"] = "新的子任务"
    page = form.submit().follow()
    assert flashes(page) == [("success", "Sub-task #2 added.")]
    assert "新的子任务" in page.html.find(id="subtasks").get_text()
    assert reload_task(dbsession, world.project, 2).parent_id == parent.id
    # A blank title is refused with its message, and nothing is created.
    form = find_form(page, "/subtasks/")
    form["title"] = " "
    page = form.submit().follow()
    assert flashes(page) == [("error", "This field is required.")]
    assert reload_task(dbsession, world.project, 3) is None
    # A viewer may not add one: no form.
    login_as("vic")
    page = testapp.get(f"/projects/apollo/tasks/{parent.number}")
    assert not [f for f in page.forms.values() if (f.action or "").endswith("/subtasks/")]


def test_form_sets_parent_and_refuses_a_cycle(testapp, login_as, world, make_task, dbsession):
    a = make_task(world.project, world.manager, title="A")
    b = make_task(world.project, world.manager, title="B")
    login_as("mia")
    form = find_form(testapp.get(f"/projects/apollo/tasks/{b.number}/edit"), "/edit")
    # The parent field offers the other top-level tasks.
    options = testapp.get(f"/projects/apollo/tasks/{b.number}/edit").html.select(
        "#parent-choices option")
    assert [o["value"] for o in options] == [str(a.number)]
    form["parent"] = f"#{a.number}"
    page = form.submit().follow()
    assert flashes(page) == [("success", "Task #2 saved.")]
    assert reload_task(dbsession, world.project, b.number).parent_id == a.id
    # B is a sub-task now: C cannot become B's sub-task (no chains, so no cycles).
    c = make_task(world.project, world.manager, title="C")
    form = find_form(testapp.get(f"/projects/apollo/tasks/{c.number}/edit"), "/edit")
    form["parent"] = str(b.number)
    page = form.submit(status=400)
    assert field_errors(page)["parent"] == (
        "#2 is a sub-task itself; sub-tasks cannot have sub-tasks.")
    assert reload_task(dbsession, world.project, c.number).parent_id is None
    # A has a sub-task: its form offers no parent at all.
    page = testapp.get(f"/projects/apollo/tasks/{a.number}/edit")
    assert page.html.find(id="f-parent") is None
    # A number from nowhere.
    form = find_form(testapp.get(f"/projects/apollo/tasks/{b.number}/edit"), "/edit")
    form["parent"] = "99"
    assert field_errors(form.submit(status=400))["parent"] == (
        "There is no task #99 in this project.")


def test_delete_confirmation_names_the_subtasks(testapp, login_as, world, make_task,
                                                dbsession):
    parent = make_task(world.project, world.manager, title="Parent")
    make_task(world.project, world.manager, title="Child", parent=str(parent.number))
    make_task(world.project, world.manager, title="Other")
    login_as("manny")
    page = testapp.get(f"/projects/apollo/tasks/{parent.number}/delete")
    assert ("The task, its 1 sub-tasks (#2), their comments and their history are deleted "
            "for good.") in page.text
    confirm(page)
    assert reload_task(dbsession, world.project, 1) is None
    assert reload_task(dbsession, world.project, 2) is None
    assert reload_task(dbsession, world.project, 3) is not None


def test_tick_a_checklist_item(testapp, login_as, world, make_task, dbsession):
    task = make_task(world.project, world.manager, title="Release", description=CHECKLIST)
    login_as("mia")
    page = testapp.get(f"/projects/apollo/tasks/{task.number}")
    assert page.html.find(class_="checklist-progress").get_text(strip=True) == (
        "Checklist: 1 of 3 done")
    form = find_form(page, "/checklist")
    boxes = page.html.select("#description input[type=checkbox]")
    assert [(b.get("value"), b.has_attr("checked")) for b in boxes] == [
        ("0", True), ("1", False), ("2", False)]
    assert form["version"].value == "1"
    # One click (htmx sends the whole form on "change"; here as a browser without it).
    form.get("item", index=1).checked = True
    page = form.submit().follow()
    assert flashes(page) == [("success", "Checklist of #1 saved.")]
    row = reload_task(dbsession, world.project, task.number)
    assert row.description == CHECKLIST.replace("- [ ] Notes", "- [x] Notes")
    assert (row.checklist_done, row.checklist_total, row.version) == (2, 3, 2)
    # The history says the description changed, as for any edit.
    history = page.html.find("ol", class_="history").get_text(" ", strip=True)
    assert "Mia Member changed the task" in history


def test_a_stale_tick_is_refused(testapp, login_as, world, make_task, dbsession, signed_in):
    task = make_task(world.project, world.manager, title="Release", description=CHECKLIST)
    login_as("mia")
    stale = find_form(testapp.get(f"/projects/apollo/tasks/{task.number}"), "/checklist")
    other = signed_in("manny")
    fresh = find_form(other.get(f"/projects/apollo/tasks/{task.number}"), "/checklist")
    fresh.get("item", index=2).checked = True
    fresh.submit()
    stale.get("item", index=1).checked = True
    page = stale.submit().follow()
    assert flashes(page) == [("error", "Task #1 was changed by someone else meanwhile; "
                              "nothing was saved. Here is its current state.")]
    row = reload_task(dbsession, world.project, task.number)
    assert row.description == CHECKLIST.replace("- [ ] Tag", "- [x] Tag")
    assert row.version == 2


def test_readers_see_disabled_boxes(testapp, login_as, world, make_task):
    task = make_task(world.project, world.manager, title="Release", description=CHECKLIST)
    login_as("vic")
    page = testapp.get(f"/projects/apollo/tasks/{task.number}")
    boxes = page.html.select("#description input[type=checkbox]")
    assert len(boxes) == 3
    assert all(b.has_attr("disabled") for b in boxes)
    assert not [f for f in page.forms.values() if (f.action or "").endswith("/checklist")]


def test_list_and_board_show_or_hide_subtasks(testapp, login_as, world, make_task):
    parent = make_task(world.project, world.manager, title="Parent", description=CHECKLIST)
    make_task(world.project, world.manager, title="Child", parent=str(parent.number))
    login_as("mia")
    page = testapp.get("/projects/apollo/")
    assert list_titles(page) == ["Child", "Parent"]
    assert _rows(page)[0].startswith("2 Child ↳ #1 Parent")
    assert "☑ 1/3" in _rows(page)[1]
    page = testapp.get("/projects/apollo/?subtasks=hide")
    assert list_titles(page) == ["Parent"]
    # The filter form keeps the choice, so it stays in every link and bookmark.
    assert find_form(page, "/projects/apollo/", method="get")["subtasks"].value == "hide"
    assert list_titles(testapp.get("/projects/apollo/?subtasks=only")) == ["Child"]

    board = testapp.get("/projects/apollo/board")
    cards = [c.get_text(" ", strip=True) for c in board.html.select(".board-card")]
    assert any("Child ↳ #1 Parent" in c for c in cards)
    assert any("Parent ☑ 1/3" in c for c in cards)
    board = testapp.get("/projects/apollo/board?subtasks=hide")
    titles = [a.get_text() for a in board.html.select(".board-card__title")]
    assert titles == ["Parent"]
    assert find_form(board, "/board", method="get")["subtasks"].value == "hide"


def test_moving_a_parent_leaves_subtasks_alone(testapp, login_as, world, make_task,
                                               dbsession):
    parent = make_task(world.project, world.manager, title="Parent")
    make_task(world.project, world.manager, title="Child", parent=str(parent.number))
    login_as("mia")
    form = find_form(testapp.get("/projects/apollo/tasks/1"), "/status")
    form["status"] = "done"
    form.submit()
    child = dbsession.get(Task, reload_task(dbsession, world.project, 2).id)
    assert (child.status, child.version) == ("open", 1)
