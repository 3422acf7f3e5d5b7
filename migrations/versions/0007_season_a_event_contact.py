"""events may have their own contact address (Reply-To, calendar ORGANIZER)

Revision ID: 0007_season_a_event_contact
Revises: 0006_programme_values
Create Date: 2026-11-30 04:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007_season_a_event_contact"
down_revision = "0006_programme_values"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_email", sa.String(length=254), nullable=True))


def downgrade():
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("contact_email")
