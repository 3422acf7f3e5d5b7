"""Local wall-clock times made aware in an event's zone, refusing the ones a clock change skips
or repeats: 02:30 on the last Sunday of March does not exist in Rome, and on the last Sunday of
October it happens twice. Python would quietly pick a moment for either."""

from datetime import UTC, datetime
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
