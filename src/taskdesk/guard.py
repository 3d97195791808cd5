"""A tween refusing malformed requests before any view runs.

* 400 for a path, query string or form body that is not UTF-8 or carries NUL bytes
  (Hypercorn hands over paths with invalid bytes already replaced by U+FFFD, so that
  character in the path counts as malformed too);
* 413 for a body larger than ``taskdesk.max_body_bytes``, or for an upload
  (``multipart/form-data``) larger than ``taskdesk.max_upload_bytes``: decided from the
  declared ``Content-Length`` before anything of the body is read.

Every other tween must run after it: a tween that reads ``request.path_info`` or the
parameters first fails on exactly the input the guard refuses (pyramid_debugtoolbar's tween
answered 500 to ``/projects/%FF``). Pyramid's implicit tween order only follows the
``under``/``over`` hints each tween gives, and an add-on in ``pyramid.includes`` may give any,
so the guard takes its place once every include has registered its tweens: directly under
the few tweens of :data:`OUTSIDE_THE_GUARD` and over all the others. An explicit
``pyramid.tweens`` list is the admin's own order; one that puts any other tween outside the
guard, or leaves it out, is refused at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.interfaces import ITweens
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.settings import TaskdeskSettings, settings_of

Handler = Callable[[Request], Response]

GUARD_TWEEN = "taskdesk.guard.guard_tween_factory"
#: The only tweens allowed outside the guard. They read nothing of the
#: request but its method and environ, and must see its refusals: security headers on every
#: answer, the request id and access log, the request metrics (when ``taskdesk.metrics`` is
#: included).
OUTSIDE_THE_GUARD = (
    "taskdesk.headers.security_headers_tween_factory",
    "taskdesk.ops.request_tween_factory",
    "taskdesk.metrics.metrics_tween_factory",
)
#: After every include's tween registrations (order 0), before the tween chain is built.
_AFTER_ALL_TWEENS = 100


def _bad_text(raw: bytes) -> bool:
    if b"\x00" in raw:
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _bad_urlencoded(raw: bytes) -> bool:
    return _bad_text(unquote_to_bytes(raw.replace(b"+", b" ")))


def malformed_reason(request: Request) -> str | None:
    environ = request.environ
    path = environ.get("PATH_INFO", "")
    try:
        path_bytes = path.encode("latin-1")
    except UnicodeEncodeError:  # some servers pass decoded text already
        path_bytes = path.encode("utf-8", "surrogateescape")
    if _bad_text(path_bytes) or "\ufffd" in path_bytes.decode("utf-8", "replace"):
        return "The request path is not valid UTF-8."
    if _bad_urlencoded(environ.get("QUERY_STRING", "").encode("latin-1", "replace")):
        return "The query string is not valid UTF-8."
    if request.content_type == "application/x-www-form-urlencoded" and _bad_urlencoded(
        request.body
    ):
        return "The form data is not valid UTF-8."
    return None


def error_body(path: str, status: int, code: str, message: str) -> tuple[str, bytes]:
    """(content type, body) of a bare refusal: the API's JSON error shape under ``/api/``,
    plain text elsewhere. Also used by the server adapters (``taskdesk.asgi``)."""
    if path.startswith("/api/"):
        body = orjson.dumps({"error": {"status": status, "code": code, "message": message}})
        return "application/json", body
    return "text/plain; charset=utf-8", message.encode()


def error_response(request: Request, status: int, code: str, message: str) -> Response:
    """A bare error answer for requests refused before routing: JSON for the API."""
    # The raw environ value: request.path_info decodes it, which fails on the very paths
    # this answers for (invalid UTF-8, or U+FFFD from Hypercorn).
    content_type, body = error_body(str(request.environ.get("PATH_INFO", "")), status, code,
                                    message)
    response = Response(body=body, status=status)
    response.headers["Content-Type"] = content_type
    return response


def guard_tween_factory(handler: Handler, registry: Any) -> Handler:
    settings: TaskdeskSettings = settings_of(registry)
    body_limit = settings.max_body_bytes
    upload_limit = settings.max_upload_bytes

    def guard_tween(request: Request) -> Response:
        # Only a view that reads files accepts multipart bodies (attachments); elsewhere
        # WebOb would parse one into request.POST, still bounded by the upload limit.
        multipart = request.content_type == "multipart/form-data"
        limit = upload_limit if multipart else body_limit
        length = request.content_length
        if length is not None and length > limit:
            return error_response(request, 413, "payload_too_large",
                                  f"The request body is larger than {limit} bytes.")
        if length is None and request.is_body_readable:
            # Chunked upload: read at most one byte past the limit to decide.
            body = request.body_file.read(limit + 1)
            if len(body) > limit:
                return error_response(request, 413, "payload_too_large",
                                      f"The request body is larger than {limit} bytes.")
            request.body = body
        reason = malformed_reason(request)
        if reason is not None:
            return error_response(request, 400, "malformed_request", reason)
        return handler(request)

    return guard_tween


def place_guard(registry: Registry) -> None:
    """Put the guard over every tween but those of :data:`OUTSIDE_THE_GUARD` (implicit
    order), or refuse an explicit ``pyramid.tweens`` that does not."""
    tweens = registry.getUtility(ITweens)
    if tweens.explicit:
        names = [name for name, _factory in tweens.explicit]
        outside = names[:names.index(GUARD_TWEEN)] if GUARD_TWEEN in names else names
        if GUARD_TWEEN not in names or not set(outside) <= set(OUTSIDE_THE_GUARD):
            raise ConfigurationError(
                f"pyramid.tweens must list {GUARD_TWEEN} before every other tween "
                f"(only {', '.join(OUTSIDE_THE_GUARD)} may come before it)"
            )
        return
    names = [name for name, _factory in tweens.implicit()]
    tweens.add_implicit(
        GUARD_TWEEN, guard_tween_factory,
        under=[name for name in OUTSIDE_THE_GUARD if name in names],
        over=[name for name in names if name not in OUTSIDE_THE_GUARD and name != GUARD_TWEEN],
    )


def includeme(config: Configurator) -> None:
    config.add_tween(GUARD_TWEEN, under="taskdesk.ops.request_tween_factory")
    config.action(None, place_guard, args=(config.registry,), order=_AFTER_ALL_TWEENS)
