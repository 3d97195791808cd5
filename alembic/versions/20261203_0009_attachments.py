"""attachments: files attached to tasks and comments (the bytes live in the blob store,
named by their SHA-256; rows name the blobs they use)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("attachments",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("project_id", sa.Integer(), nullable=False),
    sa.Column("task_id", sa.Integer(), nullable=False),
    sa.Column("comment_id", sa.Integer(), nullable=True),
    sa.Column("uploader_id", sa.Integer(), nullable=True),
    sa.Column("filename", sa.String(length=255), nullable=False),
    sa.Column("media_type", sa.String(length=127), nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("sha256", sa.String(length=64), nullable=False),
    sa.Column("thumbnail_sha256", sa.String(length=64), nullable=True),
    sa.Column("width", sa.Integer(), nullable=True),
    sa.Column("height", sa.Integer(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], name=op.f("fk_attachments_comment_id_comments"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_attachments_project_id_projects"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_attachments_task_id_tasks"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["uploader_id"], ["users.id"], name=op.f("fk_attachments_uploader_id_users"), ondelete="SET NULL"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments"))
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_comment_id"), ["comment_id"], unique=False)
        batch_op.create_index("ix_attachments_project_id", ["project_id"], unique=False)
        batch_op.create_index("ix_attachments_sha256", ["sha256"], unique=False)
        batch_op.create_index("ix_attachments_task_id_id", ["task_id", "id"], unique=False)
        batch_op.create_index("ix_attachments_thumbnail_sha256", ["thumbnail_sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_attachments_thumbnail_sha256")
        batch_op.drop_index("ix_attachments_task_id_id")
        batch_op.drop_index("ix_attachments_sha256")
        batch_op.drop_index("ix_attachments_project_id")
        batch_op.drop_index(batch_op.f("ix_attachments_comment_id"))

    op.drop_table("attachments")
