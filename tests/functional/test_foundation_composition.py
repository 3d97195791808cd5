"""Pluggable composition: the core always, feature packages only when the INI lists them."""

from __future__ import annotations

from collections.abc import Callable
from configparser import ConfigParser

import webtest

from tests.conftest import ROOT


def test_api_alone_starts_and_serves(spare_app: Callable[..., webtest.TestApp]) -> None:
    app = spare_app(**{"taskdesk.includes": "taskdesk.api"})
    health = app.get("/healthz")
    assert health.json == {"status": "ok"}
    assert app.get("/readyz").json["status"] == "ok"
    assert app.get("/login", status=404)
    me = app.get("/api/v1/me", status=(401, 403))
    assert me.content_type == "application/json"
    assert me.json["error"]["status"] == me.status_int


def test_web_alone_starts_and_serves(spare_app: Callable[..., webtest.TestApp]) -> None:
    app = spare_app(**{"taskdesk.includes": "taskdesk.web"})
    assert app.get("/healthz").json == {"status": "ok"}
    login = app.get("/login")
    assert login.status_int == 200
    assert 'name="username"' in login.text
    app.get("/api/v1/me", status=404)


def test_core_alone_starts_and_serves(spare_app: Callable[..., webtest.TestApp]) -> None:
    app = spare_app(**{"taskdesk.includes": ""})
    assert app.get("/healthz").json == {"status": "ok"}
    app.get("/login", status=404)
    app.get("/api/v1/me", status=404)


def test_both_features_together(spare_app: Callable[..., webtest.TestApp]) -> None:
    app = spare_app(**{"taskdesk.includes": "taskdesk.web taskdesk.api"})
    assert app.get("/login").status_int == 200
    assert app.get("/api/v1/me", status=(401, 403)).content_type == "application/json"


def _app_settings(ini: str) -> dict[str, str]:
    parser = ConfigParser(interpolation=None)
    parser.read(ROOT / ini, encoding="utf-8")
    return dict(parser["app:main"])


def test_debug_toolbar_in_development_ini_only() -> None:
    assert "pyramid_debugtoolbar" in _app_settings("development.ini")["pyramid.includes"]
    production = _app_settings("production.ini")
    assert "debugtoolbar" not in production.get("pyramid.includes", "")
    assert not [key for key in production if key.startswith("debugtoolbar.")]
