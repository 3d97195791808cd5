"""The fair floor: Taskdesk's three JSON endpoints as a bare WSGI app, byte for byte.

No framework, no ORM: the database driver Taskdesk uses (the stdlib ``sqlite3``, or
``psycopg``) and raw SQL doing the same work, in the fewest statements that do it:

* ``GET /api/v1/projects/<slug>/tasks?state=open&limit=N`` (the list) and
  ``GET /api/v1/projects/<slug>/tasks/<number>`` (the detail): the bearer token with its user
  (one statement: SHA-256 digest; revoked, expired, inactive refused with 401), the project
  with the caller's roles, directly or through a group (one statement; hidden is 404), then
  the rows with assignee, reporter, labels and the ``blocked`` flag (only blockers the caller
  may see count) in one statement. Three statements each.
* ``POST /api/v1/projects/<slug>/tasks`` (the create, body ``{"title", "labels"}``): the token
  and the project as above, then one transaction: the number (``UPDATE ... RETURNING``), the
  task, its labels, its search row (the same tokens, from ``taskdesk.domain.search``), the
  reporter's watch, the activity entry and its outbox event. Nine statements.

The JSON is orjson's with the same options, the same fields in the same order, the same
``allowed`` list (from the same role table), ``next`` link and cursor, ETag, ``Location`` and
headers (security headers, a random ``X-Request-ID``) as Taskdesk's; ``benchmarks/load.py``
compares both answers before it measures and refuses to report a ratio when they differ.
Anything else (other paths, parameters, bodies) answers 404 or 400: the floor serves only the
benchmark's requests. Left out on purpose, and named in benchmarks/README.md: the access log
line and the after-commit dispatch job Taskdesk enqueues for the event.

Served by the same server with production.ini's settings, as ``benchmarks/load.py`` does:
    FLOOR_DATABASE_URL=... python -m benchmarks.floor --ini bench.ini --server waitress
    FLOOR_DATABASE_URL=... python -m benchmarks.floor --ini bench.ini --server hypercorn \\
        --config hypercorn.toml --bind 127.0.0.1:8001
"""

from __future__ import annotations

import argparse
import base64
import configparser
import hashlib
import os
import re
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

from taskdesk.domain.search import search_body
from taskdesk.headers import CONTENT_SECURITY_POLICY, HSTS
from taskdesk.security.actions import ACTIONS
from taskdesk.security.permissions import DEFAULT_ROLES, READ_ONLY_PERMISSIONS
from taskdesk.settings import TaskdeskSettings

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

_WORKFLOW = TaskdeskSettings().workflow
OPEN_STATUSES = _WORKFLOW.names_in("open", "active")
DONE_STATUSES = frozenset(_WORKFLOW.names_in("done"))
#: The task actions in Taskdesk's order (``security.actions.ACTIONS``), and what each role
#: grants of them (``security.permissions.DEFAULT_ROLES``).
TASK_ACTIONS = next(actions for kind, actions in ACTIONS.items() if kind.__name__ == "TaskResource")
ROLE_ACTIONS = {role: frozenset(str(p) for p in permissions)
                for role, permissions in DEFAULT_ROLES.items()}
JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
SECURITY_HEADERS = [
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Strict-Transport-Security", HSTS),
]
MAX_LIMIT = 100

