"""network: members report another member's profile or message to the organisers, who are
told by e-mail (in the language they last used the site in) and decide

Revision ID: 0024_abuse_reports
Revises: 0023_people_key
Create Date: 2026-11-30 23:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0024_abuse_reports"
down_revision = "0023_people_key"
branch_labels = None
depends_on = None

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
)
KINDS_AFTER = (*KINDS_BEFORE, "abuse_report")
REASONS_BEFORE = (
    "event_cancelled",
    "event_started",
    "registration_cancelled",
    "no_longer_confirmed",
    "no_longer_waitlisted",
    "mail_stopped",
)
REASONS_AFTER = (*REASONS_BEFORE, "report_closed")


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
    op.create_table(
        "abuse_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("reported_id", sa.Integer(), nullable=False),
        sa.Column("message_ref", sa.Integer(), nullable=True),
        sa.Column(
            "reason",
            sa.Enum(
                "spam",
                "harassment",
                "fake_profile",
                "inappropriate",
                "other",
                name="reportreason",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "dismissed",
                "acted",
                name="reportstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reported_id"],
            ["member.id"],
            name=op.f("fk_abuse_report_reported_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["member.id"],
            name=op.f("fk_abuse_report_reporter_id_member"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_abuse_report")),
    )
    with op.batch_alter_table("abuse_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_abuse_report_reported_id"), ["reported_id"])
        batch_op.create_index(batch_op.f("ix_abuse_report_reporter_id"), ["reporter_id"])
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    _allow(KINDS_AFTER, REASONS_AFTER)


def downgrade():
    # Only a report's e-mail is ever skipped as "report closed": it goes with them.
    op.execute(sa.text("DELETE FROM outbox_message WHERE kind = 'abuse_report'"))
    _allow(KINDS_BEFORE, REASONS_BEFORE)
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("abuse_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_abuse_report_reporter_id"))
        batch_op.drop_index(batch_op.f("ix_abuse_report_reported_id"))
    op.drop_table("abuse_report")
