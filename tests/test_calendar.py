"""Calendar files and links: invitations that update and cancel cleanly, in the event's zone."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from eventreg.models import EventKind, EventMode
from eventreg.services import calendar

MEETING_URL = "https://meet.example.org/room-7f3a"
JOIN_URL = "https://eventreg.test/j/join-token"
MANAGE_URL = "https://eventreg.test/manage/manage-token"
ZONES = ["Europe/Rome", "Europe/Lisbon", "Europe/Copenhagen"]
# Each pair of days straddles a daylight-saving change in all three zones.
ACROSS_DST = {
    "spring forward": (datetime(2027, 3, 27, 9, 30), datetime(2027, 3, 29, 17, 0)),
    "fall back": (datetime(2027, 10, 30, 9, 30), datetime(2027, 11, 1, 17, 0)),
}


@pytest.fixture
def request_context(app):
    """Public calendar files are served to visitors: build them as in a request."""
    with app.test_request_context():
        yield


@pytest.fixture
def webinar(make_event):
    def _make(**overrides):
        values = {
            "title": "Webinar: buying social services",
            "kind": EventKind.WEBINAR,
            "mode": EventMode.ONLINE,
            "city": None,
            "venue": None,
            "online_url": MEETING_URL,
        }
        return make_event(**values | overrides)

    return _make


def registration_of(registrant):
    return registrant.registrations[0]


def parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def only_event(data: bytes):
    (event,) = parse(data).events
    return event


def test_invitation_books_the_place_in_the_event_zone(app, make_event, sign_up):
    rome = ZoneInfo("Europe/Rome")
    event = make_event(
        starts_at=datetime(2027, 5, 10, 9, 30, tzinfo=rome),
        ends_at=datetime(2027, 5, 11, 13, tzinfo=rome),
    )
    registration = registration_of(sign_up(event, email="giulia@example.org"))

    ics = parse(calendar.invitation(registration, manage_url=MANAGE_URL))

    assert ics["METHOD"] == "REQUEST"
    assert ics["VERSION"] == "2.0"
    assert ics["CALSCALE"] == "GREGORIAN"
    assert ics["PRODID"] == calendar.PRODID
    assert [tz.tz_name for tz in ics.timezones] == ["Europe/Rome"]
    (vevent,) = ics.events
    assert vevent["SUMMARY"] == event.title
    assert vevent["STATUS"] == "CONFIRMED"
    assert vevent["SEQUENCE"] == 0
    assert vevent.start == event.starts_at
    assert vevent.end == event.ends_at
    assert vevent["DTSTART"].params["TZID"] == "Europe/Rome"
    assert vevent["DTEND"].params["TZID"] == "Europe/Rome"
    assert vevent["DTSTAMP"].dt.tzinfo is not None
    assert vevent["LOCATION"] == "Palazzo Frizzoni, Bergamo"
    assert vevent["URL"] == MANAGE_URL
    assert event.description in vevent["DESCRIPTION"]
    assert MANAGE_URL in vevent["DESCRIPTION"]


def test_invitation_names_organiser_and_attendee(app, make_event, sign_up):
    app.config["MAIL_DEFAULT_SENDER"] = "Équipe du programme <team@example.org>"
    registration = registration_of(sign_up(make_event(), email="giulia@example.org"))

    vevent = only_event(calendar.invitation(registration))

    assert vevent["ORGANIZER"] == "mailto:team@example.org"
    assert vevent["ORGANIZER"].params["CN"] == "Équipe du programme"
    (attendee,) = vevent.attendees
    assert attendee == "mailto:giulia@example.org"
    assert attendee.params["CN"] == registration.registrant.full_name
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendee.params["PARTSTAT"] == "ACCEPTED"


def test_invitation_reminds_an_hour_before(app, make_event, sign_up):
    registration = registration_of(sign_up(make_event()))

    (alarm,) = only_event(calendar.invitation(registration)).walk("VALARM")

    assert alarm["ACTION"] == "DISPLAY"
    assert alarm["TRIGGER"].dt == timedelta(hours=-1)
    assert alarm["DESCRIPTION"]


def test_cancel_replaces_the_invitation_in_the_attendees_calendar(app, make_event, sign_up):
    event = make_event()
    registration = registration_of(sign_up(event))

    request = only_event(calendar.invitation(registration))
    cancel_ics = parse(calendar.invitation(registration, method="CANCEL", sequence=1))
    (cancel,) = cancel_ics.events

    assert cancel_ics["METHOD"] == "CANCEL"
    assert cancel["UID"] == request["UID"]
    assert cancel["SEQUENCE"] == 1
    assert cancel["STATUS"] == "CANCELLED"
    assert not cancel.walk("VALARM")
    assert cancel.attendees == request.attendees


def test_each_registration_has_its_own_uid_without_the_ticket_secret(app, make_event, sign_up):
    event = make_event()
    first, second = registration_of(sign_up(event)), registration_of(sign_up(event))

    uid = only_event(calendar.invitation(first))["UID"]

    assert uid == f"registration-{first.reference.lower()}@eventreg"
    assert uid != only_event(calendar.invitation(second))["UID"]
    assert first.ticket_secret not in calendar.invitation(first).decode()


def test_an_updated_invitation_carries_its_sequence(app, make_event, sign_up):
    registration = registration_of(sign_up(make_event()))

    vevent = only_event(calendar.invitation(registration, sequence=3))

    assert vevent["SEQUENCE"] == 3


def test_only_request_and_cancel_are_invitations(app, make_event, sign_up):
    registration = registration_of(sign_up(make_event()))

    with pytest.raises(ValueError, match="PUBLISH"):
        calendar.invitation(registration, method="PUBLISH")


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("change", ACROSS_DST)
def test_wall_clock_times_survive_a_daylight_saving_change(app, make_event, sign_up, zone, change):
    local_start, local_end = ACROSS_DST[change]
    event = make_event(
        timezone=zone,
        starts_at=local_start.replace(tzinfo=ZoneInfo(zone)),
        ends_at=local_end.replace(tzinfo=ZoneInfo(zone)),
    )
    registration = registration_of(sign_up(event))

    ics = parse(calendar.invitation(registration))
    (vevent,) = ics.events
    (vtimezone,) = ics.timezones

    assert vevent["DTSTART"].params["TZID"] == zone
    assert vevent.start.replace(tzinfo=None) == local_start
    assert vevent.end.replace(tzinfo=None) == local_end
    assert (vevent.start, vevent.end) == (event.starts_at, event.ends_at)
    # A client that knows only the file's own VTIMEZONE lands on the same instants.
    own_zone = vtimezone.to_tz(lookup_tzid=False)
    assert local_start.replace(tzinfo=own_zone) == event.starts_at
    assert local_end.replace(tzinfo=own_zone) == event.ends_at


@pytest.mark.parametrize(
    ("first_name", "last_name"),
    [("Иван", "Петров"), ("Søren", "Æbelø"), ("João", "Conceição")],
)
def test_names_in_any_alphabet_survive(app, make_event, sign_up, first_name, last_name):
    registrant = sign_up(make_event(), first_name=first_name, last_name=last_name)

    (attendee,) = only_event(calendar.invitation(registration_of(registrant))).attendees

    assert attendee.params["CN"] == f"{first_name} {last_name}"


def test_online_invitation_gives_the_personal_join_link(app, webinar, sign_up):
    registration = registration_of(sign_up(webinar()))

    data = calendar.invitation(registration, join_url=JOIN_URL, manage_url=MANAGE_URL)
    vevent = only_event(data)

    assert vevent["LOCATION"] == JOIN_URL
    assert JOIN_URL in vevent["DESCRIPTION"]
    assert MANAGE_URL in vevent["DESCRIPTION"]
    assert MEETING_URL not in data.decode()


def test_online_invitation_without_a_join_link_says_online(app, webinar, sign_up):
    registration = registration_of(sign_up(webinar()))

    assert only_event(calendar.invitation(registration))["LOCATION"] == "Online"


def test_in_person_invitation_ignores_a_join_link(app, make_event, sign_up):
    registration = registration_of(sign_up(make_event()))

    vevent = only_event(calendar.invitation(registration, join_url=JOIN_URL))

    assert vevent["LOCATION"] == "Palazzo Frizzoni, Bergamo"
    assert JOIN_URL not in vevent["DESCRIPTION"]


def test_public_event_file_has_no_attendee_and_no_meeting_link(app, request_context, webinar):
    event = webinar(slug="webinar-procurement")
    page = "https://eventreg.test/events/webinar-procurement"

    data = calendar.event_calendar(event, url=page)
    ics = parse(data)
    (vevent,) = ics.events

    assert ics["METHOD"] == "PUBLISH"
    assert vevent["UID"] == "event-webinar-procurement@eventreg"
    assert vevent["URL"] == page
    assert vevent["LOCATION"] == "Online"
    assert "ATTENDEE" not in vevent
    assert MEETING_URL not in data.decode()
    assert [tz.tz_name for tz in ics.timezones] == ["Europe/Rome"]


def test_programme_feed_lists_every_event_with_its_zone(app, request_context, make_event, webinar):
    events = [
        make_event(timezone="Europe/Rome"),
        make_event(timezone="Europe/Lisbon", city="Lisboa", venue="Casa do Impacto"),
        webinar(timezone="Europe/Copenhagen"),
    ]

    data = calendar.programme_feed(events)
    ics = parse(data)

    assert ics["METHOD"] == "PUBLISH"
    assert ics["X-WR-CALNAME"] == app.config["SITE_NAME"]
    assert {vevent["UID"] for vevent in ics.events} == {f"event-{e.slug}@eventreg" for e in events}
    assert {tz.tz_name for tz in ics.timezones} == set(ZONES)
    assert not ics.get_missing_tzids()
    assert MEETING_URL not in data.decode()


def test_empty_programme_feed_is_still_a_calendar(app, request_context):
    ics = parse(calendar.programme_feed([]))

    assert ics["METHOD"] == "PUBLISH"
    assert not ics.events


def query_of(link: str) -> dict[str, str]:
    return {key: value for key, (value,) in parse_qs(urlsplit(link).query).items()}


def test_google_calendar_link(app, request_context, make_event):
    event = make_event(
        title="Procurement & care: what works?",
        description="Søren Æbelø, Иван Петров",
        timezone="Europe/Copenhagen",
        starts_at=datetime(2027, 3, 27, 9, 30, tzinfo=ZoneInfo("Europe/Copenhagen")),
        ends_at=datetime(2027, 3, 29, 17, tzinfo=ZoneInfo("Europe/Copenhagen")),
    )

    link = calendar.google_calendar_link(event)
    query = query_of(link)

    assert link.startswith("https://calendar.google.com/calendar/render?")
    assert " " not in link
    assert query == {
        "action": "TEMPLATE",
        "text": "Procurement & care: what works?",
        "dates": "20270327T083000Z/20270329T150000Z",
        "details": "Søren Æbelø, Иван Петров",
        "location": "Palazzo Frizzoni, Bergamo",
        "ctz": "Europe/Copenhagen",
    }


def test_outlook_calendar_link(app, request_context, make_event):
    event = make_event(
        title="Procurement & care: what works?",
        starts_at=datetime(2027, 10, 30, 9, tzinfo=UTC),
        ends_at=datetime(2027, 11, 1, 16, tzinfo=UTC),
    )

    link = calendar.outlook_calendar_link(event)
    query = query_of(link)

    assert link.startswith("https://outlook.live.com/calendar/0/action/compose?")
    assert " " not in link
    assert query["subject"] == "Procurement & care: what works?"
    assert query["startdt"] == "2027-10-30T09:00:00Z"
    assert query["enddt"] == "2027-11-01T16:00:00Z"
    assert query["body"] == event.description
    assert query["location"] == "Palazzo Frizzoni, Bergamo"


@pytest.mark.parametrize("link", [calendar.google_calendar_link, calendar.outlook_calendar_link])
def test_add_to_calendar_links_never_give_the_meeting_link(app, request_context, webinar, link):
    event = webinar()

    assert query_of(link(event))["location"] == "Online"
    assert "meet.example.org" not in link(event)


def test_calendar_texts_say_which_language_they_are_in(app, make_event):
    event = make_event(
        title="Study mission", description="Visits", translations={"sv": {"title": "Studieresa"}}
    )
    with app.test_request_context(headers={"Accept-Language": "sv"}):
        vevent = only_event(calendar.event_calendar(event))
    assert vevent["SUMMARY"] == "Studieresa"
    assert vevent["SUMMARY"].params["LANGUAGE"] == "sv"
    assert vevent["DESCRIPTION"] == "Visits"  # not translated: said to be English
    assert vevent["DESCRIPTION"].params["LANGUAGE"] == "en"


@pytest.mark.parametrize(
    ("month", "name"), [(7, "Irish Standard Time"), (1, "Greenwich Mean Time")]
)
def test_an_event_in_dublin_names_its_zone_for_the_season(client, make_event, month, name):
    """Ireland's rules make winter the "daylight saving" (a negative one): a July webinar in
    Dublin read "Greenwich Mean Time", an hour off for anyone converting from it."""
    dublin = ZoneInfo("Europe/Dublin")
    starts = datetime(2031, month, 15, 10, tzinfo=dublin)
    event = make_event(
        timezone="Europe/Dublin", starts_at=starts, ends_at=starts + timedelta(hours=2)
    )
    page = client.get(f"/events/{event.slug}").text
    assert f"10:00 – 12:00 ({name})" in page
