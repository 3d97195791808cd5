"""the outbox (events), task and project watchers, the inbox (notifications) and
per-person notification preferences

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("events",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(length=40), nullable=False),
    sa.Column("project_id", sa.Integer(), nullable=True),
    sa.Column("task_id", sa.Integer(), nullable=True),
    sa.Column("actor_id", sa.Integer(), nullable=True),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("dedupe_key", sa.String(length=120), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("last_error", sa.Text(), nullable=False),
    sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    sa.UniqueConstraint("dedupe_key", name=op.f("uq_events_dedupe_key"))
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_pending", ["dispatched_at", "parked_at", "id"], unique=False)
        batch_op.create_index("ix_events_task_id", ["task_id"], unique=False)

    op.create_table("notification_preferences",
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("reason", sa.String(length=20), nullable=False),
    sa.Column("channel", sa.String(length=16), nullable=False),
    sa.CheckConstraint("channel IN ('inbox', 'email', 'digest', 'off')", name=op.f("ck_notification_preferences_channel")),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notification_preferences_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("user_id", "reason", name=op.f("pk_notification_preferences"))
    )
    op.create_table("project_watchers",
    sa.Column("project_id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_project_watchers_project_id_projects"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_project_watchers_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("project_id", "user_id", name=op.f("pk_project_watchers"))
    )
    with op.batch_alter_table("project_watchers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_watchers_user_id"), ["user_id"], unique=False)

    op.create_table("task_watchers",
    sa.Column("task_id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_task_watchers_task_id_tasks"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_task_watchers_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("task_id", "user_id", name=op.f("pk_task_watchers"))
    )
    with op.batch_alter_table("task_watchers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_watchers_user_id"), ["user_id"], unique=False)

    op.create_table("notifications",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("event_id", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(length=40), nullable=False),
    sa.Column("reason", sa.String(length=20), nullable=False),
    sa.Column("project_id", sa.Integer(), nullable=True),
    sa.Column("task_id", sa.Integer(), nullable=True),
    sa.Column("comment_id", sa.Integer(), nullable=True),
    sa.Column("actor_id", sa.Integer(), nullable=True),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_notifications_actor_id_users"), ondelete="SET NULL"),
    sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], name=op.f("fk_notifications_comment_id_comments"), ondelete="SET NULL"),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_notifications_project_id_projects"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_notifications_task_id_tasks"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    sa.UniqueConstraint("event_id", "user_id", name=op.f("uq_notifications_event_id_user_id"))
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_mail", ["mailed_at", "created_at"], unique=False)
        batch_op.create_index("ix_notifications_user_read_id", ["user_id", "read_at", "id"], unique=False)
        batch_op.create_index("ix_notifications_user_task", ["user_id", "task_id"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_task")
        batch_op.drop_index("ix_notifications_user_read_id")
        batch_op.drop_index("ix_notifications_mail")

    op.drop_table("notifications")
    with op.batch_alter_table("task_watchers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_watchers_user_id"))

    op.drop_table("task_watchers")
    with op.batch_alter_table("project_watchers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_watchers_user_id"))

    op.drop_table("project_watchers")
    op.drop_table("notification_preferences")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_task_id")
        batch_op.drop_index("ix_events_pending")

    op.drop_table("events")
