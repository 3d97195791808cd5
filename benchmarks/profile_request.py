"""Profile one endpoint in-process: where the time of a request goes, without a server.

    .venv/bin/python -m benchmarks.profile_request --endpoint json_list --tasks 1000

Builds a SQLite database like benchmarks/load.py (production.ini's settings, generate-data),
the app with taskdesk/wsgi.py's loader, a write-scope token for the benchmark user, then
times ``--requests`` calls of the endpoint through the whole WSGI stack (tweens, security,
view, renderer, commit) and profiles as many again with cProfile. Only API (token)
endpoints: the web pages need a session cookie, use benchmarks/load.py for those.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from pathlib import Path

import transaction
from pyramid.paster import bootstrap
from pyramid.request import Request
from sqlalchemy import text

from benchmarks.load import BENCH_USER, ENDPOINTS, environment, free_port, taskdesk, write_ini
from taskdesk.domain.accounts import create_token, find_user
from taskdesk.models import get_tm_session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default="json_list",
                        choices=[n for n, e in ENDPOINTS.items() if e.auth == "token"])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="taskdesk-profile-") as tmp:
        ini = write_ini(Path(tmp), f"sqlite:///{tmp}/profile.sqlite", free_port(), 1)
        taskdesk(ini, "migrate")
        taskdesk(ini, "generate-data", "--tasks", str(args.tasks), "--quiet")
        os.environ.update(environment(ini))
        with bootstrap(str(ini)) as env:
            app, registry = env["app"], env["registry"]
            manager = transaction.TransactionManager(explicit=True)
            with manager:
                dbsession = get_tm_session(registry["dbsession_factory"], manager)
                user = find_user(dbsession, BENCH_USER)
                _, secret = create_token(dbsession, user, {"name": "profile", "scope": "write"})
                slug, number = dbsession.execute(text(
                    "SELECT p.slug, max(t.number) FROM project_members m "
                    "JOIN projects p ON p.id = m.project_id JOIN tasks t ON t.project_id = p.id "
                    "WHERE m.user_id = :user GROUP BY p.slug ORDER BY p.slug LIMIT 1"),
                    {"user": user.id}).one()
        endpoint = ENDPOINTS[args.endpoint]
        path = endpoint.path.format(slug=slug, number=number)

        def call() -> None:
            request = Request.blank(path, method=endpoint.method, headers={
                "Authorization": f"Bearer {secret}", "Accept": "application/json",
                "Content-Type": "application/json"}, POST=endpoint.body)
            response = request.get_response(app)
            assert response.status_code == endpoint.status, response.text[:300]

        for _ in range(50):
            call()
        started = time.perf_counter()
        for _ in range(args.requests):
            call()
        elapsed = time.perf_counter() - started
        print(f"{args.endpoint} {path}: {elapsed / args.requests * 1e6:.0f} µs per request "
              f"over {args.requests} requests (no profiler)")
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            call()
        profiler.disable()
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
