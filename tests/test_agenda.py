"""Multi-day missions: a per-day agenda from the programme file and the organiser form, shown on
pages, in e-mails, in calendars (read back by two parsers) and on the sign-in sheet."""

import re
import subprocess
import urllib.request
from datetime import UTC, date, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.formatting import event_when
from eventreg.models import AgendaDay, AuditEntry, Event, MessageKind, OutboxMessage
from eventreg.services import accounts, calendar, events, notifications, tickets
from eventreg.services.agenda import agenda_text
from eventreg.services.manage_links import manage_token
from eventreg.services.programme import (
    SHIPPED_PROGRAMME,
    ProgrammeError,
    apply_update,
    load_programme,
    plan_update,
    read_programme,
)
from tests.support.admin_forms import edit_form, event_form
from tests.support.missions import DAYS, ROME, three_day_mission


@pytest.fixture
def organiser(auth, make_user):
    user = make_user("organiser")
    auth.login(user.email)
    return user


@pytest.fixture
def mission(make_event):
    """A three-day mission in Rome's zone, each day with its own hours."""
    return three_day_mission(make_event)


def test_the_shipped_missions_have_their_three_days(app):
    load_programme()
    bergamo = db.session.scalar(select(Event).where(Event.slug == "mission-bergamo"))
    assert [
        (day.local_date, day.local_starts_at.hour, day.local_ends_at.hour) for day in bergamo.days
    ] == [
        (date(2027, 3, 24), 9, 18),
        (date(2027, 3, 25), 9, 17),
        (date(2027, 3, 26), 9, 13),
    ]
    assert bergamo.days[1].title == "Site visits to social cooperatives"
    webinar = db.session.scalar(select(Event).where(Event.slug == "webinar-eu-policy-trends"))
    assert webinar.days == [] and not webinar.is_multi_day


def _programme_with_days(tmp_path, days: str):
    text = SHIPPED_PROGRAMME.read_text(encoding="utf-8")
    start = text.index('slug = "mission-bergamo"')
    block_end = text.index("[[events]]", start)
    block = text[start:block_end]
    block = block[: block.index("\n[[events.days]]")] + "\n" + days + "\n"
    path = tmp_path / "programme.toml"
    path.write_text(text[:start] + block + text[block_end:], encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("[[events.days]]\ndate = 2027-03-27\nstart = 09:00:00\nend = 12:00:00", "within"),
        ("[[events.days]]\ndate = 2027-03-24\nstart = 12:00:00\nend = 09:00:00", "end after"),
        ("[[events.days]]\ndate = 2027-03-24\nstart = 08:00:00\nend = 12:00:00", "between"),
        ("[[events.days]]\ndate = 2027-03-26\nstart = 09:00:00\nend = 14:00:00", "between"),
        ("[[events.days]]\ndate = 2027-03-24T09:00:00\nstart = 09:00:00\nend = 12:00:00", "date"),
        ("[[events.days]]\ndate = 2027-03-24\nstart = 9\nend = 12:00:00", "times"),
        ("[[events.days]]\ndate = 2027-03-24\nstart = 09:00:00\nend = 12:00:00\nroom = 1", "room"),
        (
            "[[events.days]]\ndate = 2027-03-24\nstart = 09:00:00\nend = 12:00:00\n"
            "[[events.days]]\ndate = 2027-03-24\nstart = 11:00:00\nend = 13:00:00",
            "overlap",
        ),
    ],
)
def test_a_wrong_day_in_the_programme_file_is_refused_with_the_reason(app, tmp_path, days, message):
    path = _programme_with_days(tmp_path, days)
    with app.test_request_context(), pytest.raises(ProgrammeError, match=message) as error:
        read_programme(path)
    assert "mission-bergamo" in str(error.value)


