"""JSON in and out: rendering API views with orjson, and the request-body reader.

Responses are UTF-8 JSON (Chinese text as is, not ``\\u`` escapes), timestamps ISO 8601 in
UTC with a ``Z``. Request bodies must be ``application/json`` (or a ``+json`` type) in UTF-8.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import orjson
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api.errors import ApiError
from taskdesk.bodies import BodyError, json_object

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC

View = Callable[[Any, Request], Any]


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=_OPTIONS)


def json_view(view: View) -> View:
    """Wrap an API view: a dict it returns becomes the JSON body of ``request.response``
    (which the view may have given a status and headers); a Response passes as it is.

    This replaces a Pyramid renderer on purpose: the renderer machinery and its BeforeRender
    subscribers (the web UI's template helpers) cost about a millisecond per request, a
    large share of a JSON list request.
    """

    @functools.wraps(view)
    def render(context: Any, request: Request) -> Any:
        result = view(context, request)
        if isinstance(result, Response):
            return result
        response = request.response
        response.body = dumps(result)
        response.content_type = "application/json"
        response.charset = None
        return response

    return render


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (:func:`taskdesk.bodies.json_object`); its refusals as
    :class:`ApiError` (415, 400)."""
    try:
        return json_object(request)
    except BodyError as error:
        raise ApiError(error.status, error.code, error.message) from None
