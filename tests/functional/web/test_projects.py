"""Projects: list, create, settings, archive, members."""

from __future__ import annotations

from sqlalchemy import func, select

from taskdesk.models import Project, ProjectMember
from tests.support.web import confirm, find_form


def test_project_list_shows_my_role_and_open_task_counts(testapp, login_as, world, factory,
                                                         make_task):
    make_task(world.project, world.manager, title="one")
    make_task(world.project, world.manager, title="two")
    make_task(world.project, world.manager, title="closed", status="done")
    other = factory.project(world.outsider, slug="secret", name="Secret")
    make_task(other, world.outsider)
    factory.project(world.outsider, slug="open-house", name="Open House", visibility="internal")
    login_as("mia")
    page = testapp.get("/projects")
    rows = {tr.find("a").get_text(): [td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in page.html.select("tbody tr")}
    assert set(rows) == {"Apollo", "Open House"}  # not the private "Secret"
    assert rows["Apollo"][1:3] == ["Member", "2"]
    assert rows["Open House"][1:3] == ["None", "0"]


def test_create_project(testapp, login_as, world, dbsession):
    login_as("mia")
    form = find_form(testapp.get("/projects/new"), "/projects/new")
    form["name"] = "发布计划"
    form["slug"] = "release-plan"
    form["description"] = "中文说明"
    response = form.submit()
    assert response.status_int == 303
    assert response.location == "http://taskdesk.test/projects/release-plan/"
    page = response.follow()
    assert "发布计划" in page.text
    assert "created" in page.text
    project = dbsession.scalar(select(Project).where(Project.slug == "release-plan"))
    assert project.name == "发布计划"
    assert project.visibility == "private"
    role = dbsession.scalar(select(ProjectMember.role).where(
        ProjectMember.project_id == project.id, ProjectMember.user_id == world.member.id))
    assert role == "manager"


def test_create_project_invalid_input_keeps_values_and_saves_nothing(testapp, login_as, world,
                                                                     dbsession):
    login_as("mia")
    before = dbsession.scalar(select(func.count()).select_from(Project))
    form = find_form(testapp.get("/projects/new"), "/projects/new")
    form["name"] = "Keep me"
    form["slug"] = "Bad Slug!"
    page = form.submit(status=400)
    assert "Use lower-case letters, digits and hyphens." in page.text
    assert find_form(page, "/projects/new")["name"].value == "Keep me"
    assert find_form(page, "/projects/new")["slug"].value == "Bad Slug!"
    assert page.html.find(id="f-slug")["aria-invalid"] == "true"
    form = find_form(page, "/projects/new")
    form["slug"] = "apollo"  # taken
    page = form.submit(status=400)
    assert "This URL name is taken." in page.text
    assert dbsession.scalar(select(func.count()).select_from(Project)) == before


def test_create_project_needs_the_permission(testapp, login_as, world, make_testapp, wsgi_app,
                                             monkeypatch):
    from dataclasses import replace

    settings = wsgi_app.registry.taskdesk_settings
    monkeypatch.setattr(wsgi_app.registry, "taskdesk_settings",
                        replace(settings, project_creators="admins"))
    login_as("mia")
    assert "New project" not in testapp.get("/projects").text
    testapp.get("/projects/new", status=403)


def test_project_settings_and_archive(testapp, login_as, world, dbsession):
    login_as("manny")
    form = find_form(testapp.get("/projects/apollo/settings"), "/settings")
    form["name"] = "Apollo 2"
    form["visibility"] = "internal"
    page = form.submit().follow()
    assert "Project settings saved." in page.text
    dbsession.expire_all()
    project = dbsession.get(Project, world.project.id)
    assert (project.name, project.visibility) == ("Apollo 2", "internal")

    form = find_form(page, "/settings")
    form["name"] = ""
    page = form.submit(status=400)
    assert "This field is required." in page.text
    dbsession.expire_all()
    assert dbsession.get(Project, world.project.id).name == "Apollo 2"

    archive = find_form(testapp.get("/projects/apollo/settings"), "/archive")
    asked = archive.submit(status=200)
    assert asked.html.select_one("h1").text == "Archive Apollo 2?"
    dbsession.expire_all()
    assert not dbsession.get(Project, world.project.id).is_archived
    page = confirm(asked).follow()
    assert "Project archived" in page.text
    assert "Archived — read-only." in page.text
    dbsession.expire_all()
    assert dbsession.get(Project, world.project.id).is_archived
    # Read-only now, even for its manager: no settings, no new tasks.
    testapp.get("/projects/apollo/settings", status=403)
    testapp.get("/projects/apollo/tasks/new", status=403)
    # The manager may undo it: the page offers "Unarchive".
    page = find_form(page, "/unarchive").submit().follow()
    assert "Project unarchived" in page.text
    dbsession.expire_all()
    assert not dbsession.get(Project, world.project.id).is_archived


def _archived_pages(testapp, task_number):
    return {
        "list": testapp.get("/projects/apollo/"),
        "board": testapp.get("/projects/apollo/board"),
        "task": testapp.get(f"/projects/apollo/tasks/{task_number}"),
        "members": testapp.get("/projects/apollo/members/"),
    }


def test_archived_project_is_read_only_for_everyone(testapp, login_as, world, dbsession,
                                                    make_task):
    """Site admins included: the pages offer no change, only "Unarchive" to those allowed."""
    task = make_task(world.project, world.manager, title="Frozen")
    world.project.is_archived = True
    dbsession.flush()
    for user, may_unarchive in (("ada", True), ("manny", True), ("mia", False)):
        login_as(user)
        for name, page in _archived_pages(testapp, task.number).items():
            assert "Archived — read-only." in page.text, (user, name)
            # Saving the filters as a private view is a bookmark of the reader's, not a change
            # of the project: offered in archived projects too (sharing one is not).
            actions = {f.action.rsplit("/", 1)[-1] for f in page.forms.values()
                       if f.method.lower() == "post" and "/projects/" in (f.action or "")
                       and not f.action.endswith("/views/")}
            assert actions == ({"unarchive"} if may_unarchive else set()), (user, name)
            assert "New task" not in page.text, (user, name)
            assert "Settings" not in [a.get_text() for a in page.html.select(".tabs a")]
        testapp.get("/projects/apollo/tasks/new", status=403)
        testapp.get("/projects/apollo/settings", status=403)
        testapp.post(f"/projects/apollo/tasks/{task.number}/status",
                     {"status": "done", "csrf_token": _token(testapp)}, status=403)
    login_as("mia")
    testapp.post("/projects/apollo/unarchive", {"csrf_token": _token(testapp)}, status=403)
    login_as("ada")
    page = find_form(testapp.get("/projects/apollo/"), "/unarchive").submit().follow()
    assert "Project unarchived" in page.text
    assert "New task" in page.text


def test_settings_forbidden_for_members(testapp, login_as, world):
    login_as("mia")
    testapp.get("/projects/apollo/settings", status=403)
    testapp.post("/projects/apollo/archive",
                 {"confirmed": "yes", "csrf_token": _token(testapp)}, status=403)


def _token(app):
    from tests.support.web import csrf_token

    return csrf_token(app)


def _role(dbsession, project, user):
    return dbsession.scalar(select(ProjectMember.role).where(
        ProjectMember.project_id == project.id, ProjectMember.user_id == user.id))


def test_members_add_change_remove(testapp, login_as, world, factory, dbsession):
    group = factory.group("support")
    login_as("manny")
    page = testapp.get("/projects/apollo/members/")
    names = [td.get_text(" ", strip=True) for td in page.html.select("tbody tr td:first-child")]
    assert any("Mia Member" in n for n in names)

    form = find_form(page, "/members/")
    form["kind"] = "user"
    form["name"] = "olga"
    form["role"] = "viewer"
    page = form.submit().follow()
    assert "Olga Outsider added as Viewer." in page.text
    assert _role(dbsession, world.project, world.outsider) == "viewer"

    form = find_form(page, "/members/")
    form["kind"] = "group"
    form["name"] = "support"
    form["role"] = "reporter"
    form.submit().follow()
    assert dbsession.scalar(select(ProjectMember.role).where(
        ProjectMember.project_id == world.project.id, ProjectMember.group_id == group.id)
    ) == "reporter"

    page = testapp.get("/projects/apollo/members/")
    change = next(f for f in page.forms.values() if f.action.endswith("/members/user:olga"))
    change["role"] = "member"
    assert "Role changed." in change.submit().follow().text
    assert _role(dbsession, world.project, world.outsider) == "member"

    page = testapp.get("/projects/apollo/members/")
    remove = next(f for f in page.forms.values()
                  if f.action.endswith("/members/user:olga/remove"))
    asked = remove.submit(status=200)
    assert asked.html.select_one("h1").text == "Remove Olga Outsider from Apollo?"
    assert _role(dbsession, world.project, world.outsider) == "member"
    assert "Member removed." in confirm(asked).follow().text
    assert _role(dbsession, world.project, world.outsider) is None


def test_members_invalid_input(testapp, login_as, world, dbsession):
    login_as("manny")
    form = find_form(testapp.get("/projects/apollo/members/"), "/members/")
    form["name"] = "nobody-here"
    page = form.submit(status=400)
    assert "No one has the username or display name nobody-here." in page.text
    assert find_form(page, "/members/")["name"].value == "nobody-here"
    count = dbsession.scalar(select(func.count()).select_from(ProjectMember).where(
        ProjectMember.project_id == world.project.id))
    assert count == 3


def test_last_manager_cannot_leave_or_be_demoted(testapp, login_as, world, dbsession):
    login_as("manny")
    page = testapp.get("/projects/apollo/members/")
    remove = next(f for f in page.forms.values()
                  if f.action.endswith("/members/user:manny/remove"))
    page = confirm(remove.submit()).follow()
    assert "A project needs at least one manager." in page.text
    change = next(f for f in page.forms.values() if f.action.endswith("/members/user:manny"))
    change["role"] = "viewer"
    assert "A project needs at least one manager." in change.submit().follow().text
    assert _role(dbsession, world.project, world.manager) == "manager"


def test_members_page_read_only_for_members(testapp, login_as, world):
    login_as("mia")
    page = testapp.get("/projects/apollo/members/")
    assert "Add a member" not in page.text
    assert not [f for f in page.forms.values() if "/members/" in (f.action or "")]
    testapp.post("/projects/apollo/members/",
                 {"kind": "user", "name": "olga", "role": "manager",
                  "csrf_token": _token(testapp)}, status=403)
    testapp.post("/projects/apollo/members/user:vic/remove",
                 {"csrf_token": _token(testapp)}, status=403)


def test_a_slug_naming_a_page_is_refused_and_the_page_stays_reachable(testapp, login_as, world,
                                                                     dbsession):
    login_as("mia")
    form = find_form(testapp.get("/projects/new"), "/projects/new")
    form["name"] = "New things"
    form["slug"] = "new"
    page = form.submit(status=400)
    assert "This URL name is reserved for a page of the site." in page.text
    assert page.html.find(id="f-slug")["aria-invalid"] == "true"
    assert dbsession.scalar(select(Project).where(Project.slug == "new")) is None
    assert find_form(testapp.get("/projects/new"), "/projects/new")["slug"].value == ""