def test_changing_a_day_in_the_file_moves_it_and_tells_the_registrants(app, tmp_path, sign_up):
    load_programme()
    bergamo = db.session.scalar(select(Event).where(Event.slug == "mission-bergamo"))
    sign_up(bergamo)
    day_ids = [day.id for day in bergamo.days]
    path = _programme_with_days(
        tmp_path,
        "[[events.days]]\ndate = 2027-03-24\nstart = 10:00:00\nend = 18:00:00\n"
        '[[events.days]]\ndate = 2027-03-26\nstart = 09:00:00\nend = 13:00:00\ntitle = "Workshop"',
    )
    plan = apply_update(path)
    assert [update.slug for update in plan.updates] == ["mission-bergamo"]
    db.session.expire_all()
    bergamo = db.session.get(Event, bergamo.id)
    assert [
        (day.local_starts_at.day, day.local_starts_at.hour, day.title) for day in bergamo.days
    ] == [
        (24, 10, None),
        (26, 9, "Workshop"),
    ]
    assert [day.id for day in bergamo.days] == day_ids[:2]  # rows reused, the third removed
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds == [MessageKind.CONFIRMATION, MessageKind.EVENT_CHANGED]
    assert plan_update(path).is_empty


def _invitation(mission, sign_up) -> bytes:
    registration = sign_up(mission, email="ana@example.org").registrations[0]
    return calendar.invitation(registration, manage_url="https://eventreg.test/manage/x")


def test_the_invitation_is_one_entry_with_a_vevent_per_day_icalendar(app, mission, sign_up):
    ics = Calendar.from_ical(_invitation(mission, sign_up))
    vevents = ics.walk("VEVENT")
    assert len(vevents) == 3
    assert len({str(vevent["UID"]) for vevent in vevents}) == 1
    assert [(vevent.start, vevent.end) for vevent in vevents] == [
        (day.starts_at, day.ends_at) for day in DAYS
    ]
    master, *instances = vevents
    assert "RECURRENCE-ID" not in master
    # A daily rule, not RDATEs alone: Outlook and Exchange refuse RDATE without an RRULE.
    assert "RDATE" not in master and "EXDATE" not in master
    assert master["RRULE"] == {"FREQ": ["DAILY"], "COUNT": [3]}
    # Each other day is the rule's occurrence on its date (at the first day's 09:00).
    assert [instance["RECURRENCE-ID"].dt for instance in instances] == [
        datetime(2031, 3, 25, 9, tzinfo=ROME),
        datetime(2031, 3, 26, 9, tzinfo=ROME),
    ]
    assert master["DTSTART"].params["TZID"] == "Europe/Rome"
    assert instances[0]["RECURRENCE-ID"].params["TZID"] == "Europe/Rome"
    assert str(instances[0]["SUMMARY"]).endswith(": Site visits")
    assert all(vevent.walk("VALARM") and "ATTENDEE" in vevent for vevent in vevents)


def days_a_calendar_shows(ics: bytes) -> list[tuple[datetime, datetime]]:
    """Expand the entry as a calendar does (vobject's rule set): each occurrence of the rule,
    with the hours of the instance that names it (RECURRENCE-ID), else the first day's."""
    parsed = vobject.readOne(ics.decode())
    (master,) = [v for v in parsed.vevent_list if not hasattr(v, "recurrence_id")]
    instances = {
        v.recurrence_id.value.astimezone(ROME): (v.dtstart.value, v.dtend.value)
        for v in parsed.vevent_list
        if hasattr(v, "recurrence_id")
    }
    length = master.dtend.value - master.dtstart.value
    shown = []
    for start in master.getrruleset(addRDate=True):
        start, end = instances.get(start.astimezone(ROME), (start, start + length))
        shown.append((start.astimezone(ROME), end.astimezone(ROME)))
    return shown


def test_the_invitation_expands_to_each_day_with_its_hours_in_vobject(app, mission, sign_up):
    shown = days_a_calendar_shows(_invitation(mission, sign_up))
    assert shown == [(day.starts_at, day.ends_at) for day in DAYS]


def test_a_free_day_between_the_days_is_left_out_of_the_calendar(app, make_event, sign_up):
    """Monday and Wednesday, the Tuesday free: the daily rule runs three dates, one excluded."""
    days = [DAYS[0], DAYS[2]]
    mission = make_event(starts_at=days[0].starts_at, ends_at=days[-1].ends_at, agenda=days)
    ics = _invitation(mission, sign_up)
    (master, _wednesday) = Calendar.from_ical(ics).walk("VEVENT")
    assert master["RRULE"] == {"FREQ": ["DAILY"], "COUNT": [3]}
    assert [moment.dt for moment in master["EXDATE"].dts] == [datetime(2031, 3, 25, 9, tzinfo=ROME)]
    assert days_a_calendar_shows(ics) == [(day.starts_at, day.ends_at) for day in days]


