"""task search: tokenised text per task with the backend's full-text index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 07:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_UP = (
    # An external-content FTS5 table over task_search, kept in step by triggers.
    "CREATE VIRTUAL TABLE task_search_fts USING fts5("
    "body, content='task_search', content_rowid='task_id', tokenize='unicode61')",
    "CREATE TRIGGER task_search_ai AFTER INSERT ON task_search BEGIN "
    "INSERT INTO task_search_fts(rowid, body) VALUES (new.task_id, new.body); END",
    "CREATE TRIGGER task_search_ad AFTER DELETE ON task_search BEGIN "
    "INSERT INTO task_search_fts(task_search_fts, rowid, body) "
    "VALUES ('delete', old.task_id, old.body); END",
    "CREATE TRIGGER task_search_au AFTER UPDATE ON task_search BEGIN "
    "INSERT INTO task_search_fts(task_search_fts, rowid, body) "
    "VALUES ('delete', old.task_id, old.body); "
    "INSERT INTO task_search_fts(rowid, body) VALUES (new.task_id, new.body); END",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS task_search_au",
    "DROP TRIGGER IF EXISTS task_search_ad",
    "DROP TRIGGER IF EXISTS task_search_ai",
    "DROP TABLE IF EXISTS task_search_fts",
)


def upgrade() -> None:
    op.create_table(
        "task_search",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"],
                                name=op.f("fk_task_search_task_id_tasks"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_task_search")),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
    else:
        op.execute(
            "CREATE INDEX ix_task_search_document ON task_search "
            "USING gin (to_tsvector('simple', body))"
        )
    _backfill()


def _backfill() -> None:
    """Index the tasks that exist already (the tokeniser is Python, so this is too)."""
    from taskdesk.domain.search import search_body

    bind = op.get_bind()
    comments: dict[int, list[str]] = {}
    for task_id, body in bind.execute(sa.text("SELECT task_id, body FROM comments")):
        comments.setdefault(task_id, []).append(body)
    rows = [
        {"task_id": task_id, "body": search_body(title, description, *comments.get(task_id, []))}
        for task_id, title, description in bind.execute(
            sa.text("SELECT id, title, description FROM tasks")
        )
    ]
    if rows:
        bind.execute(sa.text("INSERT INTO task_search (task_id, body) VALUES (:task_id, :body)"),
                     rows)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    else:
        op.execute("DROP INDEX IF EXISTS ix_task_search_document")
    op.drop_table("task_search")
