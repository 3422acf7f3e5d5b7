"""a certificate's queued e-mail is not sent once the certificate is no longer valid (revoked,
or the check-in it vouches for undone): a new reason for a skipped message

Revision ID: 0031_certificate_mail_outdated
Revises: 0030_feedback_question_ids
Create Date: 2026-12-01 22:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0031_certificate_mail_outdated"
down_revision = "0030_feedback_question_ids"
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
)
REASONS_AFTER = (*REASONS_BEFORE, "certificate_withdrawn")


def _allow(reasons):
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_skipreason"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_skipreason"), sa.column("skip_reason").in_(reasons)
        )


def upgrade():
    _allow(REASONS_AFTER)


def downgrade():
    # The older code knows no such reason: the nearest is the registration being cancelled.
    op.execute(
        sa.text(
            "UPDATE outbox_message SET skip_reason = 'registration_cancelled'"
            " WHERE skip_reason = 'certificate_withdrawn'"
        )
    )
    _allow(REASONS_BEFORE)