def test_cancelling_removes_every_day_under_the_same_uid(app, mission, sign_up):
    registration = sign_up(mission).registrations[0]
    request = Calendar.from_ical(calendar.invitation(registration))
    cancel = Calendar.from_ical(calendar.invitation(registration, method="CANCEL", sequence=1))
    assert cancel["METHOD"] == "CANCEL"
    assert {str(v["UID"]) for v in cancel.walk("VEVENT")} == {
        str(v["UID"]) for v in request.walk("VEVENT")
    }
    assert all(v["STATUS"] == "CANCELLED" for v in cancel.walk("VEVENT"))


def test_the_public_ics_and_the_event_page_show_the_days(client, mission):
    ics = vobject.readOne(client.get(f"/events/{mission.slug}.ics").text)
    assert len(ics.vevent_list) == 3
    page = client.get(f"/events/{mission.slug}").text
    assert page.count('<ol class="agenda">') == 1
    # English pages write dates as read across Europe, the agenda's days as the event's dates.
    assert "Tuesday, 25 March 2031, 08:30 – 17:30: Site visits" in page
    assert "Wednesday, 26 March 2031, 09:00 – 13:00</li>" in page


def query_of(link: str) -> dict[str, str]:
    return {key: value for key, (value,) in parse_qs(urlsplit(link).query).items()}


def test_google_and_outlook_links_add_each_day_with_its_hours(client, mission):
    """One entry from the first morning to the last afternoon would fill the nights between."""
    page = client.get(f"/events/{mission.slug}").text
    links = re.findall(
        r'<a href="([^"]+)" rel="noopener">([^<]+)<span class="visually-hidden">([^<]+)</span></a>',
        page,
    )
    google = [
        (query_of(unescape(href)), text, hidden) for href, text, hidden in links if "google" in href
    ]
    outlook = [
        (query_of(unescape(href)), text, hidden)
        for href, text, hidden in links
        if "outlook" in href
    ]

    utc = [(day.starts_at.astimezone(UTC), day.ends_at.astimezone(UTC)) for day in DAYS]
    assert [query["dates"] for query, _, _ in google] == [
        f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}" for start, end in utc
    ]
    assert [(query["startdt"], query["enddt"]) for query, _, _ in outlook] == [
        (f"{start:%Y-%m-%dT%H:%M:%SZ}", f"{end:%Y-%m-%dT%H:%M:%SZ}") for start, end in utc
    ]
    assert [query["text"] for query, _, _ in google] == [
        f"{mission.title}: Co-design",
        f"{mission.title}: Site visits",
        mission.title,  # a day without a title of its own
    ]
    # Each link's name is its visible date, then which calendar it adds to (WCAG 2.5.3).
    assert [(text, hidden) for _, text, hidden in google] == [
        ("Mon 24 Mar", ", Google Calendar"),
        ("Tue 25 Mar", ", Google Calendar"),
        ("Wed 26 Mar", ", Google Calendar"),
    ]
    assert {hidden for _, _, hidden in outlook} == {", Outlook.com"}
    italian = client.get(f"/events/{mission.slug}", headers={"Accept-Language": "it"}).text
    assert (
        'rel="noopener">mar 25 mar<span class="visually-hidden">, Google Calendar</span>' in italian
    )


def test_a_one_day_event_keeps_one_link_per_service(client, make_event):
    event = make_event()
    page = client.get(f"/events/{event.slug}").text
    assert page.count("calendar.google.com") == 1 and page.count("outlook.live.com") == 1
    assert "calendar-days" not in page


def test_the_confirmation_lists_the_days(app, mission, sign_up):
    sign_up(mission, language="it")
    message = db.session.scalar(select(OutboxMessage))
    rendered = notifications.build_message(message)
    text = rendered.body
    assert "Giorni" in text
    assert "martedì 25 marzo 2031, 08:30 – 17:30: Site visits" in text
    assert "mercoledì 26 marzo 2031, 09:00 – 13:00" in rendered.html
    # The day's title is English only: the Italian e-mail says so (WCAG 3.1.2).
    marked = '08:30 – 17:30: <span lang="en">Site visits</span>'
    assert f"martedì 25 marzo 2031, {marked}" in rendered.html


