"""Argon2id password hashing, at the cost the settings name (``taskdesk.passwords.argon2_*``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@dataclass(frozen=True)
class Argon2Cost:
    """What one hash costs: passes over memory, KiB of memory, lanes. The defaults are
    argon2-cffi's (RFC 9106's second recommendation): the production cost. A hash records
    its own cost, so verifying never depends on this; a hash made at another cost is
    replaced at the next sign-in."""

    time_cost: int = 3
    memory_cost: int = 65536
    parallelism: int = 4


PRODUCTION_COST = Argon2Cost()


@cache
def _hasher(cost: Argon2Cost) -> PasswordHasher:
    return PasswordHasher(time_cost=cost.time_cost, memory_cost=cost.memory_cost,
                          parallelism=cost.parallelism)


def hash_password(password: str, cost: Argon2Cost = PRODUCTION_COST) -> str:
    return _hasher(cost).hash(password)


def verify_password(password_hash: str, password: str,
                    cost: Argon2Cost = PRODUCTION_COST) -> tuple[bool, bool]:
    """Return (matches, needs_rehash): rehash when the hash was made at another cost."""
    hasher = _hasher(cost)
    try:
        hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False, False
    return True, hasher.check_needs_rehash(password_hash)


@cache
def dummy_hash(cost: Argon2Cost) -> str:
    """Verifying against this keeps a wrong username as slow as a wrong password (it costs
    what real hashes cost). Made at its first use, not at import: every ``taskdesk``
    command would pay for it otherwise."""
    return hash_password("taskdesk-timing-equaliser", cost)
