"""``/api/v1/me/notification-preferences``: read and choose the channel of each kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from taskdesk.models import User
from tests.support.api import ApiClient
from tests.support.factories import Factory
from tests.support.preferences import CHANNELS, DEFAULTS, chosen


@pytest.fixture
def mei(factory: Factory) -> User:
    return factory.user("mei", display_name="Mei")


def test_api_reads_and_changes_the_choices(
    mei: User, dbsession: Session, client_for: Callable[..., ApiClient],
) -> None:
    api = client_for(mei)
    assert api.get("/api/v1/me/notification-preferences", status=200).json == DEFAULTS
    answer = api.put("/api/v1/me/notification-preferences",
                     {"mentioned": "digest", "watching": "email"}, status=200)
    assert answer.json == {**DEFAULTS, "mentioned": "digest", "watching": "email"}
    assert chosen(dbsession, mei) == answer.json


@pytest.mark.parametrize(("body", "fields"), [
    ({"watching": "loud"}, {"watching": "Must be one of: inbox, email, digest, off."}),
    ({"weather": "email"}, {"weather": "Unknown field."}),
    ({"due": None}, {"due": "Must not be null."}),
    ({"due": 1, "assigned": "off"}, {"due": "Must be one of: inbox, email, digest, off."}),
])
def test_api_refuses_bad_values_with_422_naming_them(
    mei: User, dbsession: Session, client_for: Callable[..., ApiClient], body: dict[str, Any],
    fields: dict[str, str],
) -> None:
    refused = client_for(mei).put("/api/v1/me/notification-preferences", body, status=422)
    assert refused.json["error"]["fields"] == fields
    assert chosen(dbsession, mei) == DEFAULTS


def test_api_needs_a_signed_in_caller(client_for: Callable[..., ApiClient]) -> None:
    client_for(None).get("/api/v1/me/notification-preferences", status=401)


def test_openapi_documents_the_endpoint(openapi_document: dict[str, Any]) -> None:
    path = openapi_document["paths"]["/me/notification-preferences"]
    assert set(path) == {"get", "put"}
    body = openapi_document["components"]["schemas"]["NotificationPreferencesInput"]
    assert body["properties"]["due"] == {"type": "string", "enum": CHANNELS}
    assert "422" in path["put"]["responses"]


