"""Argon2id password hashes with the real parameters: new hashes, rehashing at sign-in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from taskdesk.domain import accounts
from taskdesk.models import User
from tests.support.factories import Factory
from tests.support.sessions import sign_in


def test_passwords_are_hashed_with_argon2id(dbsession: Session) -> None:
    user = accounts.create_user(
        dbsession, {"username": "carol", "display_name": "Carol", "password": "long enough pw"}
    )
    assert user.password_hash.startswith("$argon2id$")
    assert "long enough pw" not in user.password_hash


def test_old_parameter_hash_is_rehashed_at_login(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    user = factory.user("alice")
    old_hash = PasswordHasher(time_cost=1).hash(Factory.PASSWORD)
    user.password_hash = old_hash
    dbsession.flush()
    sign_in(browser(), "alice")
    dbsession.expire_all()
    new_hash = dbsession.get(User, user.id).password_hash  # type: ignore[union-attr]
    assert new_hash != old_hash
    assert new_hash.startswith("$argon2id$")
    hasher = PasswordHasher()
    assert hasher.verify(new_hash, Factory.PASSWORD)
    assert not hasher.check_needs_rehash(new_hash)


def test_current_hash_is_left_alone_at_login(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    user = factory.user("alice")
    before = user.password_hash
    sign_in(browser(), "alice")
    dbsession.expire_all()
    assert dbsession.get(User, user.id).password_hash == before  # type: ignore[union-attr]
