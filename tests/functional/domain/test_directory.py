"""The rules of directory accounts: linking, creation, profile and group sync."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.domain import directory
from taskdesk.domain.directory import DirectoryProfile, DirectoryRefusal
from taskdesk.models import DirectoryAccount, Group, GroupMember, User
from taskdesk.settings import TaskdeskSettings
from tests.support.factories import Factory

ISSUER = "https://login.example.com"
MAP = {"devs": ("developers",), "cn=ops,ou=groups,dc=example,dc=com": ("operators",),
       "admins": ("site-admin",)}


@pytest.fixture
def mapped(settings: TaskdeskSettings) -> TaskdeskSettings:
    from dataclasses import replace

    return replace(settings, directory_groups=MAP)


def names(dbsession: Session, user: User) -> list[str]:
    return list(dbsession.scalars(select(Group.name).join(GroupMember).where(
        GroupMember.user_id == user.id).order_by(Group.name)))


def test_a_verified_address_links_the_existing_account(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory
) -> None:
    kim = factory.user("kim")
    result = directory.sign_in(dbsession, settings, DirectoryProfile(
        ISSUER, "s-1", "kim.lee", "Kim Lee", "KIM@example.com", email_verified=True),
        link_by_email=True)
    assert result.user is kim
    assert result.linked
    assert not result.created
    assert kim.username == "kim.lee"
    again = directory.sign_in(dbsession, settings, DirectoryProfile(ISSUER, "s-1", "kim.lee"))
    assert again.user is kim
    assert not again.linked


def test_an_unverified_address_never_links(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory
) -> None:
    kim = factory.user("kim")
    result = directory.sign_in(dbsession, settings, DirectoryProfile(
        ISSUER, "s-2", "kim", "Kim", "kim@example.com", email_verified=False),
        link_by_email=True)
    assert result.created
    assert result.user is not kim
    assert result.user.username == "kim-2"


def test_linking_by_sub_ignores_the_address(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory
) -> None:
    kim = factory.user("kim")
    result = directory.sign_in(dbsession, settings, DirectoryProfile(
        ISSUER, "s-3", "someone", "Someone", "kim@example.com", email_verified=True))
    assert result.user is not kim


def test_an_address_shared_by_two_accounts_is_refused(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory
) -> None:
    factory.user("one").email = "same@example.com"
    factory.user("two").email = "Same@example.com"
    with pytest.raises(DirectoryRefusal):
        directory.sign_in(dbsession, settings, DirectoryProfile(
            ISSUER, "s-4", "same", email="same@example.com", email_verified=True),
            link_by_email=True)


def test_a_renamed_person_keeps_their_name_when_the_new_one_is_taken(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory
) -> None:
    user = directory.sign_in(dbsession, settings, DirectoryProfile(ISSUER, "s-5", "max")).user
    factory.user("maxine")
    directory.sign_in(dbsession, settings, DirectoryProfile(ISSUER, "s-5", "maxine"))
    assert user.username == "max"


def test_same_subject_at_another_provider_is_someone_else(
    dbsession: Session, settings: TaskdeskSettings
) -> None:
    first = directory.sign_in(dbsession, settings, DirectoryProfile(ISSUER, "s-6", "ann")).user
    second = directory.sign_in(dbsession, settings,
                               DirectoryProfile(directory.LDAP, "s-6", "ann")).user
    assert first is not second
    links = dbsession.scalars(select(DirectoryAccount.provider).where(
        DirectoryAccount.subject == "s-6").order_by(DirectoryAccount.provider)).all()
    assert links == [ISSUER, directory.LDAP]


def test_group_sync_adds_and_removes_mapped_groups_only(
    dbsession: Session, mapped: TaskdeskSettings, factory: Factory
) -> None:
    profile = DirectoryProfile(ISSUER, "s-7", "pat",
                               groups=("devs", "CN=Ops,OU=Groups,DC=example,DC=com", "admins"))
    result = directory.sign_in(dbsession, mapped, profile)
    pat = result.user
    assert result.groups.added == ["developers", "operators"]
    assert result.groups.site_admin is True
    assert pat.is_site_admin
    factory.group("book-club", members=(pat,))
    result = directory.sign_in(dbsession, mapped, DirectoryProfile(
        ISSUER, "s-7", "pat", groups=("cn=devs,ou=groups,dc=example,dc=com",)))
    assert result.groups.removed == ["operators"]
    assert result.groups.site_admin is False
    assert names(dbsession, pat) == ["book-club", "developers"]
    assert not pat.is_site_admin


def test_no_groups_claim_leaves_groups_alone(
    dbsession: Session, mapped: TaskdeskSettings
) -> None:
    pat = directory.sign_in(dbsession, mapped,
                            DirectoryProfile(ISSUER, "s-8", "pat", groups=("devs",))).user
    directory.sign_in(dbsession, mapped, DirectoryProfile(ISSUER, "s-8", "pat", groups=None))
    assert names(dbsession, pat) == ["developers"]


@pytest.mark.parametrize(("given", "made"), [
    ("Grace.Hopper", "grace.hopper"), ("grace@example.com", "grace"),
    ("Grâce Hopper", "gr-ce-hopper"), ("x", "user-x"), ("王芳", "user"),
])
def test_usable_usernames(given: str, made: str) -> None:
    assert directory.usable_username(given) == made
