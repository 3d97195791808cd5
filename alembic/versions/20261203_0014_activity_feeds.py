"""activity feeds: each user's secret Atom feed address, and the "by person" index

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("feed_tokens",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("prefix", sa.String(length=16), nullable=False),
    sa.Column("token_hash", sa.String(length=64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                            name=op.f("fk_feed_tokens_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_tokens")),
    sa.UniqueConstraint("token_hash", name=op.f("uq_feed_tokens_token_hash")),
    sa.UniqueConstraint("user_id", name=op.f("uq_feed_tokens_user_id")),
    )
    op.create_index("ix_activity_actor_id_id", "activity", ["actor_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_activity_actor_id_id", table_name="activity")
    op.drop_table("feed_tokens")
