"""The floor: the JSON task list as a bare WSGI app, for comparison with Taskdesk's.

No framework, no ORM: the stdlib ``sqlite3`` (or ``psycopg``, the PostgreSQL driver Taskdesk
uses) and raw SQL doing the same work as ``GET /api/v1/projects/<slug>/tasks?state=open``:
bearer-token lookup (SHA-256 digest, revoked/expired/inactive refused), the project and the
caller's membership (directly or through a group; internal projects are visible to everyone
signed in), the list query (50 tasks, newest number first, with assignee and reporter names)
and their labels, encoded with the stdlib ``json``. Anything else answers 404.

Served by the same servers as the app:
    FLOOR_DATABASE_URL=sqlite:////tmp/x.sqlite waitress-serve --threads 4 benchmarks.floor:app
    FLOOR_DATABASE_URL=... hypercorn --config hypercorn.toml wsgi:benchmarks.floor:app
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

OPEN_STATUSES = ("open", "in_progress", "blocked")
ALLOWED_BY_ROLE = {
    "viewer": ["view"],
    "member": ["view", "comment", "set_status", "edit", "assign"],
    "manager": ["view", "comment", "set_status", "edit", "assign", "delete"],
}
LIMIT = 50

TOKEN_SQL = """
SELECT u.id, u.is_site_admin, u.is_active, t.revoked_at, t.expires_at
FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = {p}"""
PROJECT_SQL = "SELECT id, slug, name, visibility FROM projects WHERE slug = {p}"
ROLE_SQL = """
SELECT role FROM project_members WHERE project_id = {p} AND (user_id = {p} OR group_id IN
  (SELECT group_id FROM group_members WHERE user_id = {p}))"""
LIST_SQL = """
SELECT t.id, t.number, t.title, t.description, t.status, t.priority, a.username,
       a.display_name, r.username, t.due_date, t.created_at, t.updated_at, t.completed_at,
       t.version,
       EXISTS (SELECT 1 FROM task_links l JOIN tasks b ON b.id = l.source_id
               WHERE l.target_id = t.id AND l.kind = 'blocks' AND b.completed_at IS NULL
                 AND (b.project_id = t.project_id OR {p} = 1 OR b.project_id IN
                   (SELECT id FROM projects WHERE visibility = 'internal'
                    UNION SELECT project_id FROM project_members WHERE user_id = {p} OR
                    group_id IN (SELECT group_id FROM group_members WHERE user_id = {p}))))
FROM tasks t LEFT JOIN users a ON a.id = t.assignee_id LEFT JOIN users r ON r.id = t.reporter_id
WHERE t.project_id = {p} AND t.status IN ({p}, {p}, {p})
ORDER BY t.number DESC LIMIT {p}"""
LABELS_SQL = "SELECT task_id, name FROM task_labels WHERE task_id IN ({ids}) ORDER BY task_id, name"

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class Database:
    """One connection per thread, as a threaded server needs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.local = threading.local()
        self.placeholder = "?" if url.startswith("sqlite") else "%s"

    def sql(self, template: str, **extra: str) -> str:
        return template.format(p=self.placeholder, **extra)

    def connection(self) -> Any:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            if self.url.startswith("sqlite"):
                connection = sqlite3.connect(self.url.split("///", 1)[1],
                                             check_same_thread=False, isolation_level=None)
                connection.execute("PRAGMA journal_mode=WAL")
            else:
                import psycopg

                conninfo = self.url.replace("postgresql+psycopg://", "postgresql://")
                connection = psycopg.connect(conninfo, autocommit=True)
            self.local.connection = connection
        return connection


database = Database(os.environ.get("FLOOR_DATABASE_URL", "sqlite:///var/taskdesk.sqlite"))


def _answer(start_response: StartResponse, status: str, body: bytes) -> Iterable[bytes]:
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def _expired(value: Any) -> bool:
    if value is None:
        return False
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment <= datetime.now(UTC)


def _date(value: Any) -> str | None:
    return None if value is None else str(value)


def _stamp(value: Any) -> str | None:
    """A UTC timestamp as the API writes it: ISO 8601 with a ``Z``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    return str(value).replace(" ", "T") + "Z"


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    parts = urlsplit(environ.get("PATH_INFO", "")).path.strip("/").split("/")
    if len(parts) != 5 or parts[:3] != ["api", "v1", "projects"] or parts[4] != "tasks":
        return _answer(start_response, "404 Not Found", b'{"error": "not found"}')
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if query.get("state", ["open"]) != ["open"]:
        return _answer(start_response, "400 Bad Request", b'{"error": "state"}')
    scheme, _, secret = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer":
        return _answer(start_response, "401 Unauthorized", b'{"error": "token"}')

    cursor = database.connection().cursor()
    token_hash = hashlib.sha256(secret.strip().encode()).hexdigest()
    user = cursor.execute(database.sql(TOKEN_SQL), (token_hash,)).fetchone()
    if user is None or not user[2] or user[3] is not None or _expired(user[4]):
        return _answer(start_response, "401 Unauthorized", b'{"error": "token"}')
    user_id, is_admin = user[0], bool(user[1])

    project = cursor.execute(database.sql(PROJECT_SQL), (parts[3],)).fetchone()
    if project is None:
        return _answer(start_response, "404 Not Found", b'{"error": "not found"}')
    project_id, slug, name, visibility = project
    roles = [r for (r,) in cursor.execute(database.sql(ROLE_SQL),
                                          (project_id, user_id, user_id)).fetchall()]
    if not roles and not is_admin and visibility != "internal":
        return _answer(start_response, "404 Not Found", b'{"error": "not found"}')
    allowed = ALLOWED_BY_ROLE["manager" if is_admin else max(
        roles or ["viewer"], key=["viewer", "member", "manager"].index)]

    rows = cursor.execute(database.sql(LIST_SQL),
                          (int(is_admin), user_id, user_id, project_id, *OPEN_STATUSES,
                           LIMIT + 1)).fetchall()
    more = len(rows) > LIMIT
    rows = rows[:LIMIT]
    labels: dict[int, list[str]] = {}
    if rows:
        ids = ", ".join(database.placeholder for _ in rows)
        for task_id, label in cursor.execute(database.sql(LABELS_SQL, ids=ids),
                                             [r[0] for r in rows]).fetchall():
            labels.setdefault(task_id, []).append(label)
    host = environ.get("HTTP_HOST") or environ["SERVER_NAME"]
    base = f"{environ['wsgi.url_scheme']}://{host}/api/v1/projects/{slug}"
    items = [{
        "id": r[0], "project": {"slug": slug, "name": name, "url": base},
        "number": r[1], "title": r[2], "description": r[3], "status": r[4],
        "completed": False, "priority": r[5], "assignee": r[6], "assignee_name": r[7],
        "reporter": r[8], "due_date": _date(r[9]), "labels": labels.get(r[0], []),
        "created_at": _stamp(r[10]), "updated_at": _stamp(r[11]),
        "completed_at": _stamp(r[12]), "blocked": bool(r[14]),
        "version": r[13], "url": f"{base}/tasks/{r[1]}", "allowed": allowed,
    } for r in rows]
    body = json.dumps({"items": items, "next": f"{base}/tasks?cursor=x" if more else None})
    return _answer(start_response, "200 OK", body.encode())
