"""Finding people by part of a name, and resolving what was typed into one person."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from taskdesk.domain.access import may_be_assigned
from taskdesk.domain.errors import ValidationError
from taskdesk.domain.people import assigned_in, find_people, resolve_person
from tests.support.factories import Factory


def usernames(people: list) -> list[str]:
    return [person.username for person in people]


@pytest.fixture
def staff(factory: Factory, dbsession: Session) -> dict:
    people = {
        "lina": factory.user("lina", display_name="李娜"),
        "lili": factory.user("lili", display_name="李丽"),
        "wang": factory.user("wang", display_name="王芳"),
        "ada": factory.user("ada", display_name="Ada Lovelace"),
        "adam": factory.user("adam", display_name="Adam Smith"),
        "nolan": factory.user("nolan", display_name="Grace Hopper"),
        "gone": factory.user("gone", display_name="李娜", active=False),
        "under": factory.user("a_b", display_name="Under Score"),
        "percent": factory.user("pct", display_name="100% Sure"),
    }
    people["nolan"].email = "grace@navy.example"
    dbsession.flush()
    return people


def test_any_part_of_a_username_or_display_name_matches(dbsession, staff):
    assert usernames(find_people(dbsession, "李")) == ["lili", "lina"]
    assert usernames(find_people(dbsession, "娜")) == ["lina"]
    assert usernames(find_people(dbsession, "LOVE")) == ["ada"]
    assert usernames(find_people(dbsession, "ola")) == ["nolan"]  # part of the username
    assert usernames(find_people(dbsession, "  王芳 ")) == ["wang"]
    assert find_people(dbsession, "") == []
    assert find_people(dbsession, "   ") == []
    assert find_people(dbsession, "nobody") == []


def test_exact_and_prefix_matches_come_first(dbsession, staff):
    # "ada" is adam's prefix and ada's exact username; "Grace" is nobody's username.
    assert usernames(find_people(dbsession, "ada")) == ["ada", "adam"]
    assert usernames(find_people(dbsession, "adam")) == ["adam"]
    # A match at the start of a name before one inside it.
    assert usernames(find_people(dbsession, "a")) [:3] == ["ada", "adam", "a_b"]


def test_email_matches_only_when_asked(dbsession, staff):
    assert find_people(dbsession, "navy") == []
    found = find_people(dbsession, "NAVY", match_email=True)
    assert usernames(found) == ["nolan"]
    assert found[0].email == "grace@navy.example"


def test_like_wildcards_in_the_text_are_literal(dbsession, staff):
    assert usernames(find_people(dbsession, "_")) == ["a_b"]
    assert usernames(find_people(dbsession, "%")) == ["pct"]
    assert usernames(find_people(dbsession, "0% s")) == ["pct"]
    assert find_people(dbsession, "\\") == []


def test_deactivated_people_are_not_suggested(dbsession, staff):
    assert "gone" not in usernames(find_people(dbsession, "李娜"))
    assert usernames(find_people(dbsession, "gone")) == []


def test_results_are_bounded(factory, dbsession):
    for number in range(15):
        factory.user(f"zhang{number:02d}", display_name=f"张伟 {number}")
    assert len(find_people(dbsession, "张伟")) == 10
    assert len(find_people(dbsession, "张伟", limit=3)) == 3


def test_restricted_to_people_who_may_be_assigned(factory, dbsession, staff):
    team = factory.group("team", members=(staff["wang"],))
    project = factory.project(staff["lina"], members={team: "member"})
    admin = factory.user("root", display_name="李 Admin", admin=True)
    dbsession.flush()
    among = may_be_assigned(project.id)
    # The manager, a member through a group, a site admin; not the other 李.
    assert set(usernames(find_people(dbsession, "李", among=among))) == {"lina", "root"}
    assert usernames(find_people(dbsession, "王", among=among)) == ["wang"]
    assert find_people(dbsession, "Ada", among=among) == []
    internal = factory.project(admin, visibility="internal")
    assert "ada" in usernames(find_people(dbsession, "ada", among=may_be_assigned(internal.id)))


def test_restricted_to_people_assigned_in_a_project(factory, dbsession, staff):
    project = factory.project(staff["lina"], members={staff["lili"]: "member"})
    factory.task(project, title="x", assignee="lili")
    assert usernames(find_people(dbsession, "李", among=assigned_in(project.id))) == ["lili"]


def test_resolve_a_username_or_an_exact_display_name(dbsession, staff):
    assert resolve_person(dbsession, "Wang", field="f").username == "wang"
    assert resolve_person(dbsession, " 王芳 ", field="f").username == "wang"
    assert resolve_person(dbsession, "ada lovelace", field="f").username == "ada"
    # A username names its user even when deactivated (callers refuse them in their words).
    assert resolve_person(dbsession, "gone", field="f").username == "gone"


def test_resolve_refuses_nobody_and_several(factory, dbsession, staff):
    with pytest.raises(ValidationError) as nobody:
        resolve_person(dbsession, "李", field="assignee")
    assert nobody.value.fields["assignee"].interpolate() == (
        "No one has the username or display name 李.")
    factory.user("lina2", display_name="李娜")
    with pytest.raises(ValidationError) as several:
        resolve_person(dbsession, "李娜", field="name")
    assert several.value.fields["name"].interpolate() == (
        "Several people are called 李娜: use the username.")
    with pytest.raises(ValidationError):
        resolve_person(dbsession, "  ", field="name")


def test_resolve_a_shared_name_by_who_may_be_assigned(factory, dbsession, staff):
    other = factory.user("lina2", display_name="李娜")
    project = factory.project(staff["wang"], members={other: "member"})
    person = resolve_person(dbsession, "李娜", field="assignee",
                            prefer=may_be_assigned(project.id))
    assert person.username == "lina2"
    # Deactivated people count only where asked (the list filter).
    with pytest.raises(ValidationError):
        resolve_person(dbsession, "李娜", field="assignee")
    assert resolve_person(dbsession, "Grace Hopper", field="f",
                          active_only=False).username == "nolan"