TOKEN_SQL = """
SELECT u.id, u.username, u.is_site_admin, u.is_active, t.revoked_at, t.expires_at, t.scope
FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = {p}"""
#: The project and every role the caller holds in it (directly or through a group).
PROJECT_SQL = """
SELECT p.id, p.name, p.visibility, p.is_archived,
       (SELECT {concat} FROM project_members m WHERE m.project_id = p.id AND
          (m.user_id = {p} OR m.group_id IN (SELECT group_id FROM group_members
                                             WHERE user_id = {p})))
FROM projects p WHERE p.slug = {p}"""
#: The tasks' columns with their people, labels and blocked flag; ``{where}`` picks them.
TASKS_SQL = """
SELECT t.id, t.number, t.title, t.description, t.status, t.priority, a.username,
       a.display_name, r.username, t.due_date, {labels}, parent.number, t.checklist_done,
       t.checklist_total, t.created_at, t.updated_at, t.completed_at,
       EXISTS (SELECT 1 FROM task_links l JOIN tasks b ON b.id = l.source_id
               WHERE l.target_id = t.id AND l.kind = 'blocks' AND b.completed_at IS NULL
                 AND (b.project_id = t.project_id OR {admin} OR b.project_id IN
                   (SELECT id FROM projects WHERE visibility = 'internal'
                    UNION SELECT project_id FROM project_members WHERE user_id = {p} OR
                    group_id IN (SELECT group_id FROM group_members WHERE user_id = {p})))),
       t.version
FROM tasks t LEFT JOIN users a ON a.id = t.assignee_id LEFT JOIN users r ON r.id = t.reporter_id
     LEFT JOIN tasks parent ON parent.id = t.parent_id
WHERE {where}"""
LIST_WHERE = """t.project_id = {p} AND t.status IN ({statuses})
ORDER BY t.number DESC LIMIT {p}"""
DETAIL_WHERE = "t.project_id = {p} AND t.number = {p}"
LABELS = {
    "sqlite": "(SELECT json_group_array(name) FROM (SELECT name FROM task_labels "
              "WHERE task_id = t.id ORDER BY name))",
    "postgresql": "(SELECT coalesce(json_agg(name ORDER BY name)::text, '[]') "
                  "FROM task_labels WHERE task_id = t.id)",
}
CONCAT = {"sqlite": "group_concat(m.role)", "postgresql": "string_agg(m.role, ',')"}

NUMBER_SQL = """UPDATE projects SET task_counter = task_counter + 1 WHERE id = {p}
RETURNING task_counter"""
#: On top of its board column (``domain.ranks.top_of_column``), computed by the INSERT.
INSERT_TASK_SQL = """INSERT INTO tasks (project_id, number, title, description, status, priority,
  assignee_id, reporter_id, due_date, created_at, updated_at, completed_at, version, parent_id,
  checklist_done, checklist_total, rank)
VALUES ({p}, {p}, {p}, '', {p}, {p}, NULL, {p}, NULL, {p}, {p}, NULL, 1, NULL, 0, 0,
  COALESCE((SELECT MIN(c.rank) FROM tasks c WHERE c.project_id = {p} AND c.status = {p})
           - 1048576, 0))
RETURNING id"""
INSERT_LABEL_SQL = "INSERT INTO task_labels (task_id, name) VALUES ({p}, {p})"
INSERT_SEARCH_SQL = "INSERT INTO task_search (task_id, body) VALUES ({p}, {p})"
INSERT_WATCH_SQL = """INSERT INTO task_watchers (task_id, user_id, created_at)
VALUES ({p}, {p}, {p}) ON CONFLICT DO NOTHING"""
INSERT_ACTIVITY_SQL = """INSERT INTO activity (project_id, task_id, actor_id, action, changes,
  created_at) VALUES ({p}, {p}, {p}, 'task.created', '{{}}', {p})"""
INSERT_EVENT_SQL = """INSERT INTO events (kind, project_id, task_id, actor_id, data, dedupe_key,
  created_at, dispatched_at, attempts, last_error, parked_at)
VALUES ('task.created', {p}, {p}, {p}, {p}, NULL, {p}, NULL, 0, '', NULL)"""
#: The event's data as Taskdesk's JSON column stores it (``json.dumps``' separators).
EVENT_DATA = '{"changes": {}, "assignee_id": null, "mentioned": []}'


class Problem(Exception):
    """An answer other than success: status line and JSON body."""

    def __init__(self, status: str, body: bytes = b'{"error":"not found"}') -> None:
        super().__init__(status)
        self.status = status
        self.body = body


NOT_FOUND = "404 Not Found"
UNAUTHORIZED = Problem("401 Unauthorized", b'{"error":"token"}')


