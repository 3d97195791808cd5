"""``taskdesk.https = true`` on a site reached over plain HTTP: detected, said, logged.

With the setting on, the session cookie is ``Secure``; a browser on ``http://`` does not send
it back, so every sign-in ends in "The form has expired" and nothing else tells why. How a
request arrived is what the server made of it: ``wsgi.url_scheme``, which Waitress sets from
``X-Forwarded-Proto`` for its ``trusted_proxy`` only. Hypercorn applies no proxy headers, so
an ``X-Forwarded-Proto: https`` (or ``Forwarded: proto=https``) that reaches the app counts as
HTTPS too: the browser then does speak HTTPS to the proxy, and its cookies come back. (A client
sending the header itself only hides the warning from itself.) Browsers treat
``http://localhost`` and loopback addresses as secure and do send Secure cookies there, so
a site opened on its own machine is not warned about either.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time

from pyramid.request import Request
from translationstring import TranslationString

from taskdesk.messages import _
from taskdesk.settings import settings_of

log = logging.getLogger(__name__)

#: Seconds between two warnings in the log (per application): one line, not one per request.
WARNING_INTERVAL = 3600.0
_LAST_WARNING = "taskdesk.https_warned_at"
_FORWARDED_HTTPS = re.compile(r"(?:^|[;,\s])proto=\"?https\"?(?:$|[;,\s])", re.IGNORECASE)

PLAIN_HTTP_PROBLEM = _(
    "Signing in cannot work here: this site is set up for HTTPS (taskdesk.https = true), "
    "but this page came over plain HTTP, so your browser will not send the sign-in cookie "
    "back. Open the site with https:// (behind a proxy, the proxy must send "
    "X-Forwarded-Proto and the server must trust it), or, on a plain-HTTP intranet, ask "
    "the administrator to set taskdesk.https = false."
)


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _secure_cookies_come_back(request: Request) -> bool:
    """Whether the browser sends Secure cookies with this request's site."""
    if request.scheme == "https" or _loopback(request.domain.lower()):
        return True
    forwarded_proto = request.headers.get("X-Forwarded-Proto", "")
    if forwarded_proto.split(",")[0].strip().lower() == "https":
        return True
    return bool(_FORWARDED_HTTPS.search(request.headers.get("Forwarded", "")))


def plain_http_problem(request: Request) -> TranslationString | None:
    """What to tell the user when the site wants HTTPS and this request came over HTTP
    (logging the fix for the admin, at most once per :data:`WARNING_INTERVAL`), else None."""
    if not settings_of(request.registry).https or _secure_cookies_come_back(request):
        return None
    registry = request.registry
    now = time.monotonic()
    last = registry.get(_LAST_WARNING)
    if last is None or now - last >= WARNING_INTERVAL:
        registry[_LAST_WARNING] = now
        log.warning(
            "taskdesk.https = true, but a request for %s came over plain HTTP: browsers do not "
            "send the Secure session cookie back over http://, so every sign-in fails with "
            "\"The form has expired\". Fix: serve the site over HTTPS (behind a TLS proxy, send "
            "X-Forwarded-Proto and list the proxy in waitress trusted_proxy), or set "
            "taskdesk.https = false for a plain-HTTP intranet.",
            request.host_url,
        )
    return PLAIN_HTTP_PROBLEM
