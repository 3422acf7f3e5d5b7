"""registrations indexed by event and status: a sign-up counts an event's seats and queue
from the index alone (issue 18); the index on event_id alone is its prefix, so it goes

Revision ID: 0014_registration_event_status
Revises: 0013_season_b_staff_mail
Create Date: 2026-11-30 10:40:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0014_registration_event_status"
down_revision = "0013_season_b_staff_mail"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_registration_event_status", "registration", ["event_id", "status"], unique=False
    )
    op.drop_index("ix_registration_event_id", table_name="registration")


def downgrade():
    op.create_index("ix_registration_event_id", "registration", ["event_id"], unique=False)
    op.drop_index("ix_registration_event_status", table_name="registration")
