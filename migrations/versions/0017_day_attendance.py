"""attendance per day at multi-day events: one check-in per registration and day; each
check-in already recorded counts for the day it fell on in the event's zone

Revision ID: 0017_day_attendance
Revises: 0021_after_event
Create Date: 2026-11-30 20:05:00.000000

"""

from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017_day_attendance"
down_revision = "0021_after_event"
branch_labels = None
depends_on = None

_event = sa.table("event", sa.column("id", sa.Integer), sa.column("timezone", sa.String))
_event_day = sa.table("event_day", sa.column("id", sa.Integer), sa.column("event_id", sa.Integer))
_registration = sa.table(
    "registration",
    sa.column("id", sa.Integer),
    sa.column("event_id", sa.Integer),
    sa.column("checked_in_at", sa.DateTime),
    sa.column("checked_in_by_id", sa.Integer),
)
_day_check_in = sa.table(
    "day_check_in",
    sa.column("registration_id", sa.Integer),
    sa.column("day", sa.Date),
    sa.column("checked_in_at", sa.DateTime),
    sa.column("checked_in_by_id", sa.Integer),
)


def upgrade():
    op.create_table(
        "day_check_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(), nullable=False),
        sa.Column("checked_in_by_id", sa.Integer(), nullable=True),
        sa.Column("how", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["checked_in_by_id"], ["user.id"], name=op.f("fk_day_check_in_checked_in_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
            name=op.f("fk_day_check_in_registration_id_registration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_day_check_in")),
        sa.UniqueConstraint("registration_id", "day", name=op.f("uq_day_check_in_registration_id")),
    )
    _copy_check_ins()


def _copy_check_ins():
    """Each check-in at an event of several agenda days becomes that day's check-in."""
    bind = op.get_bind()
    multi_day = (
        sa.select(_event_day.c.event_id).group_by(_event_day.c.event_id).having(sa.func.count() > 1)
    )
    rows = bind.execute(
        sa.select(
            _registration.c.id,
            _registration.c.checked_in_at,
            _registration.c.checked_in_by_id,
            _event.c.timezone,
        )
        .join(_event, _event.c.id == _registration.c.event_id)
        .where(_registration.c.checked_in_at.is_not(None))
        .where(_registration.c.event_id.in_(multi_day))
    ).all()
    if rows:
        bind.execute(
            sa.insert(_day_check_in),
            [
                {
                    "registration_id": id_,
                    "day": at.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date(),
                    "checked_in_at": at,
                    "checked_in_by_id": by,
                }
                for id_, at, by, zone in rows
            ],
        )


def downgrade():
    op.drop_table("day_check_in")