class Database:
    """One connection per thread, as a threaded server needs, and the SQL of its dialect."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        p = "?" if self.dialect == "sqlite" else "%s"
        statuses = ", ".join(p for _ in OPEN_STATUSES)
        self.token = TOKEN_SQL.format(p=p)
        self.project = PROJECT_SQL.format(p=p, concat=CONCAT[self.dialect])
        tasks = TASKS_SQL.replace("{labels}", LABELS[self.dialect]).replace(
            "{admin}", "? = 1" if self.dialect == "sqlite" else "%s")
        self.list = tasks.format(p=p, where=LIST_WHERE.format(p=p, statuses=statuses))
        self.detail = tasks.format(p=p, where=DETAIL_WHERE.format(p=p))
        self.number = NUMBER_SQL.format(p=p)
        self.insert_task = INSERT_TASK_SQL.format(p=p)
        self.insert_label = INSERT_LABEL_SQL.format(p=p)
        self.insert_search = INSERT_SEARCH_SQL.format(p=p)
        self.insert_watch = INSERT_WATCH_SQL.format(p=p)
        self.insert_activity = INSERT_ACTIVITY_SQL.format(p=p)
        self.insert_event = INSERT_EVENT_SQL.format(p=p)
        self.local = threading.local()

    def connection(self) -> Any:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            if self.dialect == "sqlite":
                connection = sqlite3.connect(self.url.split("///", 1)[1],
                                             check_same_thread=False, isolation_level=None)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA foreign_keys=ON")
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute("PRAGMA busy_timeout=5000")
            else:
                import psycopg

                conninfo = self.url.replace("postgresql+psycopg://", "postgresql://")
                connection = psycopg.connect(conninfo, autocommit=True)
            self.local.connection = connection
        return connection

    def admin_flag(self, is_admin: bool) -> Any:
        return int(is_admin) if self.dialect == "sqlite" else is_admin


database = Database(os.environ.get("FLOOR_DATABASE_URL", "sqlite:///var/taskdesk.sqlite"))


def _moment(value: Any) -> datetime | None:
    """A stored timestamp as the datetime Taskdesk reads (SQLite keeps text)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _caller(cursor: Any, environ: dict[str, Any]) -> tuple[int, str, bool, bool]:
    """The token's user: (id, username, site admin, read-only); 401 for a bad token."""
    scheme, _, secret = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise UNAUTHORIZED
    digest = hashlib.sha256(secret.strip().encode("utf-8", "surrogatepass")).hexdigest()
    row = cursor.execute(database.token, (digest,)).fetchone()
    if row is None or not row[3] or row[4] is not None:
        raise UNAUTHORIZED
    expires = _moment(row[5])
    if expires is not None and expires.replace(tzinfo=expires.tzinfo or UTC) <= datetime.now(UTC):
        raise UNAUTHORIZED
    return row[0], row[1], bool(row[2]), row[6] == "read"


def _project(cursor: Any, slug: str, user_id: int, is_admin: bool, read_only: bool
             ) -> tuple[int, str, list[str], set[str]]:
    """The project's id, name, the caller's ``allowed`` on its tasks and every permission
    held in it; 404 when hidden."""
    row = cursor.execute(database.project, (user_id, user_id, slug)).fetchone()
    if row is None:
        raise Problem(NOT_FOUND)
    project_id, name, visibility, archived, roles = row
    held = roles.split(",") if roles else []
    if not held and not is_admin and visibility != "internal":
        raise Problem(NOT_FOUND)
    granted: set[str] = set()
    for role in held or ["viewer"]:
        granted |= ROLE_ACTIONS.get(role, frozenset())
    if is_admin:
        granted |= ROLE_ACTIONS["manager"]
    if archived or read_only:
        granted &= {str(p) for p in READ_ONLY_PERMISSIONS}
    return project_id, name, [str(p) for p in TASK_ACTIONS if str(p) in granted], granted


