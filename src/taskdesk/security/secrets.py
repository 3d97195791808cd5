"""Random bearer secrets (API tokens, session keys), stored only as SHA-256 digests, and
sealing the few stored values that hold a secret."""

from __future__ import annotations

import hashlib
import hmac
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


#: Lengths in a sealed box: nonce, then ciphertext, then the authentication tag.
_NONCE = 16
_TAG = 32


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    """HMAC-SHA256 as a pseudo-random function in counter mode (blocks of 32 bytes)."""
    blocks = (hmac.digest(key, nonce + counter.to_bytes(8, "big"), "sha256")
              for counter in range((length + 31) // 32))
    return b"".join(blocks)[:length]


def _xor(data: bytes, stream: bytes) -> bytes:
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(
        len(data), "big")


def _keys(secret: bytes) -> tuple[bytes, bytes]:
    return (hmac.digest(secret, b"taskdesk seal: encrypt", "sha256"),
            hmac.digest(secret, b"taskdesk seal: authenticate", "sha256"))


def seal(secret: bytes, data: bytes) -> bytes:
    """``data`` encrypted and authenticated with ``secret`` (encrypt-then-MAC: an HMAC-SHA256
    keystream with a random nonce, and an HMAC-SHA256 tag over nonce and ciphertext).

    For the few stored answers that hold a secret (a new API token's): the database keeps
    only what this returns, and ``secret`` is derived from values the database does not
    hold. The standard library has no AEAD cipher; this construction needs only HMAC.
    """
    encrypt, authenticate = _keys(secret)
    nonce = secrets.token_bytes(_NONCE)
    ciphertext = _xor(data, _keystream(encrypt, nonce, len(data)))
    return nonce + ciphertext + hmac.digest(authenticate, nonce + ciphertext, "sha256")


def unseal(secret: bytes, box: bytes) -> bytes | None:
    """What :func:`seal` sealed, or None when ``box`` was not sealed with ``secret`` (or was
    altered)."""
    if len(box) < _NONCE + _TAG:
        return None
    encrypt, authenticate = _keys(secret)
    nonce, ciphertext, tag = box[:_NONCE], box[_NONCE:-_TAG], box[-_TAG:]
    if not hmac.compare_digest(tag, hmac.digest(authenticate, nonce + ciphertext, "sha256")):
        return None
    return _xor(ciphertext, _keystream(encrypt, nonce, len(ciphertext)))
