"""An event called off: pages say so, calendars remove it, the API tells clients."""

import pytest
from icalendar import Calendar

from eventreg.services import events


@pytest.fixture
def called_off(make_event, make_user, sign_up):
    """A published event with a registrant, then called off by an organiser."""
    event = make_event(title="Study mission to Odense", capacity=5)
    sign_up(event)
    events.cancel_event(event, actor=make_user("organiser"))
    return event


def test_event_page_says_called_off_with_no_form_and_no_calendar_links(client, called_off):
    page = client.get(f"/events/{called_off.slug}").text
    assert "Called off" in page and "will not take place" in page
    assert "seats left" not in page
    assert "calendar.google.com" not in page and "outlook.live.com" not in page
    assert f"/events/{called_off.slug}.ics" not in page
    assert "/register" not in page.split("<main", 1)[1]


def test_programme_card_says_called_off_and_shows_no_seats(client, called_off, make_event):
    running = make_event(title="Webinar on social clauses")
    page = client.get("/").text
    card = page.split(f'href="/events/{called_off.slug}"', 1)[1].split("</li>", 1)[0]
    assert "Called off" in card and "seats left" not in card
    other = page.split(f'href="/events/{running.slug}"', 1)[1].split("</li>", 1)[0]
    assert "Called off" not in other and "seats left" in other


def test_feed_and_event_file_carry_cancelled_under_the_same_uid(client, make_event, make_user):
    event = make_event()
    before = Calendar.from_ical(client.get("/calendar.ics").data).walk("VEVENT")
    assert [str(e["STATUS"]) for e in before] == ["CONFIRMED"]

    events.cancel_event(event, actor=make_user("organiser"))

    (entry,) = Calendar.from_ical(client.get("/calendar.ics").data).walk("VEVENT")
    assert str(entry["UID"]) == str(before[0]["UID"]) == f"event-{event.slug}@eventreg"
    assert str(entry["STATUS"]) == "CANCELLED"
    (single,) = Calendar.from_ical(client.get(f"/events/{event.slug}.ics").data).walk("VEVENT")
    assert str(single["UID"]) == str(entry["UID"]) and str(single["STATUS"]) == "CANCELLED"


def test_api_event_has_a_status(client, called_off, make_event):
    running = make_event()
    listed = {e["slug"]: e["status"] for e in client.get("/api/v1/events").get_json()["events"]}
    assert listed == {called_off.slug: "cancelled", running.slug: "published"}
    assert client.get(f"/api/v1/events/{called_off.slug}").get_json()["status"] == "cancelled"