def _task(row: Any, project: dict[str, str], base: str, allowed: list[str]) -> dict[str, Any]:
    status = row[4]
    return {
        "id": row[0], "project": project, "number": row[1], "title": row[2],
        "description": row[3], "status": status, "completed": status in DONE_STATUSES,
        "priority": row[5], "assignee": row[6], "assignee_name": row[7], "reporter": row[8],
        "due_date": row[9], "labels": orjson.loads(row[10]), "parent": row[11],
        "checklist": {"done": row[12], "total": row[13]},
        "created_at": _moment(row[14]), "updated_at": _moment(row[15]),
        "completed_at": _moment(row[16]), "blocked": bool(row[17]), "version": row[18],
        "url": f"{base}/tasks/{row[1]}", "allowed": allowed,
    }


def _base(environ: dict[str, Any], slug: str) -> str:
    host = environ.get("HTTP_HOST") or environ["SERVER_NAME"]
    return f"{environ['wsgi.url_scheme']}://{host}/api/v1/projects/{slug}"


def _allowed_tag(allowed: list[str]) -> str:
    return f"{zlib.crc32(','.join(allowed).encode()) & 0xFFFFFFFF:08x}"


def _cursor(number: int, task_id: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(["-number", 0, number, task_id])
                                    ).decode().rstrip("=")


def task_list(environ: dict[str, Any], slug: str) -> tuple[str, list[tuple[str, str]], bytes]:
    params = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    limit = params.get("limit", "50")
    if params.get("state") != "open" or set(params) - {"state", "limit"} or not (
            limit.isdigit() and 1 <= int(limit) <= MAX_LIMIT):
        raise Problem("400 Bad Request", b'{"error":"parameters"}')
    cursor = database.connection().cursor()
    user_id, _, is_admin, read_only = _caller(cursor, environ)
    project_id, name, allowed, _granted = _project(cursor, slug, user_id, is_admin, read_only)
    rows = cursor.execute(database.list, (
        database.admin_flag(is_admin), user_id, user_id, project_id, *OPEN_STATUSES,
        int(limit) + 1)).fetchall()
    base = _base(environ, slug)
    project = {"slug": slug, "name": name, "url": base}
    items = [_task(row, project, base, allowed) for row in rows[:int(limit)]]
    headers = []
    next_link = None
    if len(rows) > int(limit):
        last = items[-1]
        query = urlencode({"state": "open", "limit": limit,
                           "cursor": _cursor(last["number"], last["id"])})
        next_link = f"{base}/tasks?{query}"
        headers.append(("Link", f'<{next_link}>; rel="next"'))
    body = orjson.dumps({"items": items, "next": next_link}, option=JSON_OPTIONS)
    headers += [("ETag", f'W/"list-{len(body):x}-{zlib.crc32(body):08x}"'),
                ("Cache-Control", "private, no-cache"), ("Vary", "Authorization, Cookie, Accept")]
    return "200 OK", headers, body


def task_detail(environ: dict[str, Any], slug: str, number: str
                ) -> tuple[str, list[tuple[str, str]], bytes]:
    if not number.isdigit() or environ.get("QUERY_STRING"):
        raise Problem(NOT_FOUND)
    cursor = database.connection().cursor()
    user_id, _, is_admin, read_only = _caller(cursor, environ)
    project_id, name, allowed, _granted = _project(cursor, slug, user_id, is_admin, read_only)
    row = cursor.execute(database.detail, (database.admin_flag(is_admin), user_id, user_id,
                                           project_id, int(number))).fetchone()
    if row is None:
        raise Problem(NOT_FOUND)
    base = _base(environ, slug)
    task = _task(row, {"slug": slug, "name": name, "url": base}, base, allowed)
    body = orjson.dumps(task, option=JSON_OPTIONS)
    return "200 OK", [
        ("ETag", f'W/"task-{task["id"]}-{task["version"]}.{_allowed_tag(allowed)}"'),
        ("Cache-Control", "private, no-cache"), ("Vary", "Authorization, Cookie"),
    ], body


