"""board order and WIP limits: a rank per task, WIP limits per project

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 16:30:00

Existing tasks are ranked as the board showed them before (most recently updated first in
each column), ``RANK_GAP`` apart, so every board looks the same after the upgrade.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

#: ``taskdesk.domain.ranks.RANK_GAP``, copied: a migration does not import the application.
RANK_GAP = 2**20
BATCH = 1000


def upgrade() -> None:
    op.add_column("projects", sa.Column("wip_limits", sa.JSON(), server_default="{}",
                                        nullable=False))
    op.add_column("tasks", sa.Column("rank", sa.BigInteger(), server_default="0",
                                     nullable=False))
    op.create_index("ix_tasks_project_status_rank", "tasks",
                    ["project_id", "status", "rank", "id"], unique=False)
    tasks = sa.table("tasks", sa.column("id", sa.Integer), sa.column("project_id", sa.Integer),
                     sa.column("status", sa.String), sa.column("updated_at", sa.DateTime),
                     sa.column("rank", sa.BigInteger))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(tasks.c.id, tasks.c.project_id, tasks.c.status)
        .order_by(tasks.c.project_id, tasks.c.status, tasks.c.updated_at.desc(),
                  tasks.c.id.desc())
    ).all()
    update = (tasks.update().where(tasks.c.id == sa.bindparam("task_id"))
              .values(rank=sa.bindparam("new_rank")))
    batch: list[dict[str, int]] = []
    column, place = None, 0
    for task_id, project_id, status in rows:
        place = place + 1 if (project_id, status) == column else 0
        column = (project_id, status)
        batch.append({"task_id": task_id, "new_rank": place * RANK_GAP})
        if len(batch) == BATCH:
            connection.execute(update, batch)
            batch = []
    if batch:
        connection.execute(update, batch)


def downgrade() -> None:
    op.drop_index("ix_tasks_project_status_rank", table_name="tasks")
    op.drop_column("tasks", "rank")
    op.drop_column("projects", "wip_limits")