def test_no_page_gives_a_mission_the_first_days_start_and_the_last_days_end_as_its_hours(
    client, organiser, mission, sign_up
):
    """09:00 - 13:00 is the mission's start and end, but no day's hours: day 1 runs to 18:00."""
    registrant = sign_up(mission)
    pages = {
        "manage": client.get(f"/manage/{manage_token(registrant)}").text,
        "organiser": client.get(f"/admin/events/{mission.slug}").text,
        "statistics": client.get(f"/admin/events/{mission.slug}/statistics").text,
        "event": client.get(f"/events/{mission.slug}").text,
    }
    for name, page in pages.items():
        assert "9:00 AM – 1:00 PM" not in page and "09:00 – 13:00 (" not in page, name
        assert "24 March 2031" in page or "March 24, 2031" in page, name
    assert "08:30 – 17:30" in pages["manage"] and "08:30 – 17:30" in pages["organiser"]
    with client.application.test_request_context():
        assert event_when(mission) == "24 March 2031 – 26 March 2031"

    form = edit_form(mission, starts_at="2031-03-31T09:00", ends_at="2031-04-02T13:00")
    form["agenda"] = WEEK_LATER
    assert client.post(f"/admin/events/{mission.slug}/edit", data=form).status_code == 302
    changed = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.EVENT_CHANGED)
    )
    with client.application.test_request_context():
        body = notifications.build_message(changed).body
    (when,) = [line for line in body.splitlines() if "26 March 2031" in line]
    assert "24 March 2031 – 26 March 2031" in when and "31 March 2031 – 2 April 2031" in when
    assert ":00" not in when  # no hours on either side of the move: the days have their own


def test_an_english_day_title_is_marked_english_on_translated_pages(client, mission):
    page = client.get(f"/events/{mission.slug}", headers={"Accept-Language": "bg"}).text
    assert '<span lang="en">Site visits</span></li>' in page
    english = client.get(f"/events/{mission.slug}", headers={"Accept-Language": "en"}).text
    assert "Site visits</li>" in english and 'lang="en">Site visits' not in english


def pdftotext(data: bytes, tmp_path) -> str:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_the_sign_in_sheet_has_a_signature_column_per_day(
    client, organiser, mission, sign_up, tmp_path
):
    sign_up(mission, first_name="Zoe", last_name="Adams")
    sign_up(mission, first_name="Anna", last_name="Zeller")
    response = client.get(f"/admin/events/{mission.slug}/attendees.pdf")
    text = pdftotext(response.data, tmp_path)
    assert text.count("Signature") == 3
    for weekday, day in (("Mon", "Mar 24"), ("Tue", "Mar 25"), ("Wed", "Mar 26")):
        assert f"Signature {weekday}," in text and day in text
    assert text.index("Adams, Zoe") < text.index("Zeller, Anna")


