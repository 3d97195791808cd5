"""A tween refusing malformed requests before any view runs.

* 400 for a path, query string or form body that is not UTF-8 or carries NUL bytes
  (Hypercorn hands over paths with invalid bytes already replaced by U+FFFD, so that
  character in the path counts as malformed too);
* 413 for a body larger than ``taskdesk.max_body_bytes``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.settings import TaskdeskSettings

Handler = Callable[[Request], Response]


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


def error_response(request: Request, status: int, code: str, message: str) -> Response:
    """A bare error answer for requests refused before routing: JSON for the API."""
    # The raw environ value: request.path_info decodes it, which fails on the very paths
    # this answers for (invalid UTF-8, or U+FFFD from Hypercorn).
    if str(request.environ.get("PATH_INFO", "")).startswith("/api/"):
        body = orjson.dumps({"error": {"status": status, "code": code, "message": message}})
        return Response(body=body, status=status, content_type="application/json")
    return Response(body=message.encode(), status=status, content_type="text/plain",
                    charset="utf-8")


def guard_tween_factory(handler: Handler, registry: Any) -> Handler:
    settings: TaskdeskSettings = registry.taskdesk_settings
    limit = settings.max_body_bytes

    def guard_tween(request: Request) -> Response:
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


def includeme(config: Any) -> None:
    config.add_tween("taskdesk.guard.guard_tween_factory", over="pyramid_tm.tm_tween_factory")