def task_create(environ: dict[str, Any], slug: str) -> tuple[str, list[tuple[str, str]], bytes]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        data = orjson.loads(environ["wsgi.input"].read(length))
    except (ValueError, orjson.JSONDecodeError):
        raise Problem("400 Bad Request", b'{"error":"body"}') from None
    title = data.get("title") if isinstance(data, dict) else None
    labels = data.get("labels", []) if isinstance(data, dict) else None
    if (not isinstance(title, str) or not title.strip() or len(title) > 200
            or not isinstance(labels, list) or set(data) - {"title", "labels"}
            or not all(isinstance(label, str) and label.strip() for label in labels)):
        raise Problem("422 Unprocessable Entity", b'{"error":"invalid"}')
    title = title.strip()
    labels = list(dict.fromkeys(label.strip().lower() for label in labels))
    if len(labels) > 20 or any(len(label) > 40 for label in labels):
        raise Problem("422 Unprocessable Entity", b'{"error":"invalid"}')
    connection = database.connection()
    cursor = connection.cursor()
    user_id, username, is_admin, read_only = _caller(cursor, environ)
    project_id, name, allowed, granted = _project(cursor, slug, user_id, is_admin, read_only)
    if "create_task" not in granted:
        raise Problem("403 Forbidden", b'{"error":"forbidden"}')
    now = datetime.now(UTC).replace(tzinfo=None)
    # SQLite keeps text, in the format SQLAlchemy writes (microseconds always present).
    stored = now.strftime("%Y-%m-%d %H:%M:%S.%f") if database.dialect == "sqlite" else now
    status, priority = _WORKFLOW.initial_status, _WORKFLOW.default_priority
    if database.dialect == "sqlite":
        cursor.execute("BEGIN IMMEDIATE")
    else:
        cursor.execute("BEGIN")
    try:
        number = cursor.execute(database.number, (project_id,)).fetchone()[0]
        task_id = cursor.execute(database.insert_task, (
            project_id, number, title, status, priority, user_id, stored, stored,
            project_id, status,
        )).fetchone()[0]
        if labels:
            cursor.executemany(database.insert_label, [(task_id, label) for label in labels])
        cursor.execute(database.insert_search, (task_id, search_body(title, "")))
        cursor.execute(database.insert_watch, (task_id, user_id, stored))
        cursor.execute(database.insert_activity, (project_id, task_id, user_id, stored))
        cursor.execute(database.insert_event, (project_id, task_id, user_id, EVENT_DATA,
                                               stored))
        cursor.execute("COMMIT")
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
    base = _base(environ, slug)
    task = {
        "id": task_id, "project": {"slug": slug, "name": name, "url": base}, "number": number,
        "title": title, "description": "", "status": status,
        "completed": status in DONE_STATUSES, "priority": priority, "assignee": None,
        "assignee_name": None, "reporter": username, "due_date": None, "labels": labels,
        "parent": None, "checklist": {"done": 0, "total": 0}, "created_at": now,
        "updated_at": now, "completed_at": None, "blocked": False, "version": 1,
        "url": f"{base}/tasks/{number}", "allowed": allowed,
    }
    body = orjson.dumps(task, option=JSON_OPTIONS)
    return "201 Created", [
        ("ETag", f'W/"task-{task_id}-1.{_allowed_tag(allowed)}"'),
        ("Cache-Control", "private, no-cache"), ("Vary", "Authorization, Cookie"),
        ("Location", task["url"]),
    ], body


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    parts = environ.get("PATH_INFO", "").strip("/").split("/")
    method = environ["REQUEST_METHOD"]
    try:
        if len(parts) < 5 or parts[:3] != ["api", "v1", "projects"] or parts[4] != "tasks":
            raise Problem(NOT_FOUND)
        if len(parts) == 5 and method == "GET":
            status, headers, body = task_list(environ, parts[3])
        elif len(parts) == 5 and method == "POST":
            status, headers, body = task_create(environ, parts[3])
        elif len(parts) == 6 and method == "GET":
            status, headers, body = task_detail(environ, parts[3], parts[5])
        else:
            raise Problem(NOT_FOUND)
    except Problem as problem:
        status, headers, body = problem.status, [], problem.body
    start_response(status, [
        *headers, ("Content-Length", str(len(body))), ("Content-Type", "application/json"),
        ("X-Request-ID", os.urandom(16).hex()), *SECURITY_HEADERS,
    ])
    return [body]


