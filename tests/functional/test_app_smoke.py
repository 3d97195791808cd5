from __future__ import annotations


def test_healthz(testapp):
    response = testapp.get("/healthz")
    assert response.json == {"status": "ok"}
    assert "no-store" in response.headers["Cache-Control"]


def test_readyz_reports_database(testapp, backend):
    response = testapp.get("/readyz")
    assert response.json["status"] == "ok"
    assert response.json["database"] == backend


def test_readyz_answers_503_while_the_process_drains(testapp):
    from taskdesk.health import DRAINING

    DRAINING.set()
    try:
        response = testapp.get("/readyz", status=503)
    finally:
        DRAINING.clear()
    assert response.json["status"] == "draining"
    assert int(response.headers["Retry-After"]) > 0
    assert "no-store" in response.headers["Cache-Control"]
    assert testapp.get("/readyz").json["status"] == "ok"


def test_login_and_me(testapp, factory, login_as):
    factory.user("alice")
    login_as("alice")
    me = testapp.get("/api/v1/me")
    assert me.json["username"] == "alice"
