"""a member's report is not sent to an organiser deactivated or made check-in staff after it
was written (a new reason for a skipped message)

Revision ID: 0027_abuse_fixes
Revises: 0025_mail_fixes
Create Date: 2026-12-01 00:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0027_abuse_fixes"
down_revision = "0025_mail_fixes"
branch_labels = None
depends_on = None

REASONS_BEFORE = (
    "event_cancelled",
    "event_started",
    "registration_cancelled",
    "no_longer_confirmed",
    "no_longer_waitlisted",
    "mail_stopped",
    "report_closed",
    "event_ended",
)
REASONS_AFTER = (*REASONS_BEFORE, "no_longer_organiser")


def _allow(reasons):
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_skipreason"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_skipreason"), sa.column("skip_reason").in_(reasons)
        )


def upgrade():
    _allow(REASONS_AFTER)


def downgrade():
    # The older code knows no such reason: the nearest is the report being over for them.
    op.execute(
        sa.text(
            "UPDATE outbox_message SET skip_reason = 'report_closed'"
            " WHERE skip_reason = 'no_longer_organiser'"
        )
    )
    _allow(REASONS_BEFORE)
