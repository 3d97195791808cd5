"""directory sign-in: accounts' identities at OpenID providers and in LDAP, OpenID
sign-ins under way

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("directory_accounts",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("provider", sa.String(length=255), nullable=False),
    sa.Column("subject", sa.String(length=255), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                            name=op.f("fk_directory_accounts_user_id_users"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_accounts")),
    sa.UniqueConstraint("provider", "subject",
                        name=op.f("uq_directory_accounts_provider_subject"))
    )
    with op.batch_alter_table("directory_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directory_accounts_user_id"), ["user_id"],
                              unique=False)

    op.create_table("oidc_sign_ins",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("state_hash", sa.String(length=64), nullable=False),
    sa.Column("nonce", sa.String(length=128), nullable=False),
    sa.Column("code_verifier", sa.String(length=128), nullable=False),
    sa.Column("target", sa.String(length=2000), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_sign_ins")),
    sa.UniqueConstraint("state_hash", name=op.f("uq_oidc_sign_ins_state_hash"))
    )
    with op.batch_alter_table("oidc_sign_ins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_sign_ins_created_at"), ["created_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oidc_sign_ins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_sign_ins_created_at"))
    op.drop_table("oidc_sign_ins")
    with op.batch_alter_table("directory_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_accounts_user_id"))
    op.drop_table("directory_accounts")
