"""The employees' web UI: server-rendered Jinja2 views on the traversal resources."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from pyramid.config import Configurator
from pyramid.events import BeforeRender
from pyramid.request import Request

from taskdesk.downloads import serve_task_pages
from taskdesk.i18n import negotiate_locale
from taskdesk.resources import AdminArea
from taskdesk.security.policy import identity_of
from taskdesk.settings import settings_of
from taskdesk.timezones import local_today, user_zone
from taskdesk.web.helpers import add_template_helpers
from taskdesk.web.traversal import Deliveries


def zone(request: Request) -> ZoneInfo:
    """The time zone this request's reader sees times in (``request.zone``): their own, or
    the site's for people who chose none and for visitors not signed in."""
    identity = identity_of(request)
    return user_zone(identity.time_zone if identity is not None else None,
                     settings_of(request.registry).time_zone)


def today(request: Request) -> date:
    """The current date for this request's user, in their zone: "today", "this week" and
    "overdue" all follow it (``request.today``)."""
    return local_today(request.zone)


def includeme(config: Configurator) -> None:
    config.include("pyramid_jinja2")
    config.add_jinja2_renderer(".jinja2")
    settings = config.get_settings()
    settings.setdefault("jinja2.i18n.domain", "taskdesk")
    settings.setdefault("jinja2.i18n.gettext", "taskdesk.web.translating.RememberingGetText")
    config.add_jinja2_search_path("taskdesk.web:templates", name=".jinja2")
    config.set_locale_negotiator(negotiate_locale)
    config.add_static_view("static", "taskdesk.web:static", cache_max_age=3600)
    # Every template gets ``h``: Babel formatting, translated labels, Markdown, permissions.
    config.add_subscriber(add_template_helpers, BeforeRender)
    config.add_request_method(zone, "zone", reify=True)
    config.add_request_method(today, "today", reify=True)
    # CSV downloads (the web's and the API's) link each row to its task's page here.
    serve_task_pages(config)
    # /admin/deliveries: what the outbox holds, for site admins.
    config.add_resource_child(AdminArea, "deliveries", Deliveries.factory)
    config.scan("taskdesk.web.views")
