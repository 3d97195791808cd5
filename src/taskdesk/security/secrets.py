"""Random bearer secrets (API tokens, session keys), stored only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "td_"


def new_secret() -> str:
    """A token with 32 random bytes: ``td_`` and 43 URL-safe characters."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def visible_prefix(secret: str) -> str:
    """The part of a token shown in lists, so a user can tell their tokens apart."""
    return secret[: len(TOKEN_PREFIX) + 6]
