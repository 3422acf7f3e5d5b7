"""outbox messages to staff accounts (password reset links); registration_id is already
optional since 0011_network_members

Revision ID: 0013_season_b_staff_mail
Revises: 0012_season_b_event_days
Create Date: 2026-11-30 05:17:22.293146

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013_season_b_staff_mail"
down_revision = "0012_season_b_event_days"
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
    "manage_link",
    "materials_available",
    "feedback_request",
    "certificate",
    "network_confirm",
    "network_sign_in",
    "network_contact",
    "network_announcement",
)
AFTER = (*BEFORE, "password_reset")


def _allow(batch_op, kinds):
    batch_op.drop_constraint(op.f("ck_outbox_message_messagekind"), type_="check")
    batch_op.create_check_constraint(
        op.f("ck_outbox_message_messagekind"), sa.column("kind").in_(kinds)
    )


def upgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_message_user_id"), ["user_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_message_user_id_user"), "user", ["user_id"], ["id"]
        )
        _allow(batch_op, AFTER)


def downgrade():
    op.execute(sa.text("DELETE FROM outbox_message WHERE kind = 'password_reset'"))
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        _allow(batch_op, BEFORE)
        batch_op.drop_constraint(batch_op.f("fk_outbox_message_user_id_user"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbox_message_user_id"))
        batch_op.drop_column("user_id")
