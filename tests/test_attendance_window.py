"""Attendance counts only when the event happens: join links in their window, the door's day."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import AgendaDay, AuditEntry, Registration, utcnow
from eventreg.services import accounts
from eventreg.services.join_links import join_url
from tests.support.factories import PASSWORD

MEETING = "https://meet.example.org/room"


@pytest.fixture
def webinar(make_event):
    """An online event at a given start (default: four months away), lasting 90 minutes."""

    def _make(starts_in: timedelta = timedelta(days=120)):
        start = utcnow() + starts_in
        return make_event(
            mode="online",
            city=None,
            venue=None,
            online_url=MEETING,
            timezone="Europe/Lisbon",
            starts_at=start,
            ends_at=start + timedelta(minutes=90),
            registration_opens_at=start - timedelta(days=200),
            registration_closes_at=start - timedelta(seconds=1),
        )

    return _make


def link_of(app, registration) -> str:
    with app.test_request_context():
        return join_url(registration).replace("http://eventreg.test", "")


def joined_at(registration):
    db.session.rollback()
    return db.session.get(Registration, registration.id, populate_existing=True).joined_online_at


def test_link_opened_months_before_shows_the_time_and_records_nothing(
    app, client, webinar, sign_up
):
    event = webinar()
    registration = sign_up(event, language="pt").registrations[0]

    response = client.get(link_of(app, registration), headers={"Accept-Language": "en"})

    assert response.status_code == 200
    page = response.text
    assert '<html lang="pt"' in page  # the registrant's language, not the browser's
    opens = event.starts_at - timedelta(minutes=30)
    assert format_datetime(opens, "medium", tzinfo="Europe/Lisbon", locale="pt") in page
    assert "Europe/Lisbon" not in page  # the zone is named in Portuguese, not by its IANA id
    assert f"/events/{event.slug}.ics" in page and "calendar.google.com" in page
    assert MEETING not in page
    assert joined_at(registration) is None


def test_link_leads_in_and_counts_from_thirty_minutes_before_the_start(
    app, client, webinar, sign_up
):
    registration = sign_up(webinar(timedelta(minutes=25))).registrations[0]
    response = client.get(link_of(app, registration))
    assert response.status_code == 302 and response.headers["Location"] == MEETING
    assert joined_at(registration) is not None


def test_the_window_follows_join_opens_minutes(make_app, webinar, sign_up):
    app = make_app(JOIN_OPENS_MINUTES=10)
    with app.app_context():
        registration = sign_up(webinar(timedelta(minutes=25))).registrations[0]
        response = app.test_client().get(link_of(app, registration))
        assert response.status_code == 200 and MEETING not in response.text
        assert joined_at(registration) is None


def test_link_after_the_end_says_the_event_is_over(app, client, webinar, sign_up):
    event = webinar(timedelta(days=1))
    registration = sign_up(event, language="it").registrations[0]
    for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        setattr(event, name, getattr(event, name) - timedelta(days=2))  # it took place yesterday
    db.session.commit()
    response = client.get(link_of(app, registration))
    assert response.status_code == 200
    assert '<html lang="it"' in response.text and MEETING not in response.text
    assert joined_at(registration) is None


# At the door


@pytest.fixture
def staff(make_user):
    user = make_user("checkin")
    return user


def mission(make_event, first_day: datetime, days: int = 3):
    return make_event(
        starts_at=first_day,
        ends_at=first_day + timedelta(days=days - 1, hours=8),
        registration_opens_at=utcnow() - timedelta(days=1),
        registration_closes_at=utcnow() + timedelta(minutes=1),
    )


def check_ins() -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "checked_in")
    )


def api_scan(client, staff, event, registration, **extra):
    token = accounts.issue_api_token(staff)
    return client.post(
        "/api/v1/checkin",
        json={"secret": registration.ticket_secret, "event": event.slug} | extra,
        headers={"Authorization": f"Bearer {token}"},
    )


def test_scan_months_before_the_mission_is_not_today_and_checks_nobody_in(
    client, make_event, staff, sign_up
):
    event = mission(make_event, utcnow() + timedelta(days=120))
    accounts.assign_checkin_events(staff, [event])
    registration = sign_up(event).registrations[0]

    body = api_scan(client, staff, event, registration).get_json()

    assert body["result"] == "not_today"
    assert body["checked_in_at"] is None
    db.session.rollback()
    assert db.session.get(Registration, registration.id).checked_in_at is None
    assert check_ins() == 0


def test_staff_can_confirm_a_check_in_on_another_day(client, make_event, staff, sign_up):
    event = mission(make_event, utcnow() + timedelta(days=120))
    accounts.assign_checkin_events(staff, [event])
    registration = sign_up(event).registrations[0]

    body = api_scan(client, staff, event, registration, any_day=True).get_json()

    assert body["result"] == "ok" and body["checked_in_at"] is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "checked_in"))
    assert entry.details["confirmed_off_day"] is True


def test_every_day_of_a_multi_day_mission_admits(client, make_event, staff, sign_up):
    started_yesterday = mission(make_event, utcnow() - timedelta(days=1), days=3)
    accounts.assign_checkin_events(staff, [started_yesterday])
    registration = sign_up(started_yesterday).registrations[0]
    assert api_scan(client, staff, started_yesterday, registration).get_json()["result"] == "ok"


def test_the_day_is_the_events_local_day(make_event):
    """A scan at 23:30 UTC is already the next day in Tokyo."""
    event = make_event(
        timezone="Asia/Tokyo",
        starts_at=datetime(2031, 5, 20, 0, 0, tzinfo=UTC),  # 09:00 on 20 May in Tokyo
        ends_at=datetime(2031, 5, 20, 8, 0, tzinfo=UTC),
        registration_opens_at=datetime(2031, 1, 1, tzinfo=UTC),
        registration_closes_at=datetime(2031, 5, 1, tzinfo=UTC),
    )
    assert event.runs_on(datetime(2031, 5, 19, 23, 30, tzinfo=UTC))
    assert not event.runs_on(datetime(2031, 5, 19, 14, 0, tzinfo=UTC))  # 23:00 on the 19th
    assert not event.runs_on(datetime(2031, 5, 20, 15, 30, tzinfo=UTC))  # 00:30 on the 21st


def test_door_page_gets_the_amber_sentence_naming_the_days(
    client, auth, make_event, staff, sign_up
):
    first_day = datetime(2031, 3, 24, 8, 0, tzinfo=UTC)
    event = mission(make_event, first_day, days=3)
    accounts.assign_checkin_events(staff, [event])
    registration = sign_up(event, first_name="Ana", last_name="Silva").registrations[0]
    auth.login(staff.email, PASSWORD)

    body = client.post(
        f"/checkin/{event.slug}/scan", json={"secret": registration.ticket_secret}
    ).get_json()

    assert body["result"] == "not_today" and body["name"] == "Ana Silva"
    days = "24 Mar 2031, 25 Mar 2031, 26 Mar 2031"  # as read across Europe, not "Mar 24, 2031"
    assert body["message"] == f"Not today: this event runs on {days}"
    assert (body["tone"], body["admitted"], body["can_confirm"]) == ("amber", False, True)
    confirmed = client.post(
        f"/checkin/{event.slug}/registrations/{registration.reference}/checkin",
        json={"any_day": True},
    ).get_json()
    assert confirmed["result"] == "ok"
    assert (confirmed["tone"], confirmed["admitted"], confirmed["can_confirm"]) == (
        "ok",
        True,
        False,
    )


def test_a_free_day_inside_a_multi_day_agenda_is_not_a_day_of_the_event(make_event):
    """Days on Monday and Wednesday: a scan on the Tuesday in between is "not today"."""
    rome = ZoneInfo("Europe/Rome")
    monday = datetime(2031, 3, 24, 9, tzinfo=rome)
    wednesday = datetime(2031, 3, 26, 9, tzinfo=rome)
    event = make_event(
        starts_at=monday,
        ends_at=wednesday + timedelta(hours=4),
        agenda=[
            AgendaDay(monday, monday + timedelta(hours=8), None),
            AgendaDay(wednesday, wednesday + timedelta(hours=4), None),
        ],
        registration_opens_at=datetime(2031, 1, 1, tzinfo=UTC),
        registration_closes_at=datetime(2031, 3, 20, tzinfo=UTC),
    )
    assert event.local_dates == [monday.date(), wednesday.date()]
    assert event.runs_on(monday + timedelta(hours=2))
    assert not event.runs_on(monday + timedelta(days=1))
    assert event.runs_on(wednesday)
