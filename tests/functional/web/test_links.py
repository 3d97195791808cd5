"""Links between tasks on the web: the task page's Links section (add, remove, refusals), the
"Blocked by" notice, the blocked badge and filter of the list and board, the history."""

from __future__ import annotations

from sqlalchemy import func, select

from taskdesk.models import TaskLink
from tests.support.web import find_form, flashes, list_titles


def _task_page(testapp, number, project="apollo"):
    return testapp.get(f"/projects/{project}/tasks/{number}")


def _add(testapp, number, kind, reference):
    page = _task_page(testapp, number)
    form = find_form(page, f"/tasks/{number}/links/")
    form["kind"] = kind
    form["task"] = reference
    return form.submit().follow()


def _links_text(page):
    section = page.html.select_one("#links")
    return " ".join(section.get_text(" ").split()) if section else ""


def test_add_and_remove_links_with_the_form(testapp, login_as, world, make_task, dbsession):
    one = make_task(world.project, world.manager, title="Write the spec")
    two = make_task(world.project, world.manager, title="Build it")
    login_as("mia")
    page = _add(testapp, two.number, "blocked_by", f"#{one.number}")
    assert ("success", "Link added.") in flashes(page)
    text = _links_text(page)
    assert f"Blocked by #{one.number} Write the spec" in text
    # The notice at the top of the page, linking to the blocker.
    notice = page.html.select_one(".notice--blocked")
    assert notice is not None
    assert "Write the spec" in notice.get_text()
    assert notice.select_one("a")["href"].endswith(f"/projects/apollo/tasks/{one.number}")
    # The other side shows the inverse, and no notice (it blocks, it is not blocked).
    other = _task_page(testapp, one.number)
    assert f"Blocks #{two.number} Build it" in _links_text(other)
    assert other.html.select_one(".notice--blocked") is None
    # Both histories say so.
    assert f"Mia Member added a link: Blocked by #{one.number}" in page.html.select_one(
        ".history").get_text(" ")
    assert f"Mia Member added a link: Blocks #{two.number}" in other.html.select_one(
        ".history").get_text(" ")
    # Remove it from the blocker's side.
    form = find_form(other, "/delete")
    assert "/links/" in form.action
    page = form.submit().follow()
    assert ("success", "Link removed.") in flashes(page)
    assert "No links to other tasks." in _links_text(page)
    assert dbsession.scalar(select(func.count()).select_from(TaskLink)) == 0
    assert "Mia Member removed a link: Blocks" in page.html.select_one(".history").get_text(" ")


def test_refusals_are_told_and_change_nothing(testapp, login_as, world, make_task, dbsession):
    one = make_task(world.project, world.manager, title="One")
    two = make_task(world.project, world.manager, title="Two")
    login_as("mia")
    page = _add(testapp, one.number, "blocks", f"#{one.number}")
    assert ("error", "A task cannot be linked to itself.") in flashes(page)
    page = _add(testapp, one.number, "blocks", "#999")
    assert ("error", "There is no task apollo#999 that you can see.") in flashes(page)
    page = _add(testapp, one.number, "blocks", "not a task")
    assert ("error", "Give the task as #12 or project#12.") in flashes(page)
    _add(testapp, one.number, "blocks", f"#{two.number}")
    page = _add(testapp, one.number, "blocks", f"apollo#{two.number}")
    assert ("error", "These tasks are linked so already.") in flashes(page)
    page = _add(testapp, two.number, "blocks", f"#{one.number}")
    assert ("error", "This would make a cycle: the other task already depends on this one."
            ) in flashes(page)
    assert dbsession.scalar(select(func.count()).select_from(TaskLink)) == 1


def test_viewers_see_links_without_forms(testapp, login_as, world, make_task, factory):
    one = make_task(world.project, world.manager, title="One")
    two = make_task(world.project, world.manager, title="Two")
    login_as("mia")
    _add(testapp, one.number, "relates_to", f"#{two.number}")
    testapp.post("/logout", {"csrf_token": find_form(_task_page(testapp, 1), "/logout")[
        "csrf_token"].value})
    login_as("vic")
    page = _task_page(testapp, one.number)
    assert f"Relates to #{two.number} Two" in _links_text(page)
    section = page.html.select_one("#links")
    assert section.select("form") == []


