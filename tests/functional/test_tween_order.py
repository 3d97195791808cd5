"""The input guard runs before every tween that could read the request, in every
configuration the project ships (the debug toolbar's tween once decoded ``/projects/%FF``
first and answered 500), and whatever add-on an admin lists in ``pyramid.includes``."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import webtest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.interfaces import ITweens
from pyramid.paster import get_appsettings
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import INGRESS

from taskdesk import main
from taskdesk.guard import GUARD_TWEEN, OUTSIDE_THE_GUARD
from tests.support.apps import app_settings
from tests.support.databases import ROOT

OPS_TWEEN = "taskdesk.ops.request_tween_factory"
EAGER_TWEEN = f"{__name__}.eager_tween_factory"
MALFORMED_PATHS = ("/projects/%FF", "/api/v1/projects/%FF")


def eager_tween_factory(handler: Callable[[Request], Response], registry: Any) -> Any:
    """An add-on tween that asks to be outermost and decodes the path first thing."""

    def eager_tween(request: Request) -> Response:
        request.environ["eager.path"] = request.path_info  # fails on invalid UTF-8
        return handler(request)

    return eager_tween


def includeme(config: Configurator) -> None:
    config.add_tween(EAGER_TWEEN, under=INGRESS)


def ini_settings(name: str, tmp_path: Path) -> dict[str, Any]:
    """The ``[app:main]`` settings of a shipped INI, on a throw-away SQLite file."""
    settings = dict(get_appsettings(str(ROOT / name)))
    settings["sqlalchemy.url"] = f"sqlite:///{tmp_path / 'taskdesk.sqlite'}"
    return settings


def shipped_settings(configuration: str, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    if configuration == "tests":
        return app_settings(f"sqlite:///{tmp_path / 'taskdesk.sqlite'}")
    if configuration == "production.ini":
        monkeypatch.setenv("TASKDESK_SESSION_SECRET", "tween-order-secret-" + "t" * 32)
    return ini_settings(configuration, tmp_path)


def tween_names(app: Any) -> list[str]:
    tweens = app.registry.getUtility(ITweens)
    return [name for name, _factory in (tweens.explicit or tweens.implicit())]


def outside_the_guard(app: Any) -> list[str]:
    names = tween_names(app)
    return names[:names.index(GUARD_TWEEN)]


def assert_malformed_paths_refused(app: Any) -> None:
    # From 127.0.0.1, so that the debug toolbar (development.ini) is active.
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost",
                                                 "REMOTE_ADDR": "127.0.0.1"})
    for path in MALFORMED_PATHS:
        response = client.get(path, status=400)
        assert "UTF-8" in response.text


@pytest.mark.parametrize("configuration", ["development.ini", "production.ini", "tests"])
def test_shipped_configurations_refuse_a_malformed_path_with_400(
    configuration: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = main({}, **shipped_settings(configuration, tmp_path, monkeypatch))
    assert outside_the_guard(app) == [
        "taskdesk.headers.security_headers_tween_factory", OPS_TWEEN,
    ]
    assert_malformed_paths_refused(app)


def test_the_debug_toolbar_runs_inside_the_guard(tmp_path: Path) -> None:
    app = main({}, **ini_settings("development.ini", tmp_path))
    names = tween_names(app)
    assert names.index(GUARD_TWEEN) < names.index("pyramid_debugtoolbar.toolbar_tween_factory")
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost",
                                                 "REMOTE_ADDR": "127.0.0.1"})
    assert "pDebug" in client.get("/login").text  # the toolbar is really on for this client


def test_an_add_on_asking_to_be_outermost_still_runs_inside_the_guard(tmp_path: Path) -> None:
    settings = app_settings(f"sqlite:///{tmp_path / 'taskdesk.sqlite'}",
                            **{"pyramid.includes": __name__,
                               "taskdesk.includes": "taskdesk.web taskdesk.api taskdesk.metrics"})
    app = main({}, **settings)
    assert sorted(outside_the_guard(app)) == sorted(OUTSIDE_THE_GUARD)
    assert EAGER_TWEEN in tween_names(app)
    assert_malformed_paths_refused(app)


def test_an_explicit_tween_list_with_the_guard_inside_is_refused(tmp_path: Path) -> None:
    explicit = f"{OPS_TWEEN}\n{EAGER_TWEEN}\n{GUARD_TWEEN}\npyramid_tm.tm_tween_factory"
    settings = app_settings(f"sqlite:///{tmp_path / 'taskdesk.sqlite'}",
                            **{"pyramid.tweens": explicit})
    with pytest.raises(ConfigurationError, match=f"must list {re.escape(GUARD_TWEEN)} before"):
        main({}, **settings)


def test_an_explicit_tween_list_with_the_guard_outside_is_kept(tmp_path: Path) -> None:
    explicit = f"{OPS_TWEEN}\n{GUARD_TWEEN}\n{EAGER_TWEEN}\npyramid_tm.tm_tween_factory"
    settings = app_settings(f"sqlite:///{tmp_path / 'taskdesk.sqlite'}",
                            **{"pyramid.tweens": explicit})
    app = main({}, **settings)
    assert tween_names(app) == explicit.split("\n")
    assert_malformed_paths_refused(app)


def test_the_request_id_tween_is_second_only_to_the_security_headers(tmp_path: Path) -> None:
    """The order ``taskdesk.ops`` describes: headers, request id, metrics, guard, the rest."""
    settings = app_settings(f"sqlite:///{tmp_path / 'taskdesk.sqlite'}",
                            **{"taskdesk.includes": "taskdesk.web taskdesk.api taskdesk.metrics"})
    names = tween_names(main({}, **settings))
    assert names[:4] == ["taskdesk.headers.security_headers_tween_factory", OPS_TWEEN,
                         "taskdesk.metrics.metrics_tween_factory", GUARD_TWEEN]
