"""the outbox may hold "send me my link again" e-mails (message kind manage_link)

Revision ID: 0008_season_a_manage_link_mail
Revises: 0007_season_a_event_contact
Create Date: 2026-11-30 05:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0008_season_a_manage_link_mail"
down_revision = "0007_season_a_event_contact"
branch_labels = None
depends_on = None

BEFORE = (
    "confirmation",
    "waitlisted",
    "cancelled",
    "event_changed",
    "event_cancelled",
    "reminder",
    "organiser_message",
)
AFTER = (*BEFORE, "manage_link")


def _allow(kinds):
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_messagekind"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_messagekind"), sa.column("kind").in_(kinds)
        )


def upgrade():
    _allow(AFTER)


def downgrade():
    op.execute(sa.text("DELETE FROM outbox_message WHERE kind = 'manage_link'"))
    _allow(BEFORE)
