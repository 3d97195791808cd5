"""Pages one feature package offers and another links to, without naming its routes.

A feature announces a page it serves (``announce_page`` in its ``includeme``); another asks
for its URL (``page_url``), which is None when no included feature serves it. The names are
this module's :class:`Page`, so features share a core word rather than each other's routes.
"""

from __future__ import annotations

from enum import StrEnum

from pyramid.config import Configurator
from pyramid.request import Request

#: Registry key of this module: page -> route name.
_PAGES_KEY = "taskdesk.links.pages"


class Page(StrEnum):
    #: The browsable API reference (the API feature).
    API_REFERENCE = "api_reference"


def announce_page(config: Configurator, page: Page, route_name: str) -> None:
    """Say that the route ``route_name`` serves ``page``."""
    config.registry.setdefault(_PAGES_KEY, {})[page] = route_name


def page_url(request: Request, page: Page) -> str | None:
    """The URL of ``page``, or None when no included feature serves it."""
    pages: dict[Page, str] = request.registry.get(_PAGES_KEY, {})
    route_name = pages.get(page)
    return None if route_name is None else str(request.route_url(route_name))
