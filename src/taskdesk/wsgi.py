"""The application as a module-level WSGI callable, for servers that import one.

    TASKDESK_INI=/etc/taskdesk/production.ini waitress-serve --port 6543 taskdesk.wsgi:app

Production serves it through ``pserve production.ini`` (Waitress via
``taskdesk.waitress_server``) or ``python -m taskdesk.asgi --config hypercorn.toml`` (Hypercorn
via our ASGI bridge, which imports this module's ``app``): both refuse ambiguous framing,
enforce request deadlines and drain on SIGTERM, which plain ``waitress-serve`` and
``hypercorn wsgi:taskdesk.wsgi:app`` do not.

The INI is named by the environment variable ``TASKDESK_INI``; without it ``production.ini``
in the current directory is used (never development.ini: a server started without thinking
must get the production safety checks). Logging is configured from the same INI's logging
sections and the app is built with ``[app:main]`` (``taskdesk.ops`` then freezes the
start-up objects, ``gc.freeze``, as it does under pserve).

Hypercorn 0.18's WSGI adapter sends the status line and headers together with the first
chunk of the body, so a response whose body iterable yields nothing never starts and ends as
a 500 "Error in ASGI Framework". WebOb answers every HEAD request with such an empty
iterable, so :func:`with_first_chunk` makes sure at least one (empty) chunk is produced.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pyramid.paster import get_app, setup_logging
from pyramid.router import Router

INI_VARIABLE = "TASKDESK_INI"
DEFAULT_INI = "production.ini"


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _at_least_one_chunk(body: Iterable[bytes]) -> Iterator[bytes]:
    try:
        empty = True
        for chunk in body:
            empty = False
            yield chunk
        if empty:
            yield b""
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


def with_first_chunk(application: WSGIApp) -> WSGIApp:
    """``application`` whose response bodies always yield at least one chunk."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return _at_least_one_chunk(application(environ, start_response))

    return wrapped


def load_router(ini: str | None = None) -> Router:
    """Configure logging from ``ini`` (or ``$TASKDESK_INI``) and build the Pyramid app."""
    path = Path(ini or os.environ.get(INI_VARIABLE) or DEFAULT_INI).resolve()
    if not path.is_file():
        raise SystemExit(f"taskdesk: no INI file at {path} (set {INI_VARIABLE})")
    setup_logging(str(path))
    application: Router = get_app(str(path), "main")
    return application


def load_app(ini: str | None = None) -> WSGIApp:
    """Configure logging from ``ini`` (or ``$TASKDESK_INI``) and build the app from it."""
    return with_first_chunk(load_router(ini))


#: The Pyramid app (its ``registry`` for the ASGI server), and it as a WSGI callable.
router = load_router()
app = with_first_chunk(router)