def test_a_served_mission_streams_its_sign_in_sheet_and_lists(
    live_server, mission, sign_up, make_user, tmp_path
):
    """Through a real server, where the request's session ends before a streamed answer is
    written (the test client shares the test's session, which hid a 500 for every mission)."""
    sign_up(mission, first_name="Zoe", last_name="Adams")
    token = accounts.issue_api_token(make_user("organiser"))
    for name in ("attendees.pdf", "attendees.csv", "attendees.xlsx"):
        request = urllib.request.Request(
            f"{live_server}/admin/events/{mission.slug}/{name}",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200
            body = response.read()
        if name.endswith(".pdf"):
            assert pdftotext(body, tmp_path).count("Signature") == 3
        elif name.endswith(".csv"):
            assert "Adams" in body.decode("utf-8-sig")


def test_the_sign_in_sheet_footer_keeps_the_print_time_and_page_with_a_long_title(
    client, organiser, make_event, tmp_path
):
    title = "Webinar: " + "social clauses in public procurement, " * 4
    event = make_event(title=title.strip(" ,"))
    text = pdftotext(client.get(f"/admin/events/{event.slug}/attendees.pdf").data, tmp_path)
    footer = [line for line in text.splitlines() if "Page 1 of 1" in line]
    assert len(footer) == 1
    assert "Printed " in footer[0] and "…" in footer[0]
    assert re.search(r"\(Central European (Standard|Summer) Time\)", footer[0])  # Rome's zone


def test_the_organiser_form_saves_the_agenda(client, organiser):
    agenda = "2031-05-05 10:00-12:00 Opening\r\n\r\n2031-05-06 9:30-11:00\r\n"
    form = event_form(ends_at="2031-05-06T12:00", agenda=agenda)
    assert client.post("/admin/events/new", data=form).status_code == 302
    event = db.session.scalar(select(Event).where(Event.slug == "webinar-extra"))
    sofia = ZoneInfo("Europe/Sofia")
    assert event.agenda == [
        AgendaDay(
            datetime(2031, 5, 5, 10, tzinfo=sofia),
            datetime(2031, 5, 5, 12, tzinfo=sofia),
            "Opening",
        ),
        AgendaDay(
            datetime(2031, 5, 6, 9, 30, tzinfo=sofia), datetime(2031, 5, 6, 11, tzinfo=sofia), None
        ),
    ]
    page = client.get("/admin/events/webinar-extra/edit").text
    assert "2031-05-05 10:00-12:00 Opening\n2031-05-06 09:30-11:00</textarea>" in page


@pytest.mark.parametrize(
    ("agenda", "message"),
    [
        ("2031-05-05 10:00", "is not a day of the agenda"),
        ("2031-02-30 10:00-12:00", "is not a day of the agenda"),
        ("2031-05-07 10:00-12:00", "must fall within the event"),
        ("2031-05-05 09:00-12:00\n2031-05-06 09:00-11:00", "must fall between the event"),
        ("2031-05-05 10:00-12:00\n2031-05-06 09:00-12:30", "must fall between the event"),
        ("2031-05-05 10:00-11:00\n2031-05-05 10:30-11:30", "overlap"),
        ("2031-05-05 10:00-11:00\n2031-05-05 14:00-16:00", "fall on the same date"),
    ],
)
def test_a_wrong_agenda_is_explained_and_nothing_is_saved(client, organiser, agenda, message):
    form = event_form(ends_at="2031-05-06T12:00", agenda=agenda)
    response = client.post("/admin/events/new", data=form)
    assert response.status_code == 422 and message in response.text
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_saving_the_form_unchanged_changes_nothing(client, organiser, mission):
    mission.description = "Day one: co-design.\nDay two: visits."
    db.session.commit()
    page = client.get(f"/admin/events/{mission.slug}/edit").text
    data = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page))
    data.pop("csrf_token", None)
    data |= {
        "kind": "mission",
        "mode": "in_person",
        "timezone": "Europe/Rome",
        # what a browser sends back: CRLF line endings
        "description": "Day one: co-design.\r\nDay two: visits.\r\n",
        "agenda": agenda_text(mission).replace("\n", "\r\n"),
    }
    response = client.post(f"/admin/events/{mission.slug}/edit", data=data, follow_redirects=True)
    assert "Saved: 0 field(s) changed." in response.text
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert not db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event_updated"))


# Day titles in Italian for the first two days; the third day has no title at all.
ITALIAN_DAYS = {"2031-03-24": "Co-progettazione", "2031-03-25": "Visite in loco"}


@pytest.fixture
def italian_mission(mission):
    mission.translations = {"it": {"title": "Missione di tre giorni", "days": ITALIAN_DAYS}}
    db.session.commit()
    return mission


