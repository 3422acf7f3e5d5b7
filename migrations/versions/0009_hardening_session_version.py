"""staff sessions carry a version that logout and password changes raise

Revision ID: 0009_hardening_session_version
Revises: 0008_season_a_manage_link_mail
Create Date: 2026-11-30 04:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009_hardening_session_version"
down_revision = "0008_season_a_manage_link_mail"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="1", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("session_version")
