"""The employees' web UI: server-rendered Jinja2 views on the traversal resources."""

from __future__ import annotations

from datetime import date
from typing import Any

from pyramid.events import BeforeRender
from pyramid.request import Request

from taskdesk.i18n import negotiate_locale
from taskdesk.models.meta import utcnow
from taskdesk.web.helpers import add_template_helpers


def today(request: Request) -> date:
    """The current date for this request's user: "today", "this week" and "overdue" all
    follow it (``request.today``)."""
    return utcnow().date()


def includeme(config: Any) -> None:
    config.include("pyramid_jinja2")
    config.add_jinja2_renderer(".jinja2")
    settings = config.get_settings()
    settings.setdefault("jinja2.i18n.domain", "taskdesk")
    config.add_jinja2_search_path("taskdesk.web:templates", name=".jinja2")
    config.set_locale_negotiator(negotiate_locale)
    config.add_static_view("static", "taskdesk.web:static", cache_max_age=3600)
    # Every template gets ``h``: Babel formatting, translated labels, Markdown, permissions.
    config.add_subscriber(add_template_helpers, BeforeRender)
    config.add_request_method(today, "today", reify=True)
    config.scan("taskdesk.web.views")
