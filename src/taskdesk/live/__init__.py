"""Live updates: pages hear of changes as they happen (``taskdesk.includes``).

Included in web processes and in the worker alike: after each commit the transaction's
events go to the broker ``taskdesk.live.url`` names (``taskdesk.live.publish``), and the
worker tells the streams of the people it notified. Under Hypercorn (``taskdesk.asgi``) the
process also serves the event streams (``taskdesk.live.stream``); under Waitress the pages
poll the web views instead (``taskdesk.web.views.live``), which work without this package.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator

from taskdesk.live.brokers import Hub, build_broker
from taskdesk.live.publish import SESSION_BROKER_KEY, note_dispatched
from taskdesk.live.stream import Live
from taskdesk.models import database_binds
from taskdesk.settings import settings_of

_REGISTRY_KEY = "taskdesk.live"


def live_of(registry: Any) -> Live | None:
    """The application's :class:`Live`, or None when ``taskdesk.live`` is not included."""
    live: Live | None = registry.get(_REGISTRY_KEY)
    return live


def includeme(config: Configurator) -> None:
    settings = settings_of(config.registry)
    broker = build_broker(settings.live_url, settings.queue_name)
    config.registry[_REGISTRY_KEY] = Live(settings, broker, Hub())
    database_binds(config.registry).session_info[SESSION_BROKER_KEY] = broker
    config.add_event_consumer("live", note_dispatched)
