"""The employees' web UI: server-rendered Jinja2 views on the traversal resources."""

from __future__ import annotations

from typing import Any


def includeme(config: Any) -> None:
    config.include("pyramid_jinja2")
    config.add_jinja2_renderer(".jinja2")
    settings = config.get_settings()
    settings.setdefault("jinja2.i18n.domain", "taskdesk")
    config.add_jinja2_search_path("taskdesk.web:templates", name=".jinja2")
    config.add_static_view("static", "taskdesk.web:static", cache_max_age=3600)
    config.scan("taskdesk.web.views")
