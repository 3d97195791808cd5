"""The one-walk ACL predicate (``principals_grant``, behind every ``allowed`` list and the
domain's field rules) gives the verdict of Pyramid's ``ACLHelper`` as the policy applies it
(``principals_permit``, prerequisites included) for every permission, on lineages with the
shapes Taskdesk's resources have."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from pyramid.authorization import ALL_PERMISSIONS, Allow, Authenticated, Deny, Everyone

from taskdesk.security.permissions import Permission
from taskdesk.security.policy import TaskdeskSecurityPolicy, principals_grant
from taskdesk.security.principals import SITE_ADMIN, group_principal, user_principal
from taskdesk.settings import parse_settings

P = Permission
ALICE, BOB = user_principal(1), user_principal(2)
TEAM = group_principal(7)


class Location:
    def __init__(self, parent: Location | None, acl: Any = None) -> None:
        self.__parent__ = parent
        self.__name__ = "x"
        if acl is not None:
            self.__acl__ = acl


ROOT_ACL = [(Allow, SITE_ADMIN, ALL_PERMISSIONS), (Allow, Everyone, P.PUBLIC),
            (Allow, Authenticated, P.SIGNED_IN)]
MEMBER = (P.VIEW, P.COMMENT, P.CREATE_TASK, P.EDIT_TASK, P.SET_STATUS)


def lineages() -> dict[str, Location]:
    root = Location(None, ROOT_ACL)
    project = Location(root, lambda: [(Allow, ALICE, MEMBER), (Allow, TEAM, P.VIEW),
                                      (Allow, Authenticated, P.VIEW)])
    archived = Location(root, [(Deny, Everyone, (P.COMMENT, P.EDIT_TASK, P.CREATE_TASK)),
                               (Allow, ALICE, (*MEMBER, P.ARCHIVE_PROJECT))])
    private = Location(root, [(Allow, BOB, (P.VIEW,))])
    # A container without an ACL of its own, a task under it, a comment by Bob under that
    # (his own ACE holds while he may comment: a prerequisite).
    task = Location(Location(project), [])
    comment = Location(task, [(Allow, BOB, (P.EDIT_COMMENT, P.DELETE_COMMENT))])
    return {"root": root, "project": project, "archived": archived, "private": private,
            "task": task, "comment": comment,
            "archived task": Location(Location(archived))}


PRINCIPAL_SETS = [
    frozenset({Everyone}),
    frozenset({Everyone, Authenticated, ALICE}),
    frozenset({Everyone, Authenticated, BOB}),
    frozenset({Everyone, Authenticated, BOB, TEAM}),
    frozenset({Everyone, Authenticated, user_principal(3), SITE_ADMIN}),
]


@pytest.mark.parametrize(("where", "principals"),
                         list(itertools.product(lineages(), PRINCIPAL_SETS)))
def test_one_walk_gives_the_helpers_verdict_for_every_permission(
        where: str, principals: frozenset[str]) -> None:
    policy = TaskdeskSecurityPolicy(parse_settings({"taskdesk.environment": "development"}))
    context = lineages()[where]
    grants = principals_grant(context, principals)
    expected = [p for p in Permission if policy.principals_permit(context, principals, p)]
    assert [p for p in Permission if grants(p)] == expected


def test_the_cases_are_not_all_alike() -> None:
    """The lineages above grant and refuse: a comparison of two always-empty answers would
    prove nothing."""
    contexts = lineages()
    alice = PRINCIPAL_SETS[1]
    bob = PRINCIPAL_SETS[2]
    assert principals_grant(contexts["task"], alice)(P.EDIT_TASK)
    assert not principals_grant(contexts["archived task"], alice)(P.EDIT_TASK)
    assert principals_grant(contexts["archived task"], alice)(P.ARCHIVE_PROJECT)
    # Bob wrote the comment but may not comment on the project: the prerequisite refuses.
    assert not principals_grant(contexts["comment"], bob)(P.EDIT_COMMENT)
    assert principals_grant(contexts["comment"], bob | {ALICE})(P.EDIT_COMMENT)
    assert principals_grant(contexts["archived"], PRINCIPAL_SETS[4])(P.MANAGE_MEMBERS)
    assert not principals_grant(contexts["archived"], PRINCIPAL_SETS[4])(P.COMMENT)
