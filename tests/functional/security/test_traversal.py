"""Unknown or malformed keys anywhere in the tree are a 404, never a 500 (and never a hint)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from taskdesk.domain import accounts
from tests.support.factories import Factory

MALFORMED = [
    "/projects/Alpha/",
    "/projects/alpha-/",
    "/projects/a%20b/",
    "/projects/" + "a" * 65 + "/",
    "/projects/alpha/tasks/0/",
    "/projects/alpha/tasks/01/",
    "/projects/alpha/tasks/-1/",
    "/projects/alpha/tasks/1e3/",
    "/projects/alpha/tasks/99999999999/",
    "/projects/alpha/tasks/2147483648/",
    "/projects/alpha/tasks/%EF%BC%91/",  # a full-width digit one
    "/projects/alpha/tasks/1/comments/abc/",
    "/projects/alpha/tasks/1/comments/999/",
    "/projects/alpha/tasks/1/nothing/",
    "/projects/alpha/members/nobody/",
    "/projects/alpha/members/user:/",
    "/projects/alpha/members/user:Nobody/",
    "/projects/alpha/members/user:ghost/",
    "/projects/alpha/members/group:Bad%20Name/",
    "/projects/alpha/members/robot:alice/",
    "/admin/users/abc/",
    "/admin/users/0/",
    "/admin/users/999999/",
    "/admin/groups/x/",
    "/me/tokens/abc/",
    "/me/tokens/999999/",
    "/no-such-thing/",
]


@pytest.mark.parametrize("prefix", ["", "/api/v1"])
def test_malformed_and_unknown_keys_are_404(
    prefix: str, factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    admin = factory.user("root", admin=True)
    project = factory.project(admin, slug="alpha")
    factory.task(project, admin)
    _, secret = accounts.create_token(dbsession, admin, {"name": "t", "scope": "write"})
    app = browser()
    headers = {"Authorization": f"Bearer {secret}"}
    answers = {
        path: app.get(prefix + path, headers=headers, expect_errors=True).status_int
        for path in MALFORMED
    }
    assert {path: status for path, status in answers.items() if status != 404} == {}
    assert app.get(f"{prefix}/projects/alpha/tasks/1/", headers=headers).status_int == 200
