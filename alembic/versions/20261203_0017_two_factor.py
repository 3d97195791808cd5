"""two-factor authentication: authenticator secrets, recovery codes, remembered devices and
sign-ins awaiting their second factor

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("two_factor",
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("secret_box", sa.LargeBinary(), nullable=False),
    sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_step", sa.BigInteger(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                            name=op.f("fk_two_factor_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("user_id", name=op.f("pk_two_factor"))
    )
    op.create_table("recovery_codes",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("code_hash", sa.String(length=64), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                            name=op.f("fk_recovery_codes_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_codes_code_hash"))
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)

    op.create_table("remembered_devices",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("token_hash", sa.String(length=64), nullable=False),
    sa.Column("user_agent", sa.String(length=200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                            name=op.f("fk_remembered_devices_user_id_users"),
                            ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_remembered_devices")),
    sa.UniqueConstraint("token_hash", name=op.f("uq_remembered_devices_token_hash"))
    )
    with op.batch_alter_table("remembered_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_remembered_devices_user_id"), ["user_id"],
                              unique=False)

    op.create_table("pending_sign_ins",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("token_hash", sa.String(length=64), nullable=False),
    sa.Column("method", sa.String(length=16), nullable=False),
    sa.Column("target", sa.String(length=2000), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                            name=op.f("fk_pending_sign_ins_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_sign_ins")),
    sa.UniqueConstraint("token_hash", name=op.f("uq_pending_sign_ins_token_hash"))
    )
    with op.batch_alter_table("pending_sign_ins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_sign_ins_user_id"), ["user_id"],
                              unique=False)


def downgrade() -> None:
    for table in ("pending_sign_ins", "remembered_devices", "recovery_codes"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_user_id"))
        op.drop_table(table)
    op.drop_table("two_factor")
