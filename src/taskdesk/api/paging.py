"""List parameters (``limit``, ``cursor``, ``offset``) and list answers.

Every list answers ``{"items": [...], "next": url|null}`` with a ``Link: <url>; rel="next"``
header. The cursor is opaque to clients; every list's is made by :mod:`taskdesk.domain.cursor`
(the task list's by its domain query, the others' by id, re-exported here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api.conditional import respond_list
from taskdesk.api.errors import ApiError
from taskdesk.domain.cursor import decode_id_cursor as decode_domain_id_cursor
from taskdesk.domain.cursor import encode_id_cursor as encode_id_cursor
from taskdesk.domain.errors import ValidationError
from taskdesk.messages import _
from taskdesk.settings import settings_of

PAGING_KEYS = ("limit", "cursor", "offset")


@dataclass(frozen=True)
class Paging:
    limit: int
    cursor: str | None
    offset: int


def query_params(request: Request) -> dict[str, str]:
    """The query string as a dict; parameters given twice are a 400 (naming each)."""
    params: dict[str, str] = {}
    repeated: dict[str, Any] = {}
    for key, values in request.GET.dict_of_lists().items():
        if len(values) > 1:
            repeated[key] = _("Give this parameter once.")
        params[key] = values[0]
    if repeated:
        raise bad_parameters(repeated)
    return params


def bad_parameters(fields: Mapping[str, Any]) -> ApiError:
    return ApiError(400, "invalid_parameter",
                    _("Invalid query parameters: ${names}.",
                      mapping={"names": ", ".join(sorted(fields))}),
                    fields)


def _whole_number(params: Mapping[str, str], key: str, default: int, maximum: int,
                  minimum: int, errors: dict[str, Any]) -> int:
    raw = params.get(key)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not minimum <= int(raw) <= maximum:
        errors[key] = _("Must be a whole number from ${a} to ${b}.",
                        mapping={"a": minimum, "b": maximum})
        return default
    return int(raw)


def paging(request: Request, params: Mapping[str, str], errors: dict[str, Any]) -> Paging:
    """``limit``, ``cursor`` and ``offset``; a bad one's message is added to ``errors``, for
    the caller to report with the other parameters' problems in one 400."""
    settings = settings_of(request.registry)
    limit = _whole_number(params, "limit", settings.api_default_limit, settings.api_max_limit,
                          1, errors)
    offset = _whole_number(params, "offset", 0, settings.api_max_offset, 0, errors)
    cursor = params.get("cursor") or None
    if cursor is not None and offset:
        errors["offset"] = _("Use either a cursor or an offset.")
    return Paging(limit, cursor, offset)


def decode_id_cursor(cursor: str | None) -> int:
    """The id after which the page starts (0 for the first page); 400 for a bad cursor."""
    try:
        return decode_domain_id_cursor(cursor)
    except ValidationError as error:
        raise bad_parameters(error.fields) from None


def next_url(request: Request, params: Mapping[str, str], paging: Paging,
             cursor: str | None) -> str | None:
    """The next page's URL: the same parameters with the new cursor (and no offset)."""
    if cursor is None:
        return None
    kept = {k: v for k, v in params.items() if k not in PAGING_KEYS}
    kept["limit"] = str(paging.limit)
    kept["cursor"] = cursor
    return f"{request.path_url}?{urlencode(kept)}"


def page(request: Request, items: list[Any], next_link: str | None) -> Response:
    """The list answer, with its ETag (304 for a matching ``If-None-Match``)."""
    if next_link is not None:
        request.response.headers["Link"] = f'<{next_link}>; rel="next"'
    return respond_list(request, {"items": items, "next": next_link})


def id_page(rows: Sequence[Any], paging: Paging) -> tuple[list[Any], str | None]:
    """A page of rows fetched with ``limit + 1`` and the cursor after it (None: last page)."""
    if len(rows) <= paging.limit:
        return list(rows), None
    kept = list(rows[: paging.limit])
    return kept, encode_id_cursor(kept[-1].id)


def simple_list(request: Request, *, flags: tuple[str, ...] = ()
                ) -> tuple[dict[str, str], Paging, int]:
    """Parameters of a list without filters but true/false ``flags`` (``unread=true``):
    (params, paging, id to start after); a 400 naming every bad parameter."""
    params = query_params(request)
    errors: dict[str, Any] = {key: _("Unknown parameter.") for key in params
                              if key not in PAGING_KEYS and key not in flags}
    for flag in flags:
        if params.get(flag, "false") not in ("true", "false"):
            errors[flag] = _("Must be true or false.")
    paging_ = paging(request, params, errors)
    after = 0
    try:
        after = decode_id_cursor(paging_.cursor)
    except ApiError as error:
        errors.update(error.fields or {})
    if errors:
        raise bad_parameters(errors)
    return params, paging_, after
