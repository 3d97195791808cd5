"""Server-side sessions: timeouts, signing out everywhere, and changes that take effect on
the very next request (deactivation, a new password, a revoked token)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import webtest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from taskdesk.domain import accounts
from taskdesk.models import AuthSession, User
from taskdesk.models.meta import utcnow
from taskdesk.security.login import idle_limit
from taskdesk.settings import TaskdeskSettings
from tests.support.factories import Factory
from tests.support.sessions import csrf_of, sign_in, submit_login, whoami

#: Sign-ins here check sessions, not the hash (see test_passwords): cheap Argon2 params.

NEW_PASSWORD = "another long password"


def session_rows(dbsession: Session, user: User) -> list[AuthSession]:
    dbsession.expire_all()
    return list(dbsession.scalars(
        select(AuthSession).where(AuthSession.user_id == user.id).order_by(AuthSession.id)))


def age_sessions(dbsession: Session, user: User, **values: Any) -> None:
    dbsession.execute(update(AuthSession).where(AuthSession.user_id == user.id).values(**values))
    dbsession.flush()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


# -- timeouts --------------------------------------------------------------------------------

def test_idle_timeout_ends_a_session_and_activity_extends_it(
    factory: Factory, dbsession: Session, browser: Callable[[], Any],
    settings: TaskdeskSettings,
) -> None:
    alice = factory.user("alice")
    app = browser()
    sign_in(app, "alice")
    idle = timedelta(seconds=settings.session_idle_timeout)

    age_sessions(dbsession, alice, last_seen_at=utcnow() - idle + timedelta(minutes=5))
    assert whoami(app) == "alice"
    [row] = session_rows(dbsession, alice)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1), "activity was not recorded"

    # The recorded last use lags the real one by up to a touch interval: the session ends
    # that much after the idle timeout (test_session_expiry covers the boundary).
    age_sessions(dbsession, alice,
                 last_seen_at=utcnow() - idle_limit(settings) - timedelta(seconds=5))
    assert whoami(app) is None


def test_absolute_lifetime_ends_even_an_active_session(
    factory: Factory, dbsession: Session, browser: Callable[[], Any],
    settings: TaskdeskSettings,
) -> None:
    alice = factory.user("alice")
    app = browser()
    sign_in(app, "alice")
    lifetime = timedelta(seconds=settings.session_max_age)

    age_sessions(dbsession, alice, created_at=utcnow() - lifetime + timedelta(minutes=5),
                 last_seen_at=utcnow())
    assert whoami(app) == "alice"
    age_sessions(dbsession, alice, created_at=utcnow() - lifetime - timedelta(seconds=5),
                 last_seen_at=utcnow())
    assert whoami(app) is None


# -- signing out everywhere ------------------------------------------------------------------

def test_sign_out_all_my_other_sessions(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    alice = factory.user("alice")
    here, laptop, phone = browser(), browser(), browser()
    for app in (here, laptop, phone):
        sign_in(app, "alice")
    assert len(session_rows(dbsession, alice)) == 3

    response = here.post("/me/sessions", {"csrf_token": csrf_of(here)})
    assert response.status_int == 303
    assert whoami(here) == "alice"
    assert whoami(laptop) is None
    assert whoami(phone) is None
    assert len(session_rows(dbsession, alice)) == 1


def test_end_sessions_signs_a_user_out_of_every_browser(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    alice = factory.user("alice")
    factory.user("bob")
    apps = [browser(), browser()]
    for app in apps:
        sign_in(app, "alice")
    bob = browser()
    sign_in(bob, "bob")

    accounts.end_sessions(dbsession, alice)
    dbsession.flush()
    assert [whoami(app) for app in apps] == [None, None]
    assert whoami(bob) == "bob"


def test_admin_ends_a_users_sessions(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    alice = factory.user("alice")
    factory.user("root", admin=True)
    victim = browser()
    sign_in(victim, "alice")
    admin = browser()
    sign_in(admin, "root")

    response = admin.post(f"/admin/users/{alice.id}/end-sessions", {"csrf_token": csrf_of(admin)})
    assert response.status_int == 303
    assert whoami(victim) is None
    assert whoami(admin) == "root"
    assert session_rows(dbsession, alice) == []


# -- changes take effect on the very next request ---------------------------------------------

def test_deactivation_ends_sessions_and_tokens_at_once(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    alice = factory.user("alice")
    app = browser()
    sign_in(app, "alice")
    _, secret = accounts.create_token(dbsession, alice, {"name": "ci", "scope": "write"})
    token_app = browser()
    assert whoami(token_app, **bearer(secret)) == "alice"

    accounts.set_active(dbsession, alice, False)
    dbsession.flush()
    assert whoami(app) is None
    assert token_app.get("/api/v1/me", headers=bearer(secret), expect_errors=True
                         ).status_int == 401
    assert submit_login(browser(), "alice").status_int == 200  # refused, generic message


def test_set_active_says_whether_anything_changed(factory: Factory, dbsession: Session) -> None:
    alice = factory.user("alice")
    assert accounts.set_active(dbsession, alice, True) is False
    assert accounts.set_active(dbsession, alice, False) is True
    assert accounts.set_active(dbsession, alice, False) is False
    assert accounts.search_users(dbsession, active=False) == ([alice], 1)
    assert alice not in accounts.search_users(dbsession, active=True, limit=None)[0]
    assert accounts.set_active(dbsession, alice, True) is True


def test_last_seen_is_the_latest_session_or_token_use(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    alice, bob, carol = factory.user("alice"), factory.user("bob"), factory.user("carol")
    before = utcnow()
    sign_in(browser(), "alice")
    _, secret = accounts.create_token(dbsession, bob, {"name": "ci"})
    assert whoami(browser(), **bearer(secret)) == "bob"
    dbsession.expire_all()
    seen = accounts.last_seen(dbsession, [alice, bob, carol])
    assert set(seen) == {alice.id, bob.id}
    assert all(before - timedelta(seconds=1) <= at <= utcnow() for at in seen.values())

    age_sessions(dbsession, alice, last_seen_at=before - timedelta(days=3))
    accounts.create_token(dbsession, alice, {"name": "old"})  # never used: not a sighting
    assert accounts.last_seen(dbsession, [alice])[alice.id] == before - timedelta(days=3)
    assert accounts.last_seen(dbsession, []) == {}


def test_inactive_flag_alone_refuses_existing_sessions_and_tokens(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    """Even if the flag is flipped without ending the sessions (e.g. by SQL), the policy
    refuses a deactivated user's cookie and tokens."""
    alice = factory.user("alice")
    app = browser()
    sign_in(app, "alice")
    _, secret = accounts.create_token(dbsession, alice, {"name": "ci", "scope": "read"})
    dbsession.execute(update(User).where(User.id == alice.id).values(is_active=False))
    dbsession.flush()
    assert len(session_rows(dbsession, alice)) == 1
    assert whoami(app) is None
    assert whoami(browser(), **bearer(secret)) is None


