"""outbox messages telling a member their proposed practice was published or not

Revision ID: 0019_practices_review
Revises: 0018_network_search
Create Date: 2026-11-30 20:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019_practices_review"
down_revision = "0018_network_search"
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
    "password_reset",
    "manage_link",
    "materials_available",
    "feedback_request",
    "certificate",
    "network_confirm",
    "network_sign_in",
    "network_contact",
    "network_announcement",
)
AFTER = (*BEFORE, "network_practice_published", "network_practice_rejected")


def _allow(kinds):
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_messagekind"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_message_messagekind"), sa.column("kind").in_(kinds)
        )


def upgrade():
    _allow(AFTER)


def downgrade():
    op.execute(
        sa.text(
            "DELETE FROM outbox_message"
            " WHERE kind IN ('network_practice_published', 'network_practice_rejected')"
        )
    )
    _allow(BEFORE)
