"""ETags and conditional requests.

A list's ETag is ``W/"list-<length>-<crc32>"``, a checksum of the page's JSON body exactly as
sent: the items with their ``allowed``, and the ``next`` link (so the limit and cursor too).
Whatever changes in the representation changes the tag, and it costs no SQL statement, only a
checksum of the body (a 304 saves the transfer and the client's work, not the server's query).

A resource's ETag is ``W/"<kind>-<id>-<version>.<allowed>"``: the version identifies the
stored state, the last part is a short digest of the caller's ``allowed`` list, which is part
of the representation (a role change must not be answered with 304).

* ``If-None-Match`` on GET compares whole tags: a match answers 304 without a body.
* ``If-Match`` on PATCH/DELETE concerns the stored state only (``<kind>-<id>-<version>``): a
  stale one answers 412 and nothing changes. ``*`` matches any existing resource. For tasks
  and comments the version it names goes to the domain as the expected version (the domain
  is the one place comparing versions, see ``taskdesk.domain.versions``); resources without
  a version column (projects, memberships, tokens) compare their state tag here.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api.errors import precondition_failed
from taskdesk.api.rendering import dumps


def state(kind: str, ident: Any, version: Any) -> str:
    return f"{kind}-{ident}-{version}"


def etag(state_tag: str, allowed: Iterable[str]) -> str:
    digest = zlib.crc32(",".join(allowed).encode()) & 0xFFFFFFFF
    return f'W/"{state_tag}.{digest:08x}"'


def _tags(header: str) -> list[str]:
    tags = []
    for item in header.split(","):
        tag = item.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        tags.append(tag.strip('"'))
    return tags


def _matches(request: Request, tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (weak comparison) on a GET or HEAD."""
    header = request.headers.get("If-None-Match")
    if header is None or request.method not in ("GET", "HEAD"):
        return False
    wanted = _tags(header)
    return "*" in wanted or tag[3:-1] in wanted


def _not_modified(tag: str, vary: str) -> Response:
    return Response(status=304, headers={"ETag": tag, "Vary": vary},
                    cache_control="private, no-cache")


#: Lists also vary by Accept: the task lists answer CSV at the same URL.
_LIST_VARY = ("Authorization", "Cookie", "Accept")


def respond_list(request: Request, body: dict[str, Any]) -> Response:
    """A list page as JSON with its ETag, or 304 without a body when ``If-None-Match``
    names it."""
    payload = dumps(body)
    # CRC-32 and the length, not a cryptographic digest: the tag only has to change when the
    # body does (a false match needs an equal length and CRC, ~1 in 4 billion per change),
    # and BLAKE2 over a 50-task page cost ~6% of the request's instructions (CRC-32: ~1%).
    tag = f'W/"list-{len(payload):x}-{zlib.crc32(payload):08x}"'
    if _matches(request, tag):
        return _not_modified(tag, ", ".join(_LIST_VARY))
    response = request.response
    response.body = payload
    response.content_type = "application/json"
    response.charset = None
    response.headers["ETag"] = tag
    response.cache_control = "private, no-cache"
    response.vary = _LIST_VARY
    return response


def tagged(request: Request, body: dict[str, Any], state_tag: str) -> dict[str, Any]:
    """Put the ETag (and the caching rules that go with it) on the response."""
    request.response.headers["ETag"] = etag(state_tag, body.get("allowed", ()))
    request.response.cache_control = "private, no-cache"
    request.response.vary = ("Authorization", "Cookie")
    return body


def respond(request: Request, body: dict[str, Any], state_tag: str) -> dict[str, Any] | Response:
    """``tagged``, or 304 without a body when ``If-None-Match`` names the current tag."""
    tag = etag(state_tag, body.get("allowed", ()))
    if _matches(request, tag):
        return _not_modified(tag, "Authorization, Cookie")
    return tagged(request, body, state_tag)


def _if_match(request: Request) -> list[str] | None:
    """The stored states ``If-Match`` names (without their ``allowed`` digest), or None."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    return [tag.rpartition(".")[0] or tag for tag in _tags(header)]


def check_if_match(request: Request, state_tag: str) -> None:
    """Check ``If-Match`` against the stored state of a resource without a version column;
    412 when it is stale."""
    wanted = _if_match(request)
    if wanted is not None and "*" not in wanted and state_tag not in wanted:
        raise precondition_failed()


def if_match_version(request: Request, kind: str, ident: int) -> int | None:
    """The version ``If-Match`` expects of the versioned resource ``kind`` ``ident``, for the
    domain to compare; None without the header or with ``*``.

    Of several tags naming the resource the newest counts (versions only grow, so it is the
    one that can match). A header naming only other resources can never match: 412.
    """
    wanted = _if_match(request)
    if wanted is None or "*" in wanted:
        return None
    prefix = state(kind, ident, "")
    versions = [int(tag[len(prefix):]) for tag in wanted
                if tag.startswith(prefix) and tag[len(prefix):].isdigit()]
    if not versions:
        raise precondition_failed()
    return max(versions)
