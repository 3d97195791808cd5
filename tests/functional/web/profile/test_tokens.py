"""My API tokens: create (the secret is shown once), list, revoke; never another's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import webtest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taskdesk.domain import accounts
from taskdesk.models import ApiToken, User
from taskdesk.models.meta import utcnow
from tests.support.factories import Factory
from tests.support.web import field_errors, flashes, form, post


@pytest.fixture
def user(factory: Factory) -> User:
    return factory.user("tom", display_name="Tom")


def token_count(dbsession: Session) -> int:
    return dbsession.scalar(select(func.count()).select_from(ApiToken)) or 0


def api_status(testapp: webtest.TestApp, secret: str) -> int:
    """The status of an API call made with ``secret`` and no cookies."""
    testapp.reset()
    return testapp.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"},
                       expect_errors=True).status_int


def table_rows(page: webtest.TestResponse) -> list[list[str]]:
    return [[" ".join(td.text.split()) for td in tr.select("td")]
            for tr in page.html.select("table.data tbody tr")]


def test_create_token_shows_the_secret_once(
    user: User, dbsession: Session, app: webtest.TestApp,
    make_testapp: Callable[[], webtest.TestApp],
) -> None:
    page = form(app.get("/me/tokens/"), "/me/tokens/")
    assert (page["scope"].value, page["expires_in_days"].value) == ("read", "90")
    page["name"] = "夜间报表 nightly report"
    page["scope"] = "write"
    page["expires_in_days"] = "30"
    result = page.submit(status=200)
    assert result.headers["Cache-Control"] == "no-store"
    secret = result.html.select_one("#token-secret")["value"]
    assert secret.startswith("td_")
    assert len(secret) >= 40
    token = dbsession.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert token is not None
    assert (token.name, token.scope, token.prefix) == ("夜间报表 nightly report", "write",
                                                       secret[:9])
    assert token.expires_at is not None
    assert timedelta(days=29) < token.expires_at - utcnow() <= timedelta(days=30)
    assert secret not in token.token_hash
    # The secret works, and no later page shows it again.
    assert api_status(make_testapp(), secret) == 200
    listing = app.get("/me/tokens/")
    assert secret not in listing.text
    assert secret not in app.get("/me/").text
    row, = table_rows(listing)
    assert row[:3] == ["夜间报表 nightly report", f"{secret[:9]}…", "Read and write"]
    assert row[5] != "Not used yet"  # used once just now
    assert row[6] == "Active Revoke"


def test_token_without_expiry_and_list_shows_states(
    user: User, dbsession: Session, app: webtest.TestApp
) -> None:
    accounts.revoke_token(dbsession, accounts.create_token(dbsession, user, {"name": "old"})[0])
    expired, _secret = accounts.create_token(dbsession, user, {"name": "expired"})
    expired.expires_at = utcnow() - timedelta(days=1)
    dbsession.flush()
    page = form(app.get("/me/tokens/"), "/me/tokens/")
    page["name"] = "forever"
    page["expires_in_days"] = ""
    page.submit(status=200)
    rows = {row[0]: row for row in table_rows(app.get("/me/tokens/"))}
    assert set(rows) == {"old", "expired", "forever"}
    assert rows["forever"][2] == "Read only"
    assert rows["forever"][4] == "Does not expire"
    assert rows["forever"][6] == "Active Revoke"
    assert rows["old"][6] == "Revoked"
    assert rows["expired"][6] == "Expired"


@pytest.mark.parametrize(("values", "errors"), [
    ({"name": ""}, {"name": "This field is required."}),
    ({"name": "x" * 81}, {"name": "Must be at most 80 characters."}),
    ({"name": "ok", "expires_in_days": "0"},
     {"expires_in_days": "Must be between 1 and 3650."}),
    ({"name": "ok", "expires_in_days": "soon"},
     {"expires_in_days": "Must be a whole number."}),
])
def test_create_token_invalid(dbsession: Session, app: webtest.TestApp,
                              values: dict[str, str], errors: dict[str, str]) -> None:
    page = form(app.get("/me/tokens/"), "/me/tokens/")
    for name, value in values.items():
        page[name] = value
    response = page.submit(status=400)
    assert field_errors(response) == errors
    again = form(response, "/me/tokens/")
    assert {name: again[name].value for name in values} == values
    assert "token-secret" not in response.text
    assert token_count(dbsession) == 0


def test_forged_scope_is_refused(dbsession: Session, app: webtest.TestApp) -> None:
    response = post(app, "/me/tokens/", {"name": "admin", "scope": "admin"}, status=400)
    assert field_errors(response) == {"scope": "Must be one of: read, write."}
    assert token_count(dbsession) == 0


def test_revoke_token(user: User, dbsession: Session, app: webtest.TestApp,
                      make_testapp: Callable[[], webtest.TestApp]) -> None:
    token, secret = accounts.create_token(dbsession, user, {"name": "ci", "scope": "read"})
    assert api_status(make_testapp(), secret) == 200
    page = app.get("/me/tokens/")
    response = form(page, f"/me/tokens/{token.id}/revoke").submit(status=303).follow()
    assert flashes(response) == [("success", "The token ci was revoked; it no longer works.")]
    assert api_status(make_testapp(), secret) == 401
    dbsession.expire_all()
    assert dbsession.get(ApiToken, token.id).revoked_at is not None


def test_never_another_users_tokens(
    factory: Factory, user: User, dbsession: Session, app: webtest.TestApp
) -> None:
    other = factory.user("ursula")
    theirs, _secret = accounts.create_token(dbsession, other, {"name": "ursula's secret bot"})
    listing = app.get("/me/tokens/")
    assert "ursula" not in listing.text
    assert theirs.prefix not in listing.text
    post(app, f"/me/tokens/{theirs.id}/revoke", {}, status=404)
    dbsession.expire_all()
    assert dbsession.get(ApiToken, theirs.id).revoked_at is None


def test_anonymous_cannot_revoke(
    factory: Factory, user: User, dbsession: Session, testapp: webtest.TestApp
) -> None:
    token, _secret = accounts.create_token(dbsession, user, {"name": "ci"})
    testapp.reset()
    post(testapp, f"/me/tokens/{token.id}/revoke", {}, status=404)
    dbsession.expire_all()
    assert dbsession.get(ApiToken, token.id).revoked_at is None


def test_tokens_in_chinese(factory: Factory, login_as: Callable[..., webtest.TestApp]) -> None:
    factory.user("liu", locale="zh_CN")
    app = login_as("liu")
    page = app.get("/me/tokens/")
    assert page.html.select_one("h1").text == "API 令牌"
    create = form(page, "/me/tokens/")
    assert [text for _value, _selected, text in create["scope"].options] == ["只读", "读写"]
    create["name"] = "脚本"
    result = create.submit(status=200)
    assert "请立即复制令牌" in result.text
