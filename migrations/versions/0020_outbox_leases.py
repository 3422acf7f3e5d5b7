"""outbox: the sender holding a message's lease, and messages not sent because they were out
of date (with the reason)

Revision ID: 0020_outbox_leases
Revises: 0017_day_attendance
Create Date: 2026-11-30 20:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020_outbox_leases"
down_revision = "0017_day_attendance"
branch_labels = None
depends_on = None

BEFORE = ("pending", "sent", "failed")
AFTER = (*BEFORE, "skipped")
REASONS = (
    "event_cancelled",
    "event_started",
    "registration_cancelled",
    "no_longer_confirmed",
    "no_longer_waitlisted",
    "mail_stopped",
)


def _allow(batch_op, statuses):
    batch_op.drop_constraint(op.f("ck_outbox_message_messagestatus"), type_="check")
    batch_op.create_check_constraint(
        op.f("ck_outbox_message_messagestatus"), sa.column("status").in_(statuses)
    )


def upgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "skip_reason",
                sa.Enum(*REASONS, name="skipreason", native_enum=False, length=32),
                nullable=True,
            )
        )
        _allow(batch_op, AFTER)
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_skipreason"), sa.column("skip_reason").in_(REASONS)
        )


def downgrade():
    # A message not sent because it was out of date stays unsent: it is given up on.
    op.execute(sa.text("UPDATE outbox_message SET status = 'failed' WHERE status = 'skipped'"))
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_skipreason"), type_="check")
        _allow(batch_op, BEFORE)
        batch_op.drop_column("skip_reason")
        batch_op.drop_column("claimed_by")
