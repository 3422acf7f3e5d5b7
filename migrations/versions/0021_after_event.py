"""why a registration was cancelled (withdrawn, moved, erased, event called off), so that
exports and statistics tell a move or an erasure from a real cancellation; filled in for the
registrations cancelled so far from their history

Revision ID: 0021_after_event
Revises: 0019_practices_review
Create Date: 2026-11-30 20:00:00.000000

"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021_after_event"
down_revision = "0019_practices_review"
branch_labels = None
depends_on = None

# An erasure records "cancelled" then "erased" in one transaction: moments apart, never more.
_SAME_ERASURE = timedelta(minutes=1)


def upgrade():
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cancel_reason",
                sa.Enum(
                    "withdrawn",
                    "moved",
                    "erased",
                    "event_cancelled",
                    name="cancelreason",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=True,
            )
        )
    _fill_in_from_history()


def downgrade():
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_registration_cancelreason"), type_="check")
        batch_op.drop_column("cancel_reason")


def _fill_in_from_history():
    """Each cancelled registration's reason from its last "cancelled" entry in the audit log
    (its details name a move or an event called off); an "erased" entry right after it makes
    it an erasure. Without an entry the reason stays unknown (NULL)."""
    registration = sa.table(
        "registration",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("cancel_reason", sa.String),
    )
    audit = sa.table(
        "audit_entry",
        sa.column("id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("registration_id", sa.Integer),
        sa.column("details", sa.JSON),
        sa.column("created_at", sa.DateTime),
    )
    bind = op.get_bind()
    entries = bind.execute(
        sa.select(audit.c.registration_id, audit.c.action, audit.c.details, audit.c.created_at)
        .join(registration, registration.c.id == audit.c.registration_id)
        .where(registration.c.status == "cancelled")
        .where(audit.c.action.in_(("cancelled", "erased")))
        .order_by(audit.c.id)
    )
    reasons, cancelled_at = {}, {}
    for registration_id, action, details, created_at in entries:
        if action == "cancelled":
            details = details or {}
            if details.get("moved_to"):
                reasons[registration_id] = "moved"
            elif details.get("event_cancelled"):
                reasons[registration_id] = "event_cancelled"
            else:
                reasons[registration_id] = "withdrawn"
            cancelled_at[registration_id] = created_at
        elif (
            reasons.get(registration_id) == "withdrawn"
            and created_at - cancelled_at[registration_id] <= _SAME_ERASURE
        ):
            reasons[registration_id] = "erased"
    for reason in ("withdrawn", "moved", "erased", "event_cancelled"):
        ids = [registration_id for registration_id, r in reasons.items() if r == reason]
        for start in range(0, len(ids), 500):
            bind.execute(
                registration.update()
                .where(registration.c.id.in_(ids[start : start + 500]))
                .values(cancel_reason=reason)
            )
