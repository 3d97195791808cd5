"""task links: blocks, relates to and duplicates between tasks, stored once each

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 13:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("task_links",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("source_id", sa.Integer(), nullable=False),
    sa.Column("target_id", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(length=16), nullable=False),
    sa.Column("created_by_id", sa.Integer(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('blocks', 'relates', 'duplicates')",
                       name=op.f("ck_task_links_kind")),
    sa.CheckConstraint("source_id <> target_id", name=op.f("ck_task_links_not_self")),
    sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                            name=op.f("fk_task_links_created_by_id_users"), ondelete="SET NULL"),
    sa.ForeignKeyConstraint(["source_id"], ["tasks.id"],
                            name=op.f("fk_task_links_source_id_tasks"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["target_id"], ["tasks.id"],
                            name=op.f("fk_task_links_target_id_tasks"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_task_links")),
    sa.UniqueConstraint("source_id", "target_id", "kind",
                        name=op.f("uq_task_links_source_id_target_id_kind"))
    )
    with op.batch_alter_table("task_links", schema=None) as batch_op:
        batch_op.create_index("ix_task_links_target_kind", ["target_id", "kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_links", schema=None) as batch_op:
        batch_op.drop_index("ix_task_links_target_kind")

    op.drop_table("task_links")
