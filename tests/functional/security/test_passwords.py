"""Argon2id password hashes: the production cost by default, the cost the settings name,
rehashing at sign-in. (The other test apps hash at ``TEST_PASSWORD_COST``, far cheaper.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from taskdesk.domain import accounts
from taskdesk.models import User
from taskdesk.security.passwords import PRODUCTION_COST, Argon2Cost
from taskdesk.settings import SettingsError, parse_settings
from tests.support.apps import TEST_PASSWORD_COST
from tests.support.factories import Factory
from tests.support.sessions import sign_in

#: argon2-cffi's defaults, the production cost (RFC 9106's second recommendation).
PRODUCTION_HASHER = PasswordHasher()
#: The INI keys of the production cost, which an app built with them must honour.
PRODUCTION_SETTINGS = {
    "taskdesk.passwords.argon2_time_cost": str(PRODUCTION_HASHER.time_cost),
    "taskdesk.passwords.argon2_memory_cost": str(PRODUCTION_HASHER.memory_cost),
    "taskdesk.passwords.argon2_parallelism": str(PRODUCTION_HASHER.parallelism),
}


def test_the_production_cost_is_the_default() -> None:
    settings = parse_settings({"taskdesk.environment": "development"})
    assert settings.password_cost == PRODUCTION_COST == Argon2Cost(
        PRODUCTION_HASHER.time_cost, PRODUCTION_HASHER.memory_cost,
        PRODUCTION_HASHER.parallelism)
    assert parse_settings({"taskdesk.environment": "development", **PRODUCTION_SETTINGS}
                          ).password_cost == PRODUCTION_COST


def test_a_cost_below_eight_kib_per_lane_stops_start_up() -> None:
    with pytest.raises(SettingsError, match="argon2_memory_cost"):
        parse_settings({"taskdesk.environment": "development",
                        "taskdesk.passwords.argon2_memory_cost": "16",
                        "taskdesk.passwords.argon2_parallelism": "4"})


def test_passwords_are_hashed_with_argon2id_at_the_production_cost(dbsession: Session) -> None:
    user = accounts.create_user(
        dbsession, {"username": "carol", "display_name": "Carol", "password": "long enough pw"}
    )
    assert user.password_hash.startswith("$argon2id$")
    assert "long enough pw" not in user.password_hash
    assert PRODUCTION_HASHER.verify(user.password_hash, "long enough pw")
    assert not PRODUCTION_HASHER.check_needs_rehash(user.password_hash)


def test_old_parameter_hash_is_rehashed_at_login_at_the_production_cost(
    factory: Factory, dbsession: Session, app_with: Callable[..., Any]
) -> None:
    user = factory.user("alice")
    old_hash = PasswordHasher(time_cost=1).hash(Factory.PASSWORD)
    user.password_hash = old_hash
    dbsession.flush()
    sign_in(app_with(**PRODUCTION_SETTINGS), "alice")
    dbsession.expire_all()
    new_hash = dbsession.get(User, user.id).password_hash  # type: ignore[union-attr]
    assert new_hash != old_hash
    assert new_hash.startswith("$argon2id$")
    assert PRODUCTION_HASHER.verify(new_hash, Factory.PASSWORD)
    assert not PRODUCTION_HASHER.check_needs_rehash(new_hash)


def test_a_hash_is_rehashed_at_login_at_the_cost_the_settings_name(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    user = factory.user("alice")
    user.password_hash = PRODUCTION_HASHER.hash(Factory.PASSWORD)
    dbsession.flush()
    sign_in(browser(), "alice")  # the standard test app: TEST_PASSWORD_COST
    dbsession.expire_all()
    new_hash = dbsession.get(User, user.id).password_hash  # type: ignore[union-attr]
    cheap = PasswordHasher(time_cost=TEST_PASSWORD_COST.time_cost,
                           memory_cost=TEST_PASSWORD_COST.memory_cost,
                           parallelism=TEST_PASSWORD_COST.parallelism)
    assert cheap.verify(new_hash, Factory.PASSWORD)
    assert not cheap.check_needs_rehash(new_hash)
    assert PRODUCTION_HASHER.check_needs_rehash(new_hash)


def test_current_hash_is_left_alone_at_login(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    user = factory.user("alice")
    before = user.password_hash
    sign_in(browser(), "alice")
    dbsession.expire_all()
    assert dbsession.get(User, user.id).password_hash == before  # type: ignore[union-attr]
