"""a questionnaire link whose attendance was taken back (the check-in undone) before its e-mail
left is not sent, nor a member's message whose recipient stopped the sender's messages (or all
messages) before it left: two new reasons for a skipped message

Revision ID: 0033_feedback_request_withdrawn
Revises: 0032_event_change_replaced
Create Date: 2026-12-02 11:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0033_feedback_request_withdrawn"
down_revision = "0032_event_change_replaced"
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
    "sender_gone",
    "practice_moved_on",
    "certificate_withdrawn",
    "replaced",
    "change_undone",
)
REASONS_AFTER = (*REASONS_BEFORE, "feedback_withdrawn", "contact_stopped")


def _allow(reasons):
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_skipreason"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_skipreason"), sa.column("skip_reason").in_(reasons)
        )


def upgrade():
    _allow(REASONS_AFTER)


def downgrade():
    # The older code knows no such reason: the nearest is a message out of date by the time
    # its turn came.
    op.execute(
        sa.text(
            "UPDATE outbox_message SET skip_reason = 'event_ended'"
            " WHERE skip_reason IN ('feedback_withdrawn', 'contact_stopped')"
        )
    )
    _allow(REASONS_BEFORE)
