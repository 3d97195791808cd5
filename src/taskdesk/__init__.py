"""Taskdesk: the WSGI application factory.

``main`` builds one Configurator. The core packages are always included, in the order
below; then the feature packages the admin lists in ``taskdesk.includes``, because they use
the core's config directives (``add_resource_child``, the security policy, request.dbsession).
Pyramid add-ons such as the debug toolbar come through ``pyramid.includes``.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.router import Router

from taskdesk.settings import SettingsError, parse_settings, resolve_database_url

CORE_INCLUDES = (
    # Database first: everything else reads and writes through request.dbsession,
    # joined to pyramid_tm's transaction (and retried by pyramid_retry).
    "taskdesk.models",
    # Attachment storage (taskdesk.attachments.path): made and proved writable at start-up,
    # so a bad directory stops the app with one clear line instead of failing an upload.
    "taskdesk.storage",
    # The task queue and its config directives (add_job, add_event_consumer): a session
    # commit enqueues the jobs its transaction asked for, so it comes right after the
    # sessions, before any package registers jobs.
    "taskdesk.queue",
    # Periodic housekeeping in the worker (purge, SQLite WAL checkpoint): core, because
    # sessions and sign-in failures need purging whichever features are on.
    "taskdesk.maintenance",
    # The gettext catalogs: the domain's messages reach people and programs alike.
    "taskdesk.i18n",
    # The traversal root and the add_resource_child directive features extend it with.
    "taskdesk.resources",
    # Sessions, CSRF and the security policy deciding on the resources' ACLs.
    "taskdesk.security",
    # Request ids, the access log and error logging: outside every tween but the security
    # headers', so the guard's refusals are logged too.
    "taskdesk.ops",
    # Refuse malformed input (400) and oversized bodies (413) before any view runs: its tween
    # is placed over every other tween once all includes are in, add-ons' included.
    "taskdesk.guard",
    # Security headers (CSP, nosniff, frame and referrer policy, HSTS) on every response,
    # whichever feature packages are switched on; the outermost tween.
    "taskdesk.headers",
    # /healthz and /readyz for load balancers and process managers.
    "taskdesk.health",
)


def make_configurator(settings: dict[str, Any]) -> Configurator:
    """Validate the settings and include the core and the configured feature packages."""
    taskdesk_settings = parse_settings(settings)
    settings["sqlalchemy.url"] = resolve_database_url(settings)
    settings.setdefault("retry.attempts", "3")
    config = Configurator(settings=settings)
    config.registry.taskdesk_settings = taskdesk_settings
    for name in CORE_INCLUDES:
        config.include(name)
    for name in taskdesk_settings.includes:
        config.include(name)
    return config


def main(global_config: dict[str, Any], **settings: Any) -> Router:
    """The ``paste.app_factory`` entry point; a bad setting exits with one clear line."""
    try:
        config = make_configurator(settings)
    except SettingsError as error:
        raise SystemExit(f"taskdesk: {error}") from None
    return config.make_wsgi_app()
