"""``GET /api/v1/admin/explain``: the permission explainer for site admins, with what if."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.models import ProjectMember
from tests.support.api import ApiClient

URL = "/api/v1/admin/explain"


def ask(**params: str) -> str:
    return f"{URL}?{urlencode(params)}"


def test_an_admin_asks_why(client_for: Callable[..., ApiClient], people: dict[str, Any],
                           factory: Any, dbsession: Session) -> None:
    factory.task(people["project"])
    admin = client_for(people["admin"], "read")
    answer = admin.get(ask(**{"user": "viewer", "path": "alpha#1",
                                    "permission": "edit_task", "if_role": "member"}),
                       status=200).json
    assert (answer["user"], answer["path"], answer["permission"], answer["allowed"]) == (
        "viewer", "/projects/alpha/tasks/1", "edit_task", False)
    assert answer["ace"] is None
    assert answer["grants"] == [
        "Direct member of alpha with the built-in role “viewer” (view)."]
    after = answer["what_if"]
    assert after["allowed"] is True
    assert after["what_if"] is None
    assert after["ace"]["action"] == "allow"
    assert after["ace"]["principal"] == f"user:{people['viewer'].id}"
    assert after["ace"]["where"] == "/projects/alpha"
    dbsession.expire_all()
    assert dbsession.scalar(select(ProjectMember.role).where(
        ProjectMember.user_id == people["viewer"].id)) == "viewer"


def test_in_chinese(client_for: Callable[..., ApiClient], people: dict[str, Any]) -> None:
    admin = client_for(people["admin"])
    answer = admin.get(ask(**{"user": "member", "path": "alpha",
                                    "permission": "view"}),
                       headers={"Accept-Language": "zh-CN"}, status=200).json
    assert answer["allowed"] is True
    assert "张伟" in answer["decision"]
    assert "项目" in answer["decision"]


def test_only_site_admins(client_for: Callable[..., ApiClient], people: dict[str, Any]) -> None:
    params = {"user": "member", "path": "alpha", "permission": "view"}
    client_for(people["manager"]).get(ask(**params), status=403)
    client_for(None).get(ask(**params), status=401)


def test_bad_parameters(client_for: Callable[..., ApiClient], people: dict[str, Any]) -> None:
    admin = client_for(people["admin"])
    error = admin.get(ask(**{"user": "nobody", "path": "alpha#99", "permission": "fly",
                                   "colour": "red"}), status=400).json["error"]
    assert error["code"] == "invalid_parameter"
    assert set(error["fields"]) == {"user", "path", "permission", "colour"}
    error = admin.get(ask(**{"user": "member", "path": "alpha", "permission": "view",
                                   "if_join": "nope"}), status=400).json["error"]
    assert error["fields"] == {"if_join": "No group has this name."}
