"""JSON in and out: the orjson renderer and the request-body reader.

Responses are UTF-8 JSON (Chinese text as is, not ``\\u`` escapes), timestamps ISO 8601 in
UTC with a ``Z``. Request bodies must be ``application/json`` (or a ``+json`` type) in UTF-8.
"""

from __future__ import annotations

from typing import Any

import orjson
from pyramid.request import Request

from taskdesk.api.errors import ApiError
from taskdesk.domain.schema import _

RENDERER = "api_json"
_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=_OPTIONS)


class JSONRenderer:
    """A Pyramid renderer factory: ``renderer="api_json"``."""

    def __init__(self, info: Any) -> None:
        self.info = info

    def __call__(self, value: Any, system: dict[str, Any]) -> bytes:
        request = system.get("request")
        if request is not None:
            response = request.response
            if response.content_type == response.default_content_type:
                response.content_type = "application/json"
                response.charset = None
        return dumps(value)


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; 415 for another media type, 400 for malformed JSON."""
    charset = (request.headers.get("Content-Type", "").lower().partition("charset=")[2]
               .split(";")[0].strip().strip('"'))
    if not _is_json(request.content_type) or charset not in ("", "utf-8", "utf8"):
        raise ApiError(415, "unsupported_media_type",
                       _("Send the request body as application/json in UTF-8."))
    try:
        data = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise ApiError(400, "malformed_json", _("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", _("The request body must be a JSON object."))
    return data
