"""sub-tasks and checklists: tasks.parent_id, its index, stored checklist counts (backfilled)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:45:00

SQLite: Alembic adds a foreign key there only by rebuilding ``tasks`` (batch mode), and
dropping the old table would cascade-delete every comment, label and activity row, as the
application's connections enforce foreign keys (a pragma no transaction can switch off).
So the column is added plainly and the named constraint written into the table's stored
definition, SQLite's own documented procedure for changing constraints (ALTER TABLE,
section "Making Other Kinds Of Table Schema Changes"); the downgrade takes it out again and
drops the column. The column is all NULL when the constraint is added, so nothing violates it.
"""

import sqlalchemy as sa
from alembic import op

from taskdesk.domain.checklists import progress

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


_SQLITE_FK = (", CONSTRAINT fk_tasks_parent_id_tasks FOREIGN KEY(parent_id) "
              "REFERENCES tasks (id) ON DELETE CASCADE")


def _rewrite_sqlite_tasks(bind: sa.engine.Connection, change: object) -> None:
    """Replace the stored CREATE TABLE of ``tasks`` by ``change(sql)``."""
    sql = bind.execute(sa.text(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'tasks'")).scalar_one()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql "
                         "WHERE type = 'table' AND name = 'tasks'"),
                 {"sql": change(sql)})  # type: ignore[operator]
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _add_sqlite_fk(sql: str) -> str:
    end = sql.rstrip().rindex(")")
    return f"{sql[:end].rstrip()}{_SQLITE_FK})"


def _drop_sqlite_fk(sql: str) -> str:
    return sql.replace(_SQLITE_FK, "")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("ALTER TABLE tasks ADD COLUMN parent_id INTEGER")
        _rewrite_sqlite_tasks(bind, _add_sqlite_fk)
    else:
        op.add_column("tasks", sa.Column("parent_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_tasks_parent_id_tasks"), "tasks", "tasks",
                              ["parent_id"], ["id"], ondelete="CASCADE")
    op.add_column("tasks", sa.Column("checklist_done", sa.Integer(), server_default="0",
                                     nullable=False))
    op.add_column("tasks", sa.Column("checklist_total", sa.Integer(), server_default="0",
                                     nullable=False))
    op.create_index(op.f("ix_tasks_parent_number"), "tasks", ["parent_id", "number"],
                    unique=False)
    # Backfill: only descriptions that can hold a checklist are parsed.
    rows = bind.execute(sa.text(
        "SELECT id, description FROM tasks WHERE description LIKE '%[%]%'")).all()
    counts = [{"id": task_id, "done": done, "total": total}
              for task_id, description in rows
              for done, total in [progress(description or "")] if total]
    if counts:
        bind.execute(sa.text("UPDATE tasks SET checklist_done = :done, "
                             "checklist_total = :total WHERE id = :id"), counts)


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index(op.f("ix_tasks_parent_number"), table_name="tasks")
    op.drop_column("tasks", "checklist_total")
    op.drop_column("tasks", "checklist_done")
    if bind.dialect.name == "sqlite":
        _rewrite_sqlite_tasks(bind, _drop_sqlite_fk)
    else:
        op.drop_constraint(op.f("fk_tasks_parent_id_tasks"), "tasks", type_="foreignkey")
    op.drop_column("tasks", "parent_id")
