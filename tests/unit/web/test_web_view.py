"""``web_view`` refuses a web view without a permission where it is declared."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pyramid.exceptions import ConfigurationError
from pyramid.httpexceptions import HTTPNotFound

from taskdesk.resources import ProjectContainer
from taskdesk.security.permissions import Permission
from taskdesk.web.declare import web_view

WEB = Path(__file__).resolve().parents[3] / "src" / "taskdesk" / "web"


def test_a_view_without_permission_is_refused_with_its_name():
    with pytest.raises(ConfigurationError, match="ProjectContainer/new POST names no permission"):
        web_view(context=ProjectContainer, name="new", request_method="POST")


def test_a_permission_given_as_a_string_is_refused():
    with pytest.raises(ConfigurationError, match="names no permission"):
        web_view(context=ProjectContainer, permission="view")  # type: ignore[arg-type]


def test_an_error_page_is_not_declared_with_web_view():
    with pytest.raises(ConfigurationError, match="exception_view_config"):
        web_view(context=HTTPNotFound, permission=Permission.PUBLIC)


def test_a_declared_view_is_returned_unchanged():
    def view(context, request):
        return {}

    assert web_view(context=ProjectContainer, permission=Permission.VIEW)(view) is view


def test_web_views_are_declared_with_web_view_only():
    """Pyramid's own ``view_config`` would let a view without a permission through."""
    found = []
    for path in sorted(WEB.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    target = decorator.func if isinstance(decorator, ast.Call) else decorator
                    if isinstance(target, ast.Name) and target.id == "view_config":
                        found.append(f"{path.name}:{node.name}")
    assert found == []