def test_translated_day_titles_show_on_pages_in_mail_and_in_calendars(
    client, italian_mission, sign_up
):
    page = client.get(f"/events/{italian_mission.slug}", headers={"Accept-Language": "it"}).text
    assert "martedì 25 marzo 2031, 08:30 – 17:30: Visite in loco</li>" in page
    assert "Site visits" not in page and "Co-design" not in page
    bulgarian = client.get(f"/events/{italian_mission.slug}", headers={"Accept-Language": "bg"})
    assert '<span lang="en">Site visits</span></li>' in bulgarian.text  # no Bulgarian title

    registration = sign_up(italian_mission, language="it").registrations[0]
    rendered = notifications.build_message(db.session.scalar(select(OutboxMessage)))
    assert "martedì 25 marzo 2031, 08:30 – 17:30: Visite in loco" in rendered.body
    assert "martedì 25 marzo 2031, 08:30 – 17:30: Visite in loco" in rendered.html
    assert 'lang="en"' not in rendered.html
    invitation = Calendar.from_ical(calendar.invitation(registration))
    summaries = [
        (str(v["SUMMARY"]), v["SUMMARY"].params.get("LANGUAGE")) for v in invitation.walk("VEVENT")
    ]
    assert summaries == [
        ("Missione di tre giorni: Co-progettazione", "it"),
        ("Missione di tre giorni: Visite in loco", "it"),
        ("Missione di tre giorni", "it"),
    ]


def test_the_shipped_missions_have_their_day_titles_in_every_language(app):
    load_programme()
    for slug in ("mission-bergamo", "mission-odense"):
        event = db.session.scalar(select(Event).where(Event.slug == slug))
        for language in ("bg", "da", "es", "it", "pt", "sv"):
            for day in event.days:
                title, written_in = day.title_in(language)
                assert written_in == language and title and title != day.title, (slug, language)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            '[events.translations.it.days]\n2027-03-30 = "Altro"',
            "no day of the agenda on 2027-03-30",
        ),
        ('[events.translations.it.days]\nmarzo = "Altro"', "not a date"),
        ('[events.translations.it.days]\n2027-03-24 = " "', "has no title"),
    ],
)
def test_a_wrong_day_title_in_the_programme_file_is_refused(app, tmp_path, table, message):
    text = SHIPPED_PROGRAMME.read_text(encoding="utf-8")
    start = text.index("[events.translations.it.days]", text.index('slug = "mission-bergamo"'))
    end = text.index("\n\n", start)
    path = tmp_path / "programme.toml"
    path.write_text(text[:start] + table + text[end:], encoding="utf-8")
    with app.test_request_context(), pytest.raises(ProgrammeError, match=message) as error:
        read_programme(path)
    assert "mission-bergamo" in str(error.value) and "translations.it.days" in str(error.value)


def test_organisers_give_the_days_titles_in_other_languages(client, organiser, mission):
    form = edit_form(mission, agenda=agenda_text(mission))
    lines = "2031-03-24 Co-progettazione\r\n\r\n2031-03-25   Visite in loco \r\n"
    response = client.post(f"/admin/events/{mission.slug}/edit", data=form | {"days_it": lines})
    assert response.status_code == 302
    db.session.refresh(mission)
    assert mission.translations == {"it": {"days": ITALIAN_DAYS}}
    page = client.get(f"/admin/events/{mission.slug}/edit").text
    assert "2031-03-24 Co-progettazione\n2031-03-25 Visite in loco</textarea>" in page

    stray = form | {"days_it": "2031-03-24 Co-progettazione\n2031-04-02 Altro giorno"}
    response = client.post(f"/admin/events/{mission.slug}/edit", data=stray)
    assert response.status_code == 422
    assert "“2031-04-02 Altro giorno”: start the line with one of the agenda" in unescape(
        response.text
    )
    db.session.refresh(mission)
    assert mission.translations == {"it": {"days": ITALIAN_DAYS}}


def test_an_installation_loaded_before_the_day_titles_gets_them_from_the_update(app, tmp_path):
    text = SHIPPED_PROGRAMME.read_text(encoding="utf-8")
    without = re.sub(
        r"\n\[events\.translations\.\w\w\.days\]\n(?:\d{4}-\d\d-\d\d = .*\n)+", "\n", text
    )
    assert "translations.it.days" not in without
    (tmp_path / "before.toml").write_text(without, encoding="utf-8")
    load_programme(tmp_path / "before.toml")

    plan = plan_update()
    by_slug = {update.slug: update for update in plan.updates}
    assert set(by_slug) == {"mission-bergamo", "mission-odense"}
    for update in by_slug.values():
        assert {c.name.split(".")[2] for c in update.changes} == {"days"}  # one per day
        assert len(update.changes) == 6 * 3 and not update.conflicts
        assert update.invitations == 0  # new titles are no reason to e-mail anyone
    assert "translations.it.days.2027-03-25" in {c.name for c in by_slug["mission-bergamo"].changes}
    apply_update()

    bergamo = db.session.scalar(select(Event).where(Event.slug == "mission-bergamo"))
    assert bergamo.days[1].title_in("it") == ("Visite alle cooperative sociali", "it")
    assert plan_update().is_empty


