"""A three-day mission in Rome's zone, in March 2031: its days as the organisers' form shows
them (the second starts at 08:30, the third has no title)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from eventreg.models import AgendaDay

ROME = ZoneInfo("Europe/Rome")
DAYS = [
    AgendaDay(
        datetime(2031, 3, 24, 9, tzinfo=ROME), datetime(2031, 3, 24, 18, tzinfo=ROME), "Co-design"
    ),
    AgendaDay(
        datetime(2031, 3, 25, 8, 30, tzinfo=ROME),
        datetime(2031, 3, 25, 17, 30, tzinfo=ROME),
        "Site visits",
    ),
    AgendaDay(datetime(2031, 3, 26, 9, tzinfo=ROME), datetime(2031, 3, 26, 13, tzinfo=ROME), None),
]


def three_day_mission(make_event, **overrides):
    """The mission on those days, open for sign-ups until shortly before (whole minutes, as the
    form writes them)."""
    return make_event(
        **{
            "slug": "mission-three-days",
            "starts_at": DAYS[0].starts_at,
            "ends_at": DAYS[-1].ends_at,
            "agenda": DAYS,
            "capacity": None,
            "registration_opens_at": datetime(2026, 1, 5, 9, tzinfo=ROME),
            "registration_closes_at": datetime(2031, 3, 20, 18, tzinfo=ROME),
        }
        | overrides
    )
