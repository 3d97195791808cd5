"""Request ids, one access-log line per request, and error logging.

The tween is second from the outside: only the security headers' tween wraps it (so the
bare 500 it answers carries the headers too); the metrics tween, when switched on, and the
input guard sit right under it, then every other tween. So it sees the final answer of each
attempt, including the guard's 400/413 and errors rendered by exception views
(tests/functional/test_tween_order.py checks the order):

* ``X-Request-ID`` from the client is kept when it is 1-200 visible ASCII characters (no
  spaces, so it stays one token in logs); otherwise a fresh one is generated. The id is kept in
  the WSGI environ, so every pyramid_retry attempt of a request shares it, it is available as
  ``request.request_id`` (e.g. for a 500 page to quote) and it is sent back in ``X-Request-ID``.
* Logger ``taskdesk.access`` gets one INFO line per request: request id, user id, method,
  path (without the query string, which may carry search terms), status and duration in
  milliseconds. The user id is read from the security policy's per-request identity cache
  *without* computing it, so the log never costs a query. (pyramid_tm computes the identity
  first thing in every request, ``tm.annotate_user``, so any request carrying credentials
  shows its user; the guard's refusals and the sign-in request itself log ``-``.)
* Logger ``taskdesk.error`` gets the traceback and the request id of every failure that ends
  in a 5xx. An exception no exception view rendered is turned into a bare 500 that shows the
  request id and nothing else; retryable errors that pyramid_retry will run again pass through
  (logged as a warning), so retrying keeps working.
* A database outage (:func:`taskdesk.models.database_outage`: refused or lost connections,
  a broken SQLite file, locks or a full pool) is no bug: the web UI's and the API's
  exception views for it (view predicate ``database_outage=True``) answer 503 with
  ``Retry-After`` from :data:`OUTAGE_ANSWERS`, and this tween logs one WARNING line with the
  request id and the driver's message, no traceback (an outage would otherwise write one
  per request). Unrendered, it gets a bare 503 here.

Once the application is built (Pyramid's ``ApplicationCreated``) the objects made at
start-up are moved out of the garbage collector's view with ``gc.freeze()``: the collector
then stops re-scanning the whole configuration on every generation-2 collection, the long
pauses behind p99 latency. This covers every way the app is
started (``pserve``, ``taskdesk.wsgi`` for Hypercorn, ``waitress-serve``).
"""

from __future__ import annotations

import gc
import logging
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from random import getrandbits
from typing import Any
from urllib.parse import quote

from pyramid.config import Configurator
from pyramid.events import ApplicationCreated
from pyramid.interfaces import ISecurityPolicy
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import INGRESS
from pyramid_retry import is_error_retryable
from translationstring import TranslationString

from taskdesk.messages import _
from taskdesk.models import Outage, database_outage

Handler = Callable[[Request], Response]

REQUEST_ID_HEADER = "X-Request-ID"
#: WSGI environ key holding the request id (shared by all retry attempts of a request).
ENVIRON_KEY = "taskdesk.request_id"
_VALID_REQUEST_ID = re.compile(r"[!-~]{1,200}")
#: Characters left as they are when a path is written to the log; the rest is %-escaped, so
#: a path can neither break the line nor forge a field.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"

access_log = logging.getLogger("taskdesk.access")
error_log = logging.getLogger("taskdesk.error")


@dataclass(frozen=True)
class OutageAnswer:
    """What a client is told about a database outage: API error code, message, and
    seconds to wait (``Retry-After``)."""

    code: str
    message: TranslationString
    retry_after: int


OUTAGE_ANSWERS = {
    Outage.BUSY: OutageAnswer(
        "busy", _("The database is busy; please try again in a moment."), 1),
    Outage.UNREACHABLE: OutageAnswer(
        "database_unavailable",
        _("The database cannot be reached right now; please try again in a moment."), 5),
}


def outage_answer(error: BaseException) -> OutageAnswer | None:
    """The answer for ``error`` if it is a database outage, else None."""
    outage = database_outage(error)
    return None if outage is None else OUTAGE_ANSWERS[outage]


class DatabaseOutagePredicate:
    """View predicate ``database_outage=True``: the exception view's context (the error)
    is a database outage. Views without it answer every other error."""

    def __init__(self, value: bool, config: Any) -> None:
        self.value = value

    def text(self) -> str:
        return f"database_outage = {self.value}"

    phash = text

    def __call__(self, context: Any, request: Request) -> bool:
        return (database_outage(context) is not None) == self.value