def test_titles_for_dates_the_agenda_no_longer_has_are_left_out_and_dropped(
    client, organiser, mission
):
    """After the days moved (say, a programme update with the translations kept as edited)."""
    mission.translations = {"it": {"days": {"2031-03-17": "Vecchio giorno", **ITALIAN_DAYS}}}
    db.session.commit()
    assert mission.days[0].title_in("it") == ("Co-progettazione", "it")
    page = client.get(f"/admin/events/{mission.slug}/edit").text
    shown = re.search(r'name="days_it"[^>]*>([^<]*)</textarea>', page)[1]
    assert unescape(shown).strip() == "2031-03-24 Co-progettazione\n2031-03-25 Visite in loco"

    form = edit_form(mission, agenda=agenda_text(mission), days_it=unescape(shown))
    assert client.post(f"/admin/events/{mission.slug}/edit", data=form).status_code == 302
    db.session.refresh(mission)
    assert mission.translations == {"it": {"days": ITALIAN_DAYS}}


WEEK_LATER = (
    "2031-03-31 09:00-18:00 Co-design\n2031-04-01 08:30-17:30 Site visits\n2031-04-02 09:00-13:00"
)


def shown_day_titles(client, event, language):
    page = client.get(f"/admin/events/{event.slug}/edit").text
    return unescape(re.search(rf'name="days_{language}"[^>]*>([^<]*)</textarea>', page)[1])


def italian_days_saved(client, mission, agenda, **times):
    """Save a new agenda with the Italian day titles left as the edit page showed them; the
    Italian day titles the mission then has."""
    shown = shown_day_titles(client, mission, "it")
    form = edit_form(
        mission, agenda=agenda, title_it="Missione di tre giorni", days_it=shown, **times
    )
    response = client.post(f"/admin/events/{mission.slug}/edit", data=form)
    assert response.status_code == 302, response.text
    db.session.refresh(mission)
    return mission.translations["it"]["days"]


def test_day_titles_left_as_shown_follow_their_days_when_the_mission_moves(
    client, organiser, italian_mission
):
    """The mission moves a week later; the Italian lines still carry the old dates."""
    shown = shown_day_titles(client, italian_mission, "it")
    assert shown.strip() == "2031-03-24 Co-progettazione\n2031-03-25 Visite in loco"
    saved = italian_days_saved(
        client,
        italian_mission,
        WEEK_LATER,
        starts_at="2031-03-31T09:00",
        ends_at="2031-04-02T13:00",
    )
    assert saved == {"2031-03-31": "Co-progettazione", "2031-04-01": "Visite in loco"}
    page = client.get(f"/events/{italian_mission.slug}", headers={"Accept-Language": "it"}).text
    assert "martedì 1 aprile 2031, 08:30 – 17:30: Visite in loco</li>" in page


def test_day_titles_follow_their_english_title_when_a_day_is_dropped(
    client, organiser, italian_mission
):
    two_days = "2031-03-24 11:00-18:00 Site visits\n2031-03-25 09:00-13:00"
    saved = italian_days_saved(client, italian_mission, two_days, ends_at="2031-03-25T13:00")
    # "Co-design" is gone, so its title goes; "Site visits" moved to the first day with its own
    assert saved == {"2031-03-24": "Visite in loco"}


def test_day_titles_follow_their_english_title_when_days_swap(client, organiser, italian_mission):
    swapped = (
        "2031-03-24 09:00-17:30 Site visits\n2031-03-25 08:30-18:00 Co-design\n"
        "2031-03-26 09:00-13:00"
    )
    saved = italian_days_saved(client, italian_mission, swapped)
    assert saved == {"2031-03-24": "Visite in loco", "2031-03-25": "Co-progettazione"}


