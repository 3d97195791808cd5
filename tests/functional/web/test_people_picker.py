"""People are picked, not typed: person fields take a username or an exact display name, and
suggest people from JSON views that show nobody the caller could not otherwise find."""

from __future__ import annotations

from sqlalchemy import select

from taskdesk.models import GroupMember, ProjectMember
from tests.support.web import field_errors, find_form, flashes, list_titles, reload_task


def _add_lina(factory, world, role="member"):
    lina = factory.user("lina", display_name="李娜")
    factory.dbsession.add(ProjectMember(project_id=world.project.id, user_id=lina.id, role=role))
    factory.dbsession.flush()
    return lina


def _people(response):
    return [person["username"] for person in response.json["people"]]


# -- forms ------------------------------------------------------------------------------------
def test_assign_by_exact_display_name_in_the_task_form(testapp, login_as, world, factory,
                                                      dbsession):
    _add_lina(factory, world)
    login_as("mia")
    form = find_form(testapp.get("/projects/apollo/tasks/new"), "/tasks/new")
    form["title"] = "修复登录"
    form["assignee"] = " 李娜 "
    form.submit(status=303)
    task = reload_task(dbsession, world.project, 1)
    assert task.assignee_id == dbsession.scalar(select(ProjectMember.user_id).where(
        ProjectMember.project_id == world.project.id, ProjectMember.role == "member",
        ProjectMember.user_id != world.member.id))
    # The edit form shows the username and who it is; another display name, any case.
    page = testapp.get("/projects/apollo/tasks/1/edit")
    form = find_form(page, "/edit")
    assert form["assignee"].value == "lina"
    assert page.html.select_one("#assignee-chosen").get_text() == "Chosen: 李娜"
    form["assignee"] = "mia member"
    form.submit(status=303)
    assert reload_task(dbsession, world.project, 1).assignee_id == world.member.id


def test_unknown_and_ambiguous_names_are_form_errors(testapp, login_as, world, factory,
                                                    dbsession):
    _add_lina(factory, world)
    twin = factory.user("lina2", display_name="李娜")
    login_as("mia")
    form = find_form(testapp.get("/projects/apollo/tasks/new"), "/tasks/new")
    form["title"] = "x"
    form["assignee"] = "李"
    page = form.submit(status=400)
    assert field_errors(page) == {"assignee": "No one has the username or display name 李."}
    assert find_form(page, "/tasks/new")["assignee"].value == "李"
    # Two people are called 李娜, but only one may be assigned here: that one is meant.
    form = find_form(page, "/tasks/new")
    form["assignee"] = "李娜"
    form.submit(status=303)
    # Once both may be assigned, the name is ambiguous.
    dbsession.add(ProjectMember(project_id=world.project.id, user_id=twin.id, role="member"))
    dbsession.flush()
    form = find_form(testapp.get("/projects/apollo/tasks/new"), "/tasks/new")
    form["title"] = "y"
    form["assignee"] = "李娜"
    page = form.submit(status=400)
    assert field_errors(page) == {
        "assignee": "Several people are called 李娜: use the username."}
    assert reload_task(dbsession, world.project, 2) is None
    # A person who exists but may not be assigned keeps the domain's own message.
    form = find_form(page, "/tasks/new")
    form["assignee"] = "Olga Outsider"
    page = form.submit(status=400)
    assert field_errors(page) == {"assignee": "This user is not a member of the project."}


def test_quick_assign_on_the_task_page(testapp, login_as, world, factory, make_task,
                                       dbsession):
    lina = _add_lina(factory, world)
    make_task(world.project, world.manager, title="Quick")
    login_as("mia")
    page = testapp.get("/projects/apollo/tasks/1/")
    form = find_form(page, "/assign")
    form["assignee"] = "李娜"
    page = form.submit(status=303).follow()
    assert flashes(page) == [("success", "Task #1 is assigned to 李娜.")]
    assert reload_task(dbsession, world.project, 1).assignee_id == lina.id
    form = find_form(page, "/assign")
    form["assignee"] = "nobody at all"
    page = form.submit(status=303).follow()
    assert flashes(page) == [
        ("error", "No one has the username or display name nobody at all.")]
    form = find_form(page, "/assign")
    form["assignee"] = ""
    page = form.submit(status=303).follow()
    assert flashes(page) == [("success", "Task #1 is assigned to nobody.")]
    assert reload_task(dbsession, world.project, 1).assignee_id is None


def test_add_a_member_by_display_name(testapp, login_as, world, factory, dbsession):
    lina = factory.user("lina", display_name="李娜")
    login_as("manny")
    form = find_form(testapp.get("/projects/apollo/members/"), "/members/")
    form["name"] = "李娜"
    form["role"] = "member"
    page = form.submit(status=303).follow()
    assert "李娜 added as Member." in page.text
    assert dbsession.scalar(select(ProjectMember.role).where(
        ProjectMember.project_id == world.project.id, ProjectMember.user_id == lina.id,
    )) == "member"
    factory.user("lina2", display_name="李娜")
    form = find_form(page, "/members/")
    form["name"] = "李娜"
    page = form.submit(status=400)
    assert field_errors(page) == {"name": "Several people are called 李娜: use the username."}


