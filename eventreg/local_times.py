"""Local wall-clock times made aware in an event's zone, refusing the ones a clock change skips
or repeats: 02:30 on the last Sunday of March does not exist in Rome, and on the last Sunday of
October it happens twice. Python would quietly pick a moment for either."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _


class LocalTimeError(ValueError):
    """The local time does not exist, or exists twice, in the zone; the message says which."""


def aware(naive: datetime, zone: ZoneInfo) -> datetime:
    """The one moment a local time names in ``zone``."""
    moment = naive.replace(tzinfo=zone)
    shown = {"time": naive.strftime("%Y-%m-%d %H:%M"), "zone": zone.key}
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise LocalTimeError(
            _(
                "%(time)s does not exist in %(zone)s: the clocks go forward that night. "
                "Choose another time.",
                **shown,
            )
        )
    if moment.utcoffset() != moment.replace(fold=1).utcoffset():
        raise LocalTimeError(
            _(
                "%(time)s happens twice in %(zone)s: the clocks go back that night. "
                "Choose another time.",
                **shown,
            )
        )
    return moment


def last_date(starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> date:
    """The last local date a span from ``starts_at`` to ``ends_at`` runs on. Its end is the
    first moment it no longer runs, so an evening ending at midnight ends on its own day."""
    return max(
        starts_at.astimezone(zone).date(),
        (ends_at - timedelta(microseconds=1)).astimezone(zone).date(),
    )