def test_links_to_other_projects_visible_and_hidden(testapp, login_as, world, make_task,
                                                    factory, dbsession, signed_in):
    """A link to a task of a project the viewer may not see is not shown, does not block,
    and its history entry does not name it."""
    mine = make_task(world.project, world.manager, title="Mine")
    secret = factory.project(world.manager, slug="secret", name="Secret")
    hidden = make_task(secret, world.manager, title="Hidden blocker")
    shared = factory.project(world.manager, slug="shared", name="Shared",
                             members={world.member: "viewer"})
    seen = make_task(shared, world.manager, title="Seen elsewhere")
    boss = signed_in("manny")
    _add(boss, mine.number, "blocked_by", f"secret#{hidden.number}")
    _add(boss, mine.number, "relates_to", f"shared#{seen.number}")
    page = _task_page(boss, mine.number)
    assert "Hidden blocker" in page.html.select_one(".notice--blocked").get_text()
    assert f"shared#{seen.number}" in _links_text(page)

    login_as("mia")
    page = _task_page(testapp, mine.number)
    text = _links_text(page)
    assert f"Relates to shared#{seen.number} Seen elsewhere" in text
    assert "Shared" in text  # the other project's name
    assert "Hidden" not in page.text
    assert "secret" not in page.text
    assert page.html.select_one(".notice--blocked") is None
    assert "(1)" in page.html.select_one("#links-heading").get_text()
    # The history names the visible task of another project, and leaves out the hidden one.
    history = " ".join(page.html.select_one(".history").get_text(" ").split())
    assert f"Manny Manager added a link: Relates to shared#{seen.number}" in history
    assert history.count("added a link") == 1
    boss_history = _task_page(boss, mine.number).html.select_one(".history").get_text(" ")
    assert f"Blocked by secret#{hidden.number}" in " ".join(boss_history.split())
    # Nor may it be linked to, or told apart from a missing task.
    page = _add(testapp, mine.number, "blocks", f"secret#{hidden.number}")
    assert ("error", f"There is no task secret#{hidden.number} that you can see.") in flashes(
        page)
    # The list's badge and filter count only blockers the viewer may see.
    assert list_titles(testapp.get("/projects/apollo/?blocked=true")) == []
    assert list_titles(boss.get("/projects/apollo/?blocked=true")) == ["Mine"]


def test_blocked_badge_and_filter_on_the_list_and_board(testapp, login_as, world, make_task):
    blocker = make_task(world.project, world.manager, title="Blocker")
    blocked = make_task(world.project, world.manager, title="Waiting")
    make_task(world.project, world.manager, title="Free")
    login_as("mia")
    _add(testapp, blocked.number, "blocked_by", f"#{blocker.number}")
    page = testapp.get("/projects/apollo/")
    badged = [row.select_one("a").get_text() for row in page.html.select("tbody tr")
              if row.select_one(".badge--blocked")]
    assert badged == ["Waiting"]
    assert list_titles(testapp.get("/projects/apollo/?blocked=true")) == ["Waiting"]
    assert list_titles(testapp.get("/projects/apollo/?blocked=false")) == ["Free", "Blocker"]
    form = find_form(page, "/projects/apollo/", method="get")
    assert [option[0] for option in form["blocked"].options] == ["", "true", "false"]
    page = testapp.get("/projects/apollo/?blocked=maybe", status=400)
    assert "Must be true or false." in page.text
    board = testapp.get("/projects/apollo/board")
    cards = {card.select_one(".board-card__title").get_text(): bool(
        card.select_one(".badge--blocked")) for card in board.html.select(".board-card")}
    assert cards == {"Blocker": False, "Waiting": True, "Free": False}
    board = testapp.get("/projects/apollo/board?blocked=true")
    assert [c.get_text() for c in board.html.select(".board-card__title")] == ["Waiting"]
    # A done blocker blocks no more.
    page = _task_page(testapp, blocker.number)
    form = find_form(page, f"/tasks/{blocker.number}/status")
    form["status"] = "done"
    form.submit()
    assert list_titles(testapp.get("/projects/apollo/?blocked=true")) == []
    page = _task_page(testapp, blocked.number)
    assert page.html.select_one(".notice--blocked") is None
    assert "Blocked by" in _links_text(page)  # still linked, shown as done
    assert page.html.select_one("#links .badge--done") is not None


def test_links_page_leads_to_the_task(testapp, login_as, world, make_task):
    task = make_task(world.project, world.manager)
    login_as("vic")
    answer = testapp.get(f"/projects/apollo/tasks/{task.number}/links/", status=303)
    assert answer.location.endswith(f"/projects/apollo/tasks/{task.number}/#links")


def _count(testapp, count_statements, path):
    testapp.get(path)  # warm caches (templates, compiled statements)
    with count_statements() as statements:
        testapp.get(path)
    return len(statements)


def test_statements_do_not_grow_with_links(testapp, login_as, world, make_task, factory,
                                           count_statements, signed_in):
    """The task page reads its links in one statement; the list and board say "blocked" in
    the statement that reads their tasks (the counts of test_query_counts.py)."""
    elsewhere = factory.project(world.manager, slug="elsewhere", name="Elsewhere",
                                members={world.member: "viewer"})
    hidden = factory.project(world.manager, slug="hidden", name="Hidden")
    task = make_task(world.project, world.manager, title="Linked a lot")
    login_as("mia")
    paths = {"page": f"/projects/apollo/tasks/{task.number}", "list": "/projects/apollo/",
             "board": "/projects/apollo/board"}
    before = {name: _count(testapp, count_statements, path) for name, path in paths.items()}
    # The list and board read their saved-view tabs in one more statement.
    assert before == {"page": 11, "list": 8, "board": 8}
    boss = signed_in("manny")
    for project in (world.project, elsewhere, hidden):
        for kind in ("blocked_by", "relates_to", "duplicates"):
            other = make_task(project, world.manager)
            _add(boss, task.number, kind, f"{project.slug}#{other.number}")
    after = {name: _count(testapp, count_statements, path) for name, path in paths.items()}
    assert after == before
