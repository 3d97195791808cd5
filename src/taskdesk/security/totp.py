"""Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP), with the standard library.

Authenticator apps use SHA-1, six digits and 30-second steps; the other algorithms and
lengths are here for the RFC's own test vectors.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from urllib.parse import quote, urlencode

#: Seconds per time step.
STEP = 30
DIGITS = 6
#: Steps either side of the current one a code is still accepted for (clock drift).
DRIFT = 1
#: Secret length in bytes: 160 bits, as RFC 4226 recommends for SHA-1.
SECRET_BYTES = 20


def new_secret() -> str:
    """A random secret, base32 without padding (what authenticator apps take)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def _key(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS, algorithm: str = "sha1") -> str:
    """RFC 4226: HMAC of the counter, dynamically truncated to ``digits`` decimal digits."""
    mac = hmac.digest(key, counter.to_bytes(8, "big"), algorithm)
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def time_step(unix_time: float) -> int:
    return int(unix_time // STEP)


def code_at(secret: str, unix_time: float) -> str:
    """The code an authenticator app shows at ``unix_time`` for the base32 ``secret``."""
    return hotp(_key(secret), time_step(unix_time))


def matching_step(secret: str, code: str, unix_time: float, after: int | None) -> int | None:
    """The time step ``code`` belongs to, within :data:`DRIFT` steps of ``unix_time``, or
    None. Steps up to and including ``after`` (the last one used) never match, so a code
    works once and an older one cannot follow a newer one."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = _key(secret)
    now = time_step(unix_time)
    found = None
    for step in range(now - DRIFT, now + DRIFT + 1):
        # Every candidate is computed and compared, so the time taken says nothing.
        if hmac.compare_digest(hotp(key, step), code) and (after is None or step > after):
            found = step
    return found


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI a QR code carries (Google Authenticator's key URI format)."""
    label = quote(f"{issuer}:{account}", safe="")
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1",
                       "digits": DIGITS, "period": STEP})
    return f"otpauth://totp/{label}?{query}"


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it in by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
