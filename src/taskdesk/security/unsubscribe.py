"""Signed one-click links that turn e-mail off for some notification reasons, without
signing in (the ``List-Unsubscribe`` header of every mail, RFC 2369 and RFC 8058).

A link names a user and reasons, and carries an HMAC-SHA256 over both with a key derived from
the session secret (so nobody can make one for someone else, and changing the secret voids
every link sent). Links do not expire: a mail read a year later still works, and all a link
can do is move its reasons to "inbox only", which the person can undo in their profile.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable

from taskdesk.domain.events import Reason

#: The web page serving the links: ``<public_url>/unsubscribe/<token>``.
UNSUBSCRIBE_PATH = "unsubscribe"
_PURPOSE = b"taskdesk one-click unsubscribe v1"
_TOKEN = re.compile(r"([1-9][0-9]{0,9})-([a-z]+(?:\.[a-z]+)*)-([A-Za-z0-9_-]{22})")


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), _PURPOSE, hashlib.sha256).digest()


def _signature(secret: str, payload: str) -> str:
    mac = hmac.new(_key(secret), payload.encode("ascii"), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def unsubscribe_token(secret: str, user_id: int, reasons: Iterable[Reason]) -> str:
    """The token of a link turning ``reasons`` to inbox-only for ``user_id``."""
    names = ".".join(sorted({Reason(reason).value for reason in reasons}))
    payload = f"{user_id}-{names}"
    return f"{payload}-{_signature(secret, payload)}"


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, tuple[Reason, ...]] | None:
    """(user id, reasons) of a genuine token; None for anything malformed or tampered with."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    user_id, names, signature = match.groups()
    if not hmac.compare_digest(signature, _signature(secret, f"{user_id}-{names}")):
        return None
    try:
        reasons = tuple(Reason(name) for name in names.split("."))
    except ValueError:
        return None
    return int(user_id), reasons