def request_id(request: Request) -> str:
    """The id of this request: the client's valid ``X-Request-ID`` or a new random one."""
    environ = request.environ
    value = environ.get(ENVIRON_KEY)
    if value is None:
        given = environ.get("HTTP_X_REQUEST_ID", "")
        # 128 random bits from the process's generator, not the OS's (uuid4 makes a system
        # call per request): an id has to be unique, not unpredictable.
        value = given if _VALID_REQUEST_ID.fullmatch(given) else f"{getrandbits(128):032x}"
        environ[ENVIRON_KEY] = value
    return str(value)


def known_user_id(request: Request) -> str:
    """The signed-in user's id if the security policy already computed it, else ``-``
    (never a database round trip: the transaction may have ended)."""
    policy = request.registry.queryUtility(ISecurityPolicy)
    cache = getattr(policy, "identity_cache", None)
    identity = cache.get(request, None) if cache is not None else None
    user_id = getattr(identity, "user_id", None)
    return "-" if user_id is None else str(user_id)


def unrendered_status(error: BaseException) -> int:
    """The status this tween answers for an error no exception view rendered (the request
    metrics count it so): 503 for a database outage, else 500."""
    return 500 if database_outage(error) is None else 503


def _server_error(request_id: str, error: BaseException) -> Response:
    """The bare answer for an error no exception view rendered."""
    answer = outage_answer(error)
    if answer is None:
        body = f"Internal Server Error. Request id: {request_id}\n"
        return Response(body=body.encode(), status=500, content_type="text/plain",
                        charset="utf-8")
    body = f"Service Unavailable. Request id: {request_id}\n"
    response = Response(body=body.encode(), status=unrendered_status(error),
                        content_type="text/plain",
                        charset="utf-8")
    response.headers["Retry-After"] = str(answer.retry_after)
    return response


def _driver_message(error: BaseException) -> str:
    """The database driver's message on one short line (what the outage log line quotes)."""
    text = " ".join(str(getattr(error, "orig", None) or error).split())
    return text if len(text) <= 300 else text[:299] + "…"


def _log_failure(request: Request, rid: str, exc_info: Any, status: int | None = None) -> None:
    """Log a failed attempt: a retry to come, or the error (``status``: what an exception
    view answered for it; None: nothing did, the client gets a bare 500, or 503)."""
    exc = exc_info[1]
    name = type(exc).__name__
    outage = database_outage(exc)
    if is_error_retryable(request, exc):
        error_log.warning("request_id=%s attempt %d failed with %s; retrying", rid,
                          request.environ.get("retry.attempt", 0) + 1, name)
    elif outage is not None:
        error_log.warning("request_id=%s answered %d for %s: database %s: %s", rid,
                          status or 503, name, outage, _driver_message(exc))
    elif status is None:
        error_log.error("request_id=%s unhandled %s", rid, name, exc_info=exc_info)
    else:
        error_log.error("request_id=%s answered %d for %s", rid, status, name, exc_info=exc_info)


def _logged_path(request: Request) -> str:
    """The raw request path, %-escaped (it may even be invalid UTF-8: the guard's 400s)."""
    environ = request.environ
    raw = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode(
        "latin-1", "replace"
    )
    return quote(raw, safe=_PATH_SAFE) or "/"


def _failed(request: Request, response: Response, exc: BaseException) -> bool:
    """Whether an exception an exception view rendered is worth the error log."""
    return bool(is_error_retryable(request, exc)) or response.status_code >= 500


def request_tween_factory(handler: Handler, registry: Any) -> Handler:
    def request_tween(request: Request) -> Response:
        start = time.perf_counter()
        rid = request_id(request)
        try:
            response = handler(request)
        except Exception as exc:
            _log_failure(request, rid, sys.exc_info())
            if is_error_retryable(request, exc):
                raise
            response = _server_error(rid, exc)
        else:
            exc_info = getattr(request, "exc_info", None)
            if exc_info is not None and _failed(request, response, exc_info[1]):
                _log_failure(request, rid, exc_info, response.status_code)
        response.headers[REQUEST_ID_HEADER] = rid
        rendered = getattr(request, "exception", None)
        if rendered is not None and is_error_retryable(request, rendered):
            return response  # pyramid_retry discards this answer and runs the request again
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "request_id=%s user=%s method=%s path=%s status=%d duration_ms=%.1f",
                rid, known_user_id(request), request.method, _logged_path(request),
                response.status_code, (time.perf_counter() - start) * 1000.0,
            )
        return response

    return request_tween


def freeze_start_up_objects(event: ApplicationCreated) -> None:
    gc.collect()
    gc.freeze()


def includeme(config: Configurator) -> None:
    config.add_request_method(request_id, "request_id", reify=True)
    config.add_view_predicate("database_outage", DatabaseOutagePredicate)
    config.add_tween("taskdesk.ops.request_tween_factory", under=INGRESS)
    config.add_subscriber(freeze_start_up_objects, ApplicationCreated)
