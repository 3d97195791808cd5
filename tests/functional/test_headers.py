"""Security headers come from the core, whichever feature packages are switched on."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import webtest


@pytest.mark.parametrize("includes", ["taskdesk.api", "taskdesk.web", ""])
def test_every_composition_sends_the_security_headers(
    spare_app: Callable[..., webtest.TestApp], includes: str
) -> None:
    app = spare_app(**{"taskdesk.includes": includes})
    for path, status in (("/healthz", 200), ("/no-such-page", 404)):
        response = app.get(path, status=status)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" not in response.headers


def test_hsts_only_when_served_over_https(spare_app: Callable[..., webtest.TestApp]) -> None:
    app = spare_app(**{"taskdesk.https": "true"})
    assert app.get("/healthz").headers["Strict-Transport-Security"].startswith("max-age=")