#: What may differ between Taskdesk's answer and the floor's to the same request: in a
#: create's body the new task's id, number, times and URL; the headers carrying those, and
#: the random request id and the server's own headers.
VOLATILE_FIELDS = {"json_create": ("id", "number", "created_at", "updated_at", "url")}
VOLATILE_HEADERS = frozenset({"x-request-id", "date", "server"})
VOLATILE_CREATE_HEADERS = frozenset({"etag", "location"})

Answer = tuple[int, list[tuple[str, str]], bytes]


def differences(endpoint: str, ours: Answer, floor: Answer) -> list[str]:
    """How the floor's answer differs from Taskdesk's, besides the volatile parts: the status,
    the headers (names and values, in any order) and the body byte for byte."""
    found = []
    if ours[0] != floor[0]:
        found.append(f"status {ours[0]} != {floor[0]}")
    ignored = VOLATILE_HEADERS | (VOLATILE_CREATE_HEADERS if endpoint == "json_create"
                                  else frozenset())
    headers = [sorted((name.lower(), value) for name, value in answer[1]
                      if name.lower() not in ignored) for answer in (ours, floor)]
    for missing in sorted(set(headers[0]) - set(headers[1])):
        found.append(f"floor lacks header {missing}")
    for extra in sorted(set(headers[1]) - set(headers[0])):
        found.append(f"floor adds header {extra}")
    bodies = [_masked(answer[2], VOLATILE_FIELDS.get(endpoint, ())) for answer in (ours, floor)]
    if bodies[0] != bodies[1]:
        at = next((i for i, (a, b) in enumerate(zip(*bodies, strict=False)) if a != b),
                  min(map(len, bodies)))
        found.append(f"bodies differ at byte {at}: {bodies[0][at - 40:at + 60]!r} != "
                     f"{bodies[1][at - 40:at + 60]!r}")
    return found


def _masked(body: bytes, fields: Iterable[str]) -> bytes:
    for field in fields:
        body = re.sub(rb'"' + field.encode() + rb'":("[^"]*"|\d+)', b'"' + field.encode()
                      + b'":"*"', body)
    return body


def make_app(global_conf: dict[str, str], **settings: str) -> Any:
    """PasteDeploy factory, should an INI name the floor as its app."""
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ini", required=True, help="the INI whose [server:main] to use")
    parser.add_argument("--server", choices=("waitress", "hypercorn"), default="waitress")
    parser.add_argument("--config", help="hypercorn.toml (for --server hypercorn)")
    parser.add_argument("--bind", help="host:port (overrides the INI's listen)")
    args = parser.parse_args()
    if args.server == "waitress":
        from taskdesk.waitress_server import serve

        ini = configparser.RawConfigParser()
        ini.read(args.ini, encoding="utf-8")
        options = {key: value for key, value in ini["server:main"].items() if key != "use"}
        if args.bind:
            options["listen"] = args.bind
        serve(app, **options)
        return
    serve_hypercorn(args.config, args.bind)


def serve_hypercorn(config_path: str, bind: str) -> None:
    """The floor through the same WSGI bridge and Hypercorn settings as ``taskdesk.asgi``."""
    import asyncio
    import tomllib

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from taskdesk.asgi import OWN_KEYS, WSGIBridge

    with open(config_path, "rb") as handle:
        options = tomllib.load(handle)
    own = {key: float(options.pop(key, default)) for key, default in OWN_KEYS.items()}
    config = Config.from_mapping(options)
    config.workers = 1
    config.bind = [bind]
    bridge = WSGIBridge(app, max_body=config.wsgi_max_body_size,
                        body_timeout=own["body_timeout"])
    asyncio.run(serve(bridge, config))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