def test_a_day_that_keeps_its_date_keeps_its_titles_when_others_change(
    client, organiser, italian_mission
):
    """A typo fixed in day 2's English title and a fourth day added: day 2 stays on its date."""
    agenda = (
        "2031-03-24 09:00-18:00 Co-design\n2031-03-25 08:30-17:30 Site visits to cooperatives\n"
        "2031-03-26 09:00-13:00\n2031-03-27 09:00-12:00 Closing"
    )
    saved = italian_days_saved(client, italian_mission, agenda, ends_at="2031-03-27T12:00")
    assert saved == ITALIAN_DAYS


def test_day_titles_the_organiser_rewrote_are_taken_as_written(client, organiser, italian_mission):
    form = edit_form(
        italian_mission,
        starts_at="2031-03-31T09:00",
        ends_at="2031-04-02T13:00",
        agenda=WEEK_LATER,
        days_it="2031-04-02 Laboratorio\n2031-03-24 Vecchia data",
    )
    response = client.post(f"/admin/events/{italian_mission.slug}/edit", data=form)
    assert response.status_code == 422
    assert "“2031-03-24 Vecchia data”: start the line with one of the agenda" in unescape(
        response.text
    )
    db.session.refresh(italian_mission)
    assert italian_mission.translations["it"]["days"] == ITALIAN_DAYS


def test_two_titles_for_one_day_are_refused(client, organiser, mission):
    lines = "2031-03-24 Co-progettazione\n2031-03-24 Altro titolo"
    form = edit_form(mission, agenda=agenda_text(mission), days_it=lines)
    response = client.post(f"/admin/events/{mission.slug}/edit", data=form)
    assert response.status_code == 422
    assert "“2031-03-24 Altro titolo”: a line above already gives this day a title." in unescape(
        response.text
    )


def test_a_days_new_hours_are_what_the_change_email_says_and_a_new_title_sends_none(
    app, organiser, mission, sign_up
):
    """Day 2 moved from 08:30 to 07:00: the e-mail said nothing of what changed."""
    sign_up(mission)
    earlier = DAYS[1]._replace(starts_at=datetime(2031, 3, 25, 7, tzinfo=ROME))
    events.update_event(mission, {"agenda": [DAYS[0], earlier, DAYS[2]]}, actor=organiser)
    changed = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.EVENT_CHANGED)
    )
    with app.test_request_context():
        body = notifications.build_message(changed).body
    assert (
        "- Day: Tuesday, 25 March 2031, 08:30 – 17:30 → Tuesday, 25 March 2031, 07:00 – 17:30"
        in body
    )
    assert "24 March 2031, 09:00" not in body.split("What changed")[1].split("\n\n")[0]

    retitled = [DAYS[0], earlier._replace(title="Visits to three cooperatives"), DAYS[2]]
    events.update_event(mission, {"agenda": retitled}, actor=organiser)
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert kinds.count(MessageKind.EVENT_CHANGED) == 1  # nobody's plans changed
    db.session.refresh(mission)
    assert mission.days[1].title == "Visits to three cooperatives"


def test_days_on_both_sides_of_the_clock_change_name_the_zone_for_both(
    client, app, make_event, sign_up
):
    """Every day of a mission over the last weekend of March read "Central European Standard
    Time", though the last two are in summer time."""
    days = [
        AgendaDay(datetime(2031, 3, day, 9, tzinfo=ROME), datetime(2031, 3, day, 17, tzinfo=ROME))
        for day in (29, 30, 31)
    ]
    mission = make_event(starts_at=days[0].starts_at, ends_at=days[-1].ends_at, agenda=days)
    page = client.get(f"/events/{mission.slug}").text
    assert "Times in Central European Time" in page and "Standard Time" not in page
    registration = sign_up(mission).registrations[0]
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.registration_id == registration.id)
    )
    with app.test_request_context():
        body = notifications.build_message(message).body
        ticket = [text for text, _font, _colour in tickets._ticket_text(registration)]
    assert "Days (Times in Central European Time):" in body
    assert "Times in Central European Time" in ticket  # the image drawn on the ticket too
