"""The caller's notification preferences: which channel each kind of notification takes."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from taskdesk.api.operations import api_view
from taskdesk.api.rendering import json_body
from taskdesk.api.support import actor
from taskdesk.domain.events import Reason
from taskdesk.domain.preferences import Channel, channels, set_channels
from taskdesk.domain.schemas import NOTIFICATION_PREFERENCES
from taskdesk.resources import Me
from taskdesk.security.permissions import Permission

NAME = "notification-preferences"


def _body(chosen: dict[Reason, Channel]) -> dict[str, Any]:
    return {reason.value: chosen[reason].value for reason in Reason}


@api_view(context=Me, name=NAME, method="GET", permission=Permission.SIGNED_IN,
          summary="How the caller hears of each kind of notification",
          response="NotificationPreferences")
def notification_preferences_show(context: Me, request: Request) -> dict[str, Any]:
    user_id = actor(request).id
    return _body(channels(request.dbsession, [user_id])[user_id])


@api_view(context=Me, name=NAME, method="PUT", permission=Permission.SIGNED_IN,
          summary="Choose how the caller hears of each kind of notification",
          response="NotificationPreferences", body=NOTIFICATION_PREFERENCES,
          description="Give a channel for any of the kinds; kinds left out keep theirs. "
                      "Choosing `email` or `digest` applies to notifications from now on. "
                      "An unknown kind or channel is a 422 naming it; nothing is saved then. "
                      "From a browser session, send the X-CSRF-Token header.")
def notification_preferences_update(context: Me, request: Request) -> dict[str, Any]:
    choices = NOTIFICATION_PREFERENCES.validate(json_body(request), strict=True)
    return _body(set_channels(request.dbsession, actor(request).id, choices))
