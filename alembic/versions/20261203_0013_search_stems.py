"""search stems: rebuild every task's search body with English words stemmed

The bodies are made in Python (``taskdesk.domain.search``), so this rewrites them in
batches of tasks by id; the index follows (FTS5 triggers on SQLite, the GIN expression index
on PostgreSQL). The downgrade writes the unstemmed bodies back.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

#: Tasks per batch: one SELECT of tasks, one of their comments, one UPDATE each.
BATCH = 1000


def upgrade() -> None:
    from taskdesk.domain.search import search_body

    _rebuild(search_body)


def downgrade() -> None:
    from taskdesk.domain.search import tokens

    _rebuild(lambda *parts: " ".join(token for part in parts for token in tokens(part)))


def _rebuild(body_of: Callable[..., str]) -> None:
    bind = op.get_bind()
    last = 0
    while True:
        tasks = bind.execute(
            sa.text("SELECT id, title, description FROM tasks WHERE id > :last "
                    "ORDER BY id LIMIT :batch"),
            {"last": last, "batch": BATCH},
        ).all()
        if not tasks:
            return
        first, last = tasks[0][0], tasks[-1][0]
        comments: dict[int, list[str]] = {}
        for task_id, body in bind.execute(
            sa.text("SELECT task_id, body FROM comments WHERE task_id BETWEEN :first AND :last "
                    "ORDER BY id"),
            {"first": first, "last": last},
        ):
            comments.setdefault(task_id, []).append(body)
        indexed = set(bind.execute(
            sa.text("SELECT task_id FROM task_search WHERE task_id BETWEEN :first AND :last"),
            {"first": first, "last": last},
        ).scalars())
        rows = [
            {"task_id": task_id,
             "body": body_of(title, description, *comments.get(task_id, []))}
            for task_id, title, description in tasks
        ]
        updates = [row for row in rows if row["task_id"] in indexed]
        inserts = [row for row in rows if row["task_id"] not in indexed]
        if updates:
            bind.execute(sa.text("UPDATE task_search SET body = :body WHERE task_id = :task_id"),
                         updates)
        if inserts:
            bind.execute(sa.text("INSERT INTO task_search (task_id, body) VALUES (:task_id, :body)"),
                         inserts)
