"""The caller's own account."""

from __future__ import annotations

import zlib
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api import conditional
from taskdesk.api.operations import api_view
from taskdesk.api.representations import Urls, me_json
from taskdesk.api.support import actor
from taskdesk.resources import Me
from taskdesk.security.actions import allowed_actions
from taskdesk.security.permissions import Permission


@api_view(context=Me, method="GET", permission=Permission.SIGNED_IN,
          summary="The signed-in user", response="Me", conditional=True)
def me_show(context: Me, request: Request) -> dict[str, Any] | Response:
    user = actor(request)
    body = me_json(Urls(request), user, allowed_actions(request, context))
    fingerprint = zlib.crc32(
        f"{user.username}|{user.display_name}|{user.email}|{user.locale}|{user.time_zone}|"
        f"{user.is_site_admin}"
        .encode()
    )
    return conditional.respond(request, body, conditional.state("user", user.id, fingerprint))
