"""API test fixtures: bearer tokens, and clients that check every answer against the OpenAPI
document (``tests.support.api``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webtest
from sqlalchemy.orm import Session

from taskdesk.api.openapi import build_document
from taskdesk.domain import accounts
from taskdesk.models import User
from tests.support.api import ApiClient, OpenApiChecker
from tests.support.factories import Factory


@pytest.fixture(scope="session")
def openapi_document(wsgi_app: Any) -> dict[str, Any]:
    return build_document(wsgi_app.registry)


@pytest.fixture(scope="session")
def checker(openapi_document: dict[str, Any]) -> OpenApiChecker:
    return OpenApiChecker(openapi_document)


@pytest.fixture
def make_token(dbsession: Session) -> Callable[..., str]:
    def make(user: User, scope: str = "write", **values: Any) -> str:
        _token, secret = accounts.create_token(
            dbsession, user, {"name": values.pop("name", "tests"), "scope": scope, **values}
        )
        return secret

    return make


@pytest.fixture
def client_for(
    make_testapp: Callable[[], webtest.TestApp], checker: OpenApiChecker,
    make_token: Callable[..., str],
) -> Callable[..., ApiClient]:
    """``client_for(user)``: a client with a fresh token of ``user`` (None: anonymous)."""

    def make(user: User | None, scope: str = "write") -> ApiClient:
        token = make_token(user, scope) if user is not None else None
        return ApiClient(make_testapp(), checker, token)

    return make


@pytest.fixture
def people(factory: Factory) -> dict[str, Any]:
    """A private project with a manager, member, viewer and reporter, and an outsider."""
    manager = factory.user("manager")
    member = factory.user("member", display_name="张伟")
    viewer = factory.user("viewer")
    reporter = factory.user("reporter")
    outsider = factory.user("outsider")
    admin = factory.user("admin", admin=True)
    project = factory.project(manager, slug="alpha", name="Alpha 项目", members={
        member: "member", viewer: "viewer", reporter: "reporter",
    })
    return {"manager": manager, "member": member, "viewer": viewer, "reporter": reporter,
            "outsider": outsider, "admin": admin, "project": project}
