"""Profile one endpoint in-process: where the time of a request goes, without a server.

    .venv/bin/python -m benchmarks.profile_request --endpoint json_list --tasks 1000

Builds a SQLite database like benchmarks/load.py (production.ini's settings, generate-data),
the app with taskdesk/wsgi.py's loader, a write-scope token for the benchmark user, then
times ``--requests`` calls of the endpoint through the whole WSGI stack (tweens, security,
view, renderer, commit; the request's environ is built once, outside the timing) and
profiles as many again with cProfile, ending with the profile's own time summed by layer
(our code, SQLAlchemy, Pyramid, WebOb, the driver's C calls...). The web pages are called
with the session cookie of a sign-in made first, through the app, as a browser would.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import transaction
from pyramid.paster import bootstrap
from pyramid.request import Request
from sqlalchemy import text

from benchmarks.load import (
    BENCH_PASSWORD,
    BENCH_USER,
    ENDPOINTS,
    environment,
    free_port,
    taskdesk,
    write_ini,
)
from taskdesk.domain.accounts import create_token, find_user
from taskdesk.models import get_tm_session

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


class Target(NamedTuple):
    """A prepared database and what requests to it need."""

    ini: Path
    secret: str
    path_values: dict[str, Any]


def prepare(directory: Path, tasks: int) -> Target:
    """A generated SQLite database with production.ini's settings and a write-scope token."""
    ini = write_ini(directory, f"sqlite:///{directory}/profile.sqlite", free_port(), 1)
    taskdesk(ini, "migrate")
    taskdesk(ini, "generate-data", "--tasks", str(tasks), "--quiet",
             "--i-know-this-is-production")  # a throwaway database
    os.environ.update(environment(ini))
    with bootstrap(str(ini)) as env:
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(env["registry"]["dbsession_factory"], manager)
            user = find_user(dbsession, BENCH_USER)
            _, secret = create_token(dbsession, user, {"name": "profile", "scope": "write"})
            slug, number = dbsession.execute(text(
                "SELECT p.slug, max(t.number) FROM project_members m "
                "JOIN projects p ON p.id = m.project_id JOIN tasks t ON t.project_id = p.id "
                "WHERE m.user_id = :user GROUP BY p.slug ORDER BY p.slug LIMIT 1"),
                {"user": user.id}).one()
    return Target(ini, secret, {"slug": slug, "number": number})


def caller(app: Any, target: Target, name: str) -> Callable[[], None]:
    """A function sending one request of endpoint ``name`` through the whole WSGI stack."""
    endpoint = ENDPOINTS[name]
    path = endpoint.path.format(**target.path_values)
    if endpoint.auth == "token":
        headers = {"Authorization": f"Bearer {target.secret}", "Accept": "application/json",
                   "Content-Type": "application/json"}
    else:
        headers = {"Cookie": _signed_in_cookie(app)}

    # The request's environ is built once: what is timed and profiled is the application,
    # not WebOb building a request for it.
    template = Request.blank(path, method=endpoint.method, headers=headers,
                             POST=endpoint.body).environ
    body = endpoint.body.encode() if endpoint.body else b""
    expected = f"{endpoint.status} "
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    def call() -> None:
        environ = dict(template)
        environ["wsgi.input"] = io.BytesIO(body)
        statuses.clear()
        chunks = app(environ, start_response)
        try:
            answer = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        assert statuses[0].startswith(expected), answer[:300]

    return call


def _signed_in_cookie(app: Any) -> str:
    """The Cookie header of a browser that signed in as the benchmark user."""
    page = Request.blank("/login").get_response(app)
    cookie = "; ".join(value.split(";", 1)[0] for key, value in page.headerlist
                       if key == "Set-Cookie")
    token = CSRF_INPUT.search(page.text)
    assert token is not None, "no CSRF token on the sign-in page"
    signed_in = Request.blank("/login", method="POST", headers={"Cookie": cookie}, POST={
        "username": BENCH_USER, "password": BENCH_PASSWORD,
        "csrf_token": token.group(1)}).get_response(app)
    assert signed_in.status_code == 303, signed_in.text[:300]
    return "; ".join(value.split(";", 1)[0] for key, value in signed_in.headerlist
                     if key == "Set-Cookie")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default="json_list", choices=sorted(ENDPOINTS))
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="taskdesk-profile-") as tmp:
        target = prepare(Path(tmp), args.tasks)
        with bootstrap(str(target.ini)) as env:
            call = caller(env["app"], target, args.endpoint)
            for _ in range(50):
                call()
            started = time.perf_counter()
            for _ in range(args.requests):
                call()
            elapsed = time.perf_counter() - started
            print(f"{args.endpoint}: {elapsed / args.requests * 1e6:.0f} µs per request "
                  f"over {args.requests} requests (no profiler)")
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                call()
            profiler.disable()
        stats = pstats.Stats(profiler)
        by_layer = layers(stats)
        stats.strip_dirs()
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        total = sum(by_layer.values())
        print("Own time by layer (cProfile tottime, % of the profiled requests):")
        for layer, seconds in by_layer.most_common():
            print(f"  {layer:<28} {seconds / total:6.1%}")


#: The package of a file installed in the environment.
_INSTALLED = re.compile(r"site-packages/([^/]+)/")
#: C functions named after the extension module they belong to.
_EXTENSIONS = ("sqlite3", "psycopg", "orjson", "zlib")


def layers(stats: pstats.Stats) -> Counter[str]:
    """The profile's own time (tottime) summed by layer: our code, each installed package
    (SQLAlchemy, Pyramid, WebOb, transaction...), the database driver's C calls, the
    standard library and built-ins."""
    totals: Counter[str] = Counter()
    entries: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_calls, _primitive, own, _cumulative, _callers) in (
            entries.items()):
        totals[_layer(filename, function)] += own
    return totals


def _layer(filename: str, function: str) -> str:
    if filename == "~":
        extension = next((name for name in _EXTENSIONS if name in function), None)
        return f"{extension} (C)" if extension else "Python built-ins"
    installed = _INSTALLED.search(filename)
    if installed:
        return installed.group(1)
    if "/taskdesk/" in filename:
        return "taskdesk"
    if "/benchmarks/" in filename:
        return "the benchmark's driver"
    return "Python standard library"


if __name__ == "__main__":
    main()
