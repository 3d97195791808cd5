"""audit log: an append-only, hash-chained table of security events

On PostgreSQL a trigger refuses every UPDATE and DELETE on the table (TRUNCATE too), so
not even a bug or a stray statement of the application can rewrite history; whoever may
drop the trigger can, and ``taskdesk INI audit verify`` then finds the break in the hash
chain. SQLite has no such guard: there the chain is the only protection.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_REFUSE = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade() -> None:
    op.create_table("audit_log",
    sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("kind", sa.String(length=40), nullable=False),
    sa.Column("actor_id", sa.Integer(), nullable=True),
    sa.Column("target", sa.String(length=200), nullable=True),
    sa.Column("details", sa.JSON(), nullable=False),
    sa.Column("address", sa.String(length=64), nullable=True),
    sa.Column("previous_hash", sa.String(length=64), nullable=False),
    sa.Column("hash", sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log"))
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_actor_id_id", ["actor_id", "id"], unique=False)
        batch_op.create_index("ix_audit_log_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_audit_log_kind_id", ["kind", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_REFUSE)
        op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_kind_id")
        batch_op.drop_index("ix_audit_log_created_at")
        batch_op.drop_index("ix_audit_log_actor_id_id")

    op.drop_table("audit_log")
