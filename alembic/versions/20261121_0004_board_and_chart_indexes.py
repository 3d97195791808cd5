"""indexes for board columns (status by last update) and the weekly charts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 07:40:00
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tasks_project_status_updated": ["project_id", "status", "updated_at", "id"],
    "ix_tasks_project_created": ["project_id", "created_at"],
    "ix_tasks_project_completed": ["project_id", "completed_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
