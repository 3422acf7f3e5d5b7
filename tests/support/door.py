"""Door phones in tests: several devices scanning one ticket at the same moment; a mission
running on days around today, kept by the door's staff."""

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from eventreg.models import AgendaDay, utcnow
from eventreg.services import accounts

ROME = ZoneInfo("Europe/Rome")


def days_around_today(offsets, zone=ROME) -> list[AgendaDay]:
    """Days from 09:00 to 18:00 in ``zone``, ``offsets`` days from today there."""
    today = utcnow().astimezone(zone).date()
    return [
        AgendaDay(
            datetime.combine(today + timedelta(days=n), time(9), tzinfo=zone),
            datetime.combine(today + timedelta(days=n), time(18), tzinfo=zone),
        )
        for n in offsets
    ]


def door_mission(make_event, staff, days: list[AgendaDay]):
    """A mission on these days, still open for sign-ups, whose door ``staff`` keep."""
    now = utcnow()
    event = make_event(
        starts_at=days[0].starts_at,
        ends_at=days[-1].ends_at,
        agenda=days,
        registration_opens_at=now - timedelta(days=10),
        registration_closes_at=now + timedelta(hours=1),
    )
    accounts.assign_checkin_events(staff, [event])
    return event


def scan_from_devices(app, body: dict, headers: dict, devices: int = 10) -> list[str]:
    """Each device posts the same scan to the API at once; the results, in arrival order."""
    start = threading.Barrier(devices)
    results = []

    def device():
        client = app.test_client()
        start.wait()
        response = client.post("/api/v1/checkin", json=body, headers=headers)
        results.append(response.get_json()["result"])

    threads = [threading.Thread(target=device) for _ in range(devices)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
