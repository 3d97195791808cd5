"""Synthetic data for benchmarks: ``taskdesk INI generate-data --tasks N``.

This is the one writer that bypasses the domain layer. The rows are synthetic benchmark
data, and a million tasks through ``create_task`` (an ORM object, a counter UPDATE, a flush
and an activity row each) would take the better part of an hour; SQLAlchemy Core
``insert()`` with executemany batches does it in a minute or two. The price is that this
module must keep the domain's data rules itself, and it does:

* task numbers are sequential per project, continuing from ``projects.task_counter``, and
  the counter is updated in the same transaction as the batch (the project rows are locked
  with ``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` holds the write lock);
* statuses and priorities come from ``settings.workflow``; ``completed_at`` is set exactly
  for statuses of the done category; ``version`` is 1;
* reporters and assignees are generated users who are members (member or manager) of the
  task's project; timestamps are timezone-aware UTC;
* every task has its ``task_search`` row (title, description and comments, tokenised by
  :func:`taskdesk.domain.search.search_body`), so search finds generated tasks too.

Generated tasks get no activity entries: their history is not what the benchmarks measure.
Re-running adds more data: usernames (``bench0001``) and project slugs (``bench-0001``) are
numbered past the largest existing ids, so they never collide.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine

from taskdesk.domain.errors import DomainError, DuplicateError
from taskdesk.domain.search import search_body
from taskdesk.maintenance import refresh_statistics
from taskdesk.models import Base
from taskdesk.security.passwords import hash_password
from taskdesk.settings import TaskdeskSettings

PASSWORD = "benchmark-password"
BATCH_SIZE = 10_000

USERS = Base.metadata.tables["users"]
PROJECTS = Base.metadata.tables["projects"]
MEMBERS = Base.metadata.tables["project_members"]
TASKS = Base.metadata.tables["tasks"]
LABELS = Base.metadata.tables["task_labels"]
COMMENTS = Base.metadata.tables["comments"]
SEARCH = Base.metadata.tables["task_search"]

#: Share of tasks per status category; within a category the statuses share equally.
CATEGORY_WEIGHTS = {"open": 40.0, "active": 25.0, "done": 30.0, "cancelled": 5.0}
LABEL_NAMES = ("bug", "feature", "docs", "ux", "backend", "frontend", "security", "ops",
               "performance", "mobile", "api", "design", "research", "support", "release",
               "tech-debt", "testing", "i18n", "data", "urgent")
WORDS = ("export", "search", "login", "report", "dashboard", "invoice", "upload", "sync",
         "backup", "settings", "profile", "billing", "calendar", "import", "webhook", "cache")
VERBS = ("Fix", "Add", "Improve", "Review", "Remove", "Document", "Test", "Refactor")
COMMENT_BODIES = ("Looks good to me.", "Can you add a test for this?", "Working on it.",
                  "Blocked by the release freeze.", "Done, please review.",
                  "Duplicate of an older task?", "I can reproduce this on staging.")
#: Generated timestamps spread over this much of the past.
SPAN = timedelta(days=365)


class Progress:
    """A one-line progress bar on a terminal stream, redrawn in place with ``\\r``."""

    def __init__(self, total: int, stream: TextIO, width: int = 30) -> None:
        self.total = max(total, 1)
        self.stream = stream
        self.width = width
        self.started = time.perf_counter()

    def show(self, done: int) -> None:
        share = done / self.total
        filled = int(self.width * share)
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {share:4.0%} {done:,}/{self.total:,} tasks "
                          f"{elapsed:5.1f} s {rate:,.0f}/s ")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _weighted_statuses(settings: TaskdeskSettings) -> tuple[list[str], list[float]]:
    statuses = settings.workflow.statuses
    per_category = {c: sum(1 for s in statuses if s.category == c) for c in CATEGORY_WEIGHTS}
    weights = [CATEGORY_WEIGHTS[s.category] / per_category[s.category] for s in statuses]
    return [s.name for s in statuses], weights


def _max_id(connection: Connection, table: Table) -> int:
    return int(connection.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0)


def _reserve_task_ids(connection: Connection, count: int) -> Sequence[int]:
    """``count`` unused task ids, safe against concurrent inserts by the application."""
    if connection.dialect.name == "postgresql":
        return connection.scalars(
            text("SELECT nextval(pg_get_serial_sequence('tasks', 'id')) "
                 "FROM generate_series(1, :n)"),
            {"n": count},
        ).all()
    # SQLite: the batch's transaction began IMMEDIATE and holds the write lock.
    start = _max_id(connection, TASKS) + 1
    return range(start, start + count)


def _create_users(
    connection: Connection, rng: random.Random, count: int, now: datetime
) -> tuple[list[int], str, str]:
    """Insert ``count`` users sharing one password hash; return ids and first/last name."""
    base = _max_id(connection, USERS)
    names = [f"bench{base + i:04d}" for i in range(1, count + 1)]
    taken = connection.scalars(select(USERS.c.username).where(USERS.c.username.in_(names)))
    if clash := taken.first():
        raise DuplicateError("username", f"the username {clash} exists already")
    password_hash = hash_password(PASSWORD)
    connection.execute(insert(USERS), [
        {"username": name, "display_name": f"Bench User {name[5:]}",
         "email": f"{name}@bench.example.com", "password_hash": password_hash,
         "is_site_admin": False, "is_active": True,
         "locale": "zh_CN" if rng.random() < 0.2 else None, "created_at": now}
        for name in names
    ])
    ids = connection.scalars(
        select(USERS.c.id).where(USERS.c.username.in_(names)).order_by(USERS.c.id)
    ).all()
    return list(ids), names[0], names[-1]


def _create_projects(
    connection: Connection, rng: random.Random, count: int, user_ids: list[int], now: datetime
) -> dict[int, list[int]]:
    """Insert ``count`` projects with memberships; return project id -> working members."""
    base = _max_id(connection, PROJECTS)
    slugs = [f"bench-{base + i:04d}" for i in range(1, count + 1)]
    taken = connection.scalars(select(PROJECTS.c.slug).where(PROJECTS.c.slug.in_(slugs)))
    if clash := taken.first():
        raise DuplicateError("slug", f"the project slug {clash} exists already")
    teams: list[list[int]] = []
    for _slug in slugs:
        size = max(1, min(len(user_ids), rng.randint(3, 25)))
        teams.append(rng.sample(user_ids, size))
    # The first user (the benchmarks sign in as bench0001) manages the first, largest
    # project: its board's columns and its list's pages are as full at 1,000 tasks as at
    # 1,000,000, so the two sizes compare like for like.
    teams[0] = [user_ids[0], *(user for user in teams[0] if user != user_ids[0])]
    connection.execute(insert(PROJECTS), [
        {"slug": slug, "name": f"Benchmark project {slug[6:]}",
         "description": "Synthetic data for benchmarks.",
         "visibility": "internal" if rng.random() < 0.3 else "private",
         "is_archived": False, "task_counter": 0, "created_by_id": team[0],
         "created_at": now, "updated_at": now}
        for slug, team in zip(slugs, teams, strict=True)
    ])
    ids = connection.scalars(
        select(PROJECTS.c.id).where(PROJECTS.c.slug.in_(slugs)).order_by(PROJECTS.c.id)
    ).all()
    members: list[dict[str, Any]] = []
    workers: dict[int, list[int]] = {}
    for project_id, team in zip(ids, teams, strict=True):
        # The first of a team manages the project; about one in ten others only views it.
        roles = ["manager"] + ["viewer" if rng.random() < 0.1 else "member" for _ in team[1:]]
        members += [{"project_id": project_id, "user_id": user_id, "role": role,
                     "created_at": now} for user_id, role in zip(team, roles, strict=True)]
        workers[project_id] = [u for u, r in zip(team, roles, strict=True) if r != "viewer"]
    connection.execute(insert(MEMBERS), members)
    return workers


@dataclass
class Batch:
    """The rows of one transaction, one list per table."""

    tasks: list[dict[str, Any]] = field(default_factory=list)
    search: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)


class _TaskMaker:
    """Builds the rows of one batch: tasks, their labels, comments and search rows."""

    def __init__(self, settings: TaskdeskSettings, rng: random.Random,
                 workers: dict[int, list[int]], total: int, now: datetime) -> None:
        self.rng = rng
        self.workers = workers
        self.project_ids = list(workers)
        # A few big projects and a long tail, as in real installations.
        self.project_weights = [1 / (i + 1) for i in range(len(self.project_ids))]
        self.statuses, self.status_weights = _weighted_statuses(settings)
        self.done = set(settings.workflow.names_in("done"))
        self.priorities = settings.workflow.priorities
        self.default_priority = settings.workflow.default_priority
        self.total = total
        self.now = now
        self.start = now - SPAN

    def rows(self, ids: Sequence[int], offset: int, counters: dict[int, int]) -> Batch:
        rng = self.rng
        count = len(ids)
        projects = rng.choices(self.project_ids, self.project_weights, k=count)
        statuses = rng.choices(self.statuses, self.status_weights, k=count)
        batch = Batch()
        for i, (task_id, project_id, status) in enumerate(zip(ids, projects, statuses,
                                                              strict=True)):
            counters[project_id] += 1
            team = self.workers[project_id]
            # Creation times rise with the task number, as they would in real use.
            created = self.start + SPAN * ((offset + i) / self.total) + timedelta(
                seconds=rng.randrange(3600))
            created = min(created, self.now)
            updated = min(created + timedelta(seconds=rng.randrange(30 * 86400)), self.now)
            due: date | None = None
            if rng.random() < 0.5:
                due = created.date() + timedelta(days=rng.randrange(-5, 60))
            title = f"{rng.choice(VERBS)} {rng.choice(WORDS)} {rng.choice(WORDS)}"
            description = "" if rng.random() < 0.6 else "Synthetic task for benchmarks."
            batch.tasks.append({
                "id": task_id,
                "project_id": project_id,
                "number": counters[project_id],
                "title": title,
                "description": description,
                "status": status,
                "priority": (self.default_priority if rng.random() < 0.5
                             else rng.choice(self.priorities)),
                "assignee_id": rng.choice(team) if rng.random() < 0.8 else None,
                "reporter_id": rng.choice(team),
                "due_date": due,
                "created_at": created,
                "updated_at": updated,
                "completed_at": updated if status in self.done else None,
                "version": 1,
            })
            if rng.random() < 0.3:
                batch.labels += [{"task_id": task_id, "name": name}
                                 for name in rng.sample(LABEL_NAMES, rng.randint(1, 3))]
            bodies: list[str] = []
            if rng.random() < 0.2:
                for _ in range(rng.randint(1, 3)):
                    at = min(created + timedelta(seconds=rng.randrange(7 * 86400)), self.now)
                    bodies.append(rng.choice(COMMENT_BODIES))
                    batch.comments.append({"task_id": task_id, "author_id": rng.choice(team),
                                           "body": bodies[-1], "created_at": at,
                                           "updated_at": at, "version": 1})
            batch.search.append(
                {"task_id": task_id, "body": search_body(title, description, *bodies)}
            )
        return batch


def _lock_counters(connection: Connection, project_ids: list[int]) -> dict[int, int]:
    rows = connection.execute(
        select(PROJECTS.c.id, PROJECTS.c.task_counter)
        .where(PROJECTS.c.id.in_(project_ids))
        .with_for_update()
    )
    return {row.id: row.task_counter for row in rows}


def generate_data(
    engine: Engine,
    settings: TaskdeskSettings,
    *,
    tasks: int,
    projects: int,
    users: int,
    seed: int,
    progress: bool,
    out: TextIO | None = None,
) -> None:
    """Add ``users`` users, ``projects`` projects and ``tasks`` tasks (with labels and
    comments) in batches of committed transactions; report the rate on ``out``."""
    if tasks < 0 or projects < 1 or users < 1:
        raise DomainError("generate-data needs --tasks >= 0, --projects >= 1, --users >= 1")
    out = out or sys.stdout
    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        user_ids, first_user, last_user = _create_users(connection, rng, users, now)
        workers = _create_projects(connection, rng, projects, user_ids, now)
    rows = users + projects + sum(len(team) for team in workers.values())

    maker = _TaskMaker(settings, rng, workers, tasks, now)
    bar = Progress(tasks, sys.stderr) if progress else None
    label_count = comment_count = 0
    for offset in range(0, tasks, BATCH_SIZE):
        count = min(BATCH_SIZE, tasks - offset)
        with engine.begin() as connection:
            counters = _lock_counters(connection, maker.project_ids)
            before = dict(counters)
            batch = maker.rows(_reserve_task_ids(connection, count), offset, counters)
            connection.execute(insert(TASKS), batch.tasks)
            connection.execute(insert(SEARCH), batch.search)
            if batch.labels:
                connection.execute(insert(LABELS), batch.labels)
            if batch.comments:
                connection.execute(insert(COMMENTS), batch.comments)
            changed = [{"pid": pid, "counter": n} for pid, n in counters.items()
                       if n != before[pid]]
            connection.execute(
                update(PROJECTS).where(PROJECTS.c.id == bindparam("pid"))
                .values(task_counter=bindparam("counter")),
                changed,
            )
        label_count += len(batch.labels)
        comment_count += len(batch.comments)
        rows += 2 * count + len(batch.labels) + len(batch.comments)
        if bar is not None:
            bar.show(offset + count)
    if bar is not None:
        bar.close()
    refresh_statistics(engine)

    elapsed = time.perf_counter() - started
    print(f"generated {tasks:,} tasks ({label_count:,} labels, {comment_count:,} comments) "
          f"in {projects} projects for {users} users: {rows:,} rows in {elapsed:.1f} s "
          f"({rows / elapsed:,.0f} rows/s)", file=out)
    print(f"users {first_user} to {last_user} sign in with password {PASSWORD}", file=out)
