"""Reading JSON request bodies: the one rule for what a JSON endpoint accepts.

A body must be ``application/json`` (or a ``+json`` type) in UTF-8 (else 415) holding a JSON
object (else 400). The JSON API and the GraphQL endpoint both read bodies here and turn a
:class:`BodyError` into their common error answer.
"""

from __future__ import annotations

from typing import Any

import orjson
from pyramid.request import Request

from taskdesk.messages import _


class BodyError(Exception):
    """The body cannot be read: its status, code and (translatable) message."""

    def __init__(self, status: int, code: str, message: Any) -> None:
        super().__init__(str(message))
        self.status = status
        self.code = code
        self.message = message


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object; :class:`BodyError` 415 for another media type or
    charset, 400 for malformed JSON or a value other than an object."""
    charset = (request.headers.get("Content-Type", "").lower().partition("charset=")[2]
               .split(";")[0].strip().strip('"'))
    if not _is_json(request.content_type) or charset not in ("", "utf-8", "utf8"):
        raise BodyError(415, "unsupported_media_type",
                        _("Send the request body as application/json in UTF-8."))
    try:
        data = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise BodyError(400, "malformed_json", _("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise BodyError(400, "malformed_json", _("The request body must be a JSON object."))
    return data