def test_add_a_group_member_by_display_name(testapp, login_as, world, factory, dbsession):
    group = factory.group("qa")
    lina = factory.user("lina", display_name="李娜")
    login_as("ada")
    form = find_form(testapp.get(f"/admin/groups/{group.id}/"), "/add-member")
    form["username"] = "李娜"
    page = form.submit(status=303).follow()
    assert flashes(page) == [("success", "李娜 was added to the group.")]
    assert dbsession.get(GroupMember, (group.id, lina.id)) is not None


def test_filter_the_task_list_by_display_name(testapp, login_as, world, factory, make_task):
    _add_lina(factory, world)
    make_task(world.project, world.manager, title="Hers", assignee="lina")
    make_task(world.project, world.manager, title="Mia's", assignee="mia")
    login_as("vic")
    page = testapp.get("/projects/apollo/", {"assignee": "李娜"})
    assert list_titles(page) == ["Hers"]
    # The field keeps what was typed; links to other pages carry the username.
    assert find_form(page, "/projects/apollo/", method="get")["assignee"].value == "李娜"
    assert list_titles(testapp.get("/projects/apollo/board", {"assignee": "李娜"})) == []
    page = testapp.get("/projects/apollo/", {"assignee": "Nobody Here"}, status=400)
    assert "No one has the username or display name Nobody Here." in page.text


# -- suggestions --------------------------------------------------------------------------------
def test_assignable_suggestions_list_only_people_who_may_be_assigned(
        testapp, login_as, world, factory):
    _add_lina(factory, world)
    factory.user("lihua", display_name="李华")  # not in the project
    factory.user("lixi", display_name="李希", active=False)
    login_as("mia")
    response = testapp.get("/projects/apollo/assignable", {"q": "李"})
    assert response.content_type == "application/json"
    assert "no-store" in response.headers["Cache-Control"]
    assert response.json == {"people": [{"username": "lina", "display_name": "李娜"}]}
    # Members, the site admin (who may be assigned anywhere); never the outsider.
    assert set(_people(testapp.get("/projects/apollo/assignable", {"q": "i"}))) == {
        "lina", "mia", "vic", "ada"}  # Ada Admin
    assert _people(testapp.get("/projects/apollo/assignable", {"q": "olga"})) == []
    # Members do not see e-mail addresses anywhere, nor find people by them.
    assert _people(testapp.get("/projects/apollo/assignable", {"q": "example.com"})) == []
    assert testapp.get("/projects/apollo/assignable").json == {"people": []}


def test_suggestions_need_the_permission_of_their_form(testapp, login_as, world, factory,
                                                       make_task):
    _add_lina(factory, world)
    group = factory.group("qa")
    make_task(world.project, world.manager, title="Hers", assignee="lina")
    login_as("vic")  # a viewer: may read the list, may not assign or manage members
    testapp.get("/projects/apollo/assignable", {"q": "李"}, status=403)
    testapp.get("/projects/apollo/members/candidates", {"q": "李"}, status=403)
    # The filter suggests the assignees the list shows anyway, nobody else.
    assert _people(testapp.get("/projects/apollo/assignees", {"q": "李"})) == ["lina"]
    assert _people(testapp.get("/projects/apollo/assignees", {"q": "mia"})) == []
    login_as("olga")  # not a member of the private project: it does not exist for her
    testapp.get("/projects/apollo/assignable", {"q": "李"}, status=404)
    testapp.get("/projects/apollo/assignees", {"q": "李"}, status=404)
    testapp.get(f"/admin/groups/{group.id}/candidates", {"q": "李"}, status=403)


def test_member_and_group_candidates(testapp, login_as, world, factory):
    group = factory.group("qa")
    factory.user("lina", display_name="李娜")
    factory.user("lixi", display_name="李希", active=False)
    login_as("manny")
    # A manager adds people from outside the project: any active person, no e-mail.
    assert testapp.get("/projects/apollo/members/candidates", {"q": "李"}).json == {
        "people": [{"username": "lina", "display_name": "李娜"}]}
    login_as("ada")
    # Site admins see e-mail addresses elsewhere in the UI, so here too, and match them.
    assert testapp.get(f"/admin/groups/{group.id}/candidates", {"q": "LINA@"}).json == {
        "people": [{"username": "lina", "display_name": "李娜",
                    "email": "lina@example.com"}]}


def test_person_fields_are_marked_for_the_picker(testapp, login_as, world):
    login_as("manny")
    field = testapp.get("/projects/apollo/tasks/new").html.select_one("#f-assignee")
    assert field["data-people"] == "http://taskdesk.test/projects/apollo/assignable"
    field = testapp.get("/projects/apollo/members/").html.select_one("#f-name")
    assert field["data-people"] == "http://taskdesk.test/projects/apollo/members/candidates"
    assert field["data-people-when"] == "kind=user"
    field = testapp.get("/projects/apollo/").html.select_one("#f-assignee")
    assert field["data-people"] == "http://taskdesk.test/projects/apollo/assignees"
