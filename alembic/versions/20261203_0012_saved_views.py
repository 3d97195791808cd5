"""saved views: named task-list filters, private or shared with the project

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("saved_views",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("project_id", sa.Integer(), nullable=False),
    sa.Column("owner_id", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(length=80), nullable=False),
    sa.Column("shared", sa.Boolean(), nullable=False),
    sa.Column("params", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["owner_id"], ["users.id"],
                            name=op.f("fk_saved_views_owner_id_users"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"],
                            name=op.f("fk_saved_views_project_id_projects"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
    )
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.create_index("ix_saved_views_owner", ["owner_id"], unique=False)
        batch_op.create_index("ix_saved_views_project_shared", ["project_id", "shared"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.drop_index("ix_saved_views_project_shared")
        batch_op.drop_index("ix_saved_views_owner")

    op.drop_table("saved_views")
