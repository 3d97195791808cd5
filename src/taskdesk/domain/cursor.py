"""Keyset cursors: the one encoding of "where the next page starts" for every paged list.

A cursor is a JSON array, base64url-encoded without padding: opaque to clients, and
refused with one message when it is garbled or belongs to another list. The task list puts
its sort, segment, sort key and task id in it; the lists paged by id put ``["id", last_id]``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from taskdesk.domain.errors import ValidationError
from taskdesk.messages import _

#: The largest id an id cursor may hold (ids are positive 32-bit integers in the schema).
_MAX_ID = 10**12


def invalid_cursor() -> ValidationError:
    """The error of a cursor that is garbled or was made for another list."""
    return ValidationError({"cursor": _("This cursor is not valid for this list.")})


def encode_cursor(*values: Any) -> str:
    """A cursor holding ``values`` (JSON values: text, numbers, null)."""
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """The values ``encode_cursor`` put in ``cursor``; :func:`invalid_cursor` when it holds
    no JSON array."""
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise invalid_cursor() from None
    if not isinstance(values, list):
        raise invalid_cursor()
    return values


def is_whole_number(value: Any) -> bool:
    """Whether a decoded cursor value is an integer (JSON ``true`` is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def encode_id_cursor(last_id: int) -> str:
    """The cursor of a list paged by id, after the row ``last_id``."""
    return encode_cursor("id", last_id)


def decode_id_cursor(cursor: str | None) -> int:
    """The id after which the page starts (0 for the first page); :func:`invalid_cursor`
    for a bad cursor."""
    if cursor is None:
        return 0
    values = decode_cursor(cursor)
    if len(values) != 2 or values[0] != "id" or not is_whole_number(values[1]) or not (
            0 <= values[1] < _MAX_ID):
        raise invalid_cursor()
    return int(values[1])
