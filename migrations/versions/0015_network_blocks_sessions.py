"""network: a member blocks messages from one other member; sessions a member can end

Revision ID: 0015_network_blocks_sessions
Revises: 0014_registration_event_status
Create Date: 2026-11-30 17:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015_network_blocks_sessions"
down_revision = "0014_registration_event_status"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "contact_block",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("blocked_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["blocked_id"],
            ["member.id"],
            name=op.f("fk_contact_block_blocked_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_contact_block_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_block")),
        sa.UniqueConstraint("member_id", "blocked_id", name=op.f("uq_contact_block_member_id")),
    )
    with op.batch_alter_table("contact_block", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_block_blocked_id"), ["blocked_id"])
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_nonce", sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("session_nonce")
    with op.batch_alter_table("contact_block", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_block_blocked_id"))
    op.drop_table("contact_block")
