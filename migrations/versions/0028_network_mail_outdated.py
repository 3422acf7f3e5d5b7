"""a queued network e-mail is not sent when it is no longer true: a message whose sender was
hidden or left, a practice e-mail whose practice moved in or out of the library again (two new
reasons for a skipped message)

Revision ID: 0028_network_mail_outdated
Revises: 0027_abuse_fixes
Create Date: 2026-12-01 03:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0028_network_mail_outdated"
down_revision = "0027_abuse_fixes"
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
    "no_longer_organiser",
)
REASONS_AFTER = (*REASONS_BEFORE, "sender_gone", "practice_moved_on")


def _allow(reasons):
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_skipreason"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_skipreason"), sa.column("skip_reason").in_(reasons)
        )


def upgrade():
    _allow(REASONS_AFTER)


def downgrade():
    # The older code knows no such reasons: the nearest is the member's mail being stopped.
    op.execute(
        sa.text(
            "UPDATE outbox_message SET skip_reason = 'mail_stopped'"
            " WHERE skip_reason IN ('sender_gone', 'practice_moved_on')"
        )
    )
    _allow(REASONS_BEFORE)