def test_admin_deactivation_through_the_web_takes_effect_at_once(
    factory: Factory, browser: Callable[[], Any]
) -> None:
    alice = factory.user("alice")
    factory.user("root", admin=True)
    victim = browser()
    sign_in(victim, "alice")
    admin = browser()
    sign_in(admin, "root")
    response = admin.post(f"/admin/users/{alice.id}/deactivate",
                          {"confirmed": "yes", "csrf_token": csrf_of(admin)})
    assert response.status_int == 303
    assert whoami(victim) is None


def test_password_change_ends_existing_sessions(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    alice = factory.user("alice")
    app = browser()
    sign_in(app, "alice")

    accounts.set_password(dbsession, alice, NEW_PASSWORD)
    dbsession.flush()
    assert whoami(app) is None
    assert submit_login(browser(), "alice", Factory.PASSWORD).status_int == 200
    assert submit_login(browser(), "alice", NEW_PASSWORD).status_int == 303


def test_own_password_change_keeps_this_browser_and_ends_the_others(
    factory: Factory, browser: Callable[[], Any]
) -> None:
    factory.user("alice")
    here, elsewhere = browser(), browser()
    sign_in(here, "alice")
    sign_in(elsewhere, "alice")
    response = here.post("/me/password", {
        "csrf_token": csrf_of(here), "current_password": Factory.PASSWORD,
        "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD,
    })
    assert response.status_int == 303
    assert whoami(here) == "alice"
    assert whoami(elsewhere) is None


def test_revoked_token_is_refused_on_the_next_request(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    alice = factory.user("alice")
    token, secret = accounts.create_token(dbsession, alice, {"name": "ci", "scope": "read"})
    app: webtest.TestApp = browser()
    assert whoami(app, **bearer(secret)) == "alice"
    accounts.revoke_token(dbsession, token)
    dbsession.flush()
    assert app.get("/api/v1/me", headers=bearer(secret), expect_errors=True).status_int == 401


def test_token_revoked_through_the_web_stops_working(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    alice = factory.user("alice")
    token, secret = accounts.create_token(dbsession, alice, {"name": "ci", "scope": "read"})
    app = browser()
    sign_in(app, "alice")
    response = app.post(f"/me/tokens/{token.id}/revoke", {"csrf_token": csrf_of(app)})
    assert response.status_int == 303
    assert browser().get("/api/v1/me", headers=bearer(secret), expect_errors=True
                         ).status_int == 401
