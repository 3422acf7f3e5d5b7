"""an e-mail replaced by a newer one before it left (an "event changed" when the event changes
again, a network confirmation link when the profile is written again), and an "event changed"
whose change was undone before it left: two new reasons for a skipped message; when a sender
took a message to hand it over (outbox_message.taken_at), so that one on its way is not taken back

Revision ID: 0032_event_change_replaced
Revises: 0031_certificate_mail_outdated
Create Date: 2026-12-02 04:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0032_event_change_replaced"
down_revision = "0031_certificate_mail_outdated"
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
)
REASONS_AFTER = (*REASONS_BEFORE, "replaced", "change_undone")


def _allow(reasons):
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_skipreason"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_skipreason"), sa.column("skip_reason").in_(reasons)
        )


def upgrade():
    _allow(REASONS_AFTER)
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("taken_at", sa.DateTime(), nullable=True))


def downgrade():
    # The older code knows no such reasons: the nearest is a message out of date by the time
    # its turn came.
    op.execute(
        sa.text(
            "UPDATE outbox_message SET skip_reason = 'event_ended'"
            " WHERE skip_reason IN ('replaced', 'change_undone')"
        )
    )
    _allow(REASONS_BEFORE)
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("taken_at")
