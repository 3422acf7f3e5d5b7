"""a member leaving the network no longer takes with them the reports about them, other
members' blocks of their messages or organisers having hidden them: these wait under a keyed
digest of the address (former_member) and hold again if the address joins again

Revision ID: 0029_former_members
Revises: 0028_network_mail_outdated
Create Date: 2026-12-01 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0029_former_members"
down_revision = "0028_network_mail_outdated"
branch_labels = None
depends_on = None

# (table, column of the member it is about)
ABOUT_A_MEMBER = (("abuse_report", "reported_id"), ("contact_block", "blocked_id"))


def _about_a_member(table, column, *, ondelete, nullable):
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"fk_{table}_{column}_member"), type_="foreignkey")
        batch_op.alter_column(column, existing_type=sa.Integer(), nullable=nullable)
        batch_op.create_foreign_key(
            op.f(f"fk_{table}_{column}_member"), "member", [column], ["id"], ondelete=ondelete
        )


def upgrade():
    op.create_table(
        "former_member",
        sa.Column("former_key", sa.String(length=64), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("left_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("former_key", name=op.f("pk_former_member")),
    )
    for table, column in ABOUT_A_MEMBER:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("former_key", sa.String(length=64), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_former_key"), ["former_key"])
        _about_a_member(table, column, ondelete="SET NULL", nullable=True)


def downgrade():
    # The older code deleted these with the member: what waits for a former member goes.
    for table, column in ABOUT_A_MEMBER:
        op.execute(sa.text(f"DELETE FROM {table} WHERE {column} IS NULL"))
        _about_a_member(table, column, ondelete="CASCADE", nullable=False)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_former_key"))
            batch_op.drop_column("former_key")
    op.drop_table("former_member")
