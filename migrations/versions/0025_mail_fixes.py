"""mail that comes after its event ended is not sent (a new reason); a practice's proposer is
told when it is withdrawn from the library and when it is published again, which needs to know
whether it was published before

Revision ID: 0025_mail_fixes
Revises: 0024_abuse_reports
Create Date: 2026-11-30 23:30:00.000000

"""

import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025_mail_fixes"
down_revision = "0024_abuse_reports"
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
)
REASONS_AFTER = (*REASONS_BEFORE, "event_ended")

KINDS_BEFORE = (
    "confirmation",
    "waitlisted",
    "cancelled",
    "event_changed",
    "event_cancelled",
    "reminder",
    "organiser_message",
    "password_reset",
    "manage_link",
    "materials_available",
    "feedback_request",
    "certificate",
    "network_confirm",
    "network_sign_in",
    "network_contact",
    "network_announcement",
    "network_practice_published",
    "network_practice_rejected",
    "abuse_report",
)
KINDS_AFTER = (*KINDS_BEFORE, "network_practice_unpublished", "network_practice_republished")


def _allow(kinds, reasons):
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_messagekind"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_messagekind"), sa.column("kind").in_(kinds)
        )
        batch_op.drop_constraint(op.f("ck_outbox_message_skipreason"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_skipreason"), sa.column("skip_reason").in_(reasons)
        )


def upgrade():
    _allow(KINDS_AFTER, REASONS_AFTER)
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_published_at", sa.DateTime(), nullable=True))
    # What is published now was published first then, as far as anyone can tell; a practice
    # taken out since was published when its proposer was told so (the outbox remembers).
    op.execute(sa.text("UPDATE practice SET first_published_at = published_at"))
    bind = op.get_bind()
    told = bind.execute(
        sa.text(
            "SELECT params, created_at FROM outbox_message"
            " WHERE kind = 'network_practice_published' ORDER BY id"
        )
    ).all()
    for params, created_at in told:
        practice_id = (json.loads(params) if isinstance(params, str) else params)["practice_id"]
        bind.execute(
            sa.text(
                "UPDATE practice SET first_published_at = :at"
                " WHERE id = :id AND first_published_at IS NULL"
            ),
            {"at": created_at, "id": practice_id},
        )


def downgrade():
    with op.batch_alter_table("practice", schema=None) as batch_op:
        batch_op.drop_column("first_published_at")
    op.execute(
        sa.text(
            "DELETE FROM outbox_message"
            " WHERE kind IN ('network_practice_unpublished', 'network_practice_republished')"
        )
    )
    # An event that had ended had started: the nearest reason the older code knows.
    op.execute(
        sa.text(
            "UPDATE outbox_message SET skip_reason = 'event_started'"
            " WHERE skip_reason = 'event_ended'"
        )
    )
    _allow(KINDS_BEFORE, REASONS_BEFORE)
