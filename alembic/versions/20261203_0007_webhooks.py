"""webhooks (an integration's URL, secret and chosen events, per project or for all
projects) and their deliveries (one per event and hook: the delivery log)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("webhooks",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("project_id", sa.Integer(), nullable=True),
    sa.Column("url", sa.String(length=2000), nullable=False),
    sa.Column("description", sa.String(length=200), nullable=False),
    sa.Column("secret", sa.String(length=80), nullable=False),
    sa.Column("events", sa.JSON(), nullable=False),
    sa.Column("is_active", sa.Boolean(), nullable=False),
    sa.Column("created_by_id", sa.Integer(), nullable=True),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_webhooks_created_by_id_users"), ondelete="SET NULL"),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_webhooks_project_id_projects"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks"))
    )
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhooks_project_id"), ["project_id"], unique=False)

    op.create_table("webhook_deliveries",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("webhook_id", sa.Integer(), nullable=False),
    sa.Column("event_id", sa.Integer(), nullable=False),
    sa.Column("event_kind", sa.String(length=40), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("response_status", sa.Integer(), nullable=True),
    sa.Column("duration_ms", sa.Integer(), nullable=True),
    sa.Column("response_excerpt", sa.Text(), nullable=False),
    sa.Column("error", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'failed', 'parked')", name=op.f("ck_webhook_deliveries_status")),
    sa.ForeignKeyConstraint(["webhook_id"], ["webhooks.id"], name=op.f("fk_webhook_deliveries_webhook_id_webhooks"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    sa.UniqueConstraint("webhook_id", "event_id", name=op.f("uq_webhook_deliveries_webhook_id_event_id"))
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_due", ["status", "next_attempt_at"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_due")

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhooks_project_id"))

    op.drop_table("webhooks")
