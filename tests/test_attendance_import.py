"""Online attendance from Zoom and Teams participant reports: preview, then apply."""

import codecs
import io
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from eventreg.addresses import canonical
from eventreg.extensions import db
from eventreg.models import AuditEntry, Registration
from eventreg.services import attendance_import, registrations
from eventreg.services.attendance_import import Unmatched

ROME = ZoneInfo("Europe/Rome")


def rome(hour, minute, second=0):
    return datetime(2031, 3, 24, hour, minute, second, tzinfo=ROME)


# The same meeting as each platform reports it (tests/data/participant_reports). Ana joined
# twice (the first join counts), a guest gave no e-mail address, Zoom's Larry never left the
# waiting room and its webinar report lists Dora, who did not come.
REPORT_FILES = Path(__file__).parent / "data" / "participant_reports"
ZOOM_MEETING = (REPORT_FILES / "zoom-meeting.csv").read_bytes()  # UTF-8 with BOM, CRLF
ZOOM_WEBINAR = (REPORT_FILES / "zoom-webinar.csv").read_bytes()  # sections, "Attended" column
TEAMS = (REPORT_FILES / "teams.csv").read_bytes()  # UTF-16 with BOM, tabs, sections
TEAMS_CLASSIC = (REPORT_FILES / "teams-classic.csv").read_bytes()  # semicolons, Windows-1252
REPORTS = {
    "zoom meeting": ZOOM_MEETING,
    "zoom webinar": ZOOM_WEBINAR,
    "teams": TEAMS,
    "teams without BOM": TEAMS.removeprefix(codecs.BOM_UTF16_LE),
    "teams classic": TEAMS_CLASSIC,
}


@pytest.fixture
def webinar(make_event):
    """An online webinar on 24 March 2031, 10:00-12:00 in Rome, with room for four."""
    return make_event(
        slug="webinar-clauses",
        title="Webinar on social clauses",
        kind="webinar",
        mode="online",
        city=None,
        venue=None,
        online_url="https://meet.example.org/clauses",
        starts_at=rome(10, 0),
        ends_at=rome(12, 0),
        capacity=4,
    )


@pytest.fixture
def people(webinar, sign_up):
    """Ana never joined yet; Ben and Carla joined through their links; Dora stayed away."""
    signed = {
        name: sign_up(webinar, first_name=name, last_name=last, email=email).registrations[0]
        for name, last, email in [
            ("Ana", "Silva", "ana@example.pt"),
            ("Ben", "Jensen", "ben@example.dk"),
            ("Carla", "Ruiz", "carla@example.es"),
            ("Dora", "Absent", "dora@example.org"),
            ("Frank", "Gone", "frank@example.org"),
            ("Eve", "Waiting", "eve@example.org"),
        ]
    }
    registrations.cancel(signed["Frank"])  # Eve gets no seat: still four confirmed
    signed["Ben"].joined_online_at = rome(10, 5)
    signed["Carla"].joined_online_at = rome(9, 55)
    db.session.commit()
    assert signed["Eve"].is_waitlisted
    return signed


def stored(registration):
    db.session.rollback()
    return db.session.get(Registration, registration.id, populate_existing=True).joined_online_at


@pytest.mark.parametrize("report", REPORTS.values(), ids=REPORTS.keys())
def test_every_report_format_gives_the_same_preview(webinar, people, report):
    preview = attendance_import.preview_report(webinar, report)
    assert [(m.registration.registrant.first_name, m.joined_at) for m in preview.to_record] == [
        ("Ana", rome(9, 58, 12))
    ]
    already = {m.registration.registrant.first_name: m for m in preview.already_attended}
    assert set(already) == {"Ben", "Carla"}
    assert already["Ben"].changes_join_time and not already["Carla"].changes_join_time
    assert sorted((p.email, reason) for p, reason in preview.unmatched) == [
        ("", Unmatched.NO_EMAIL),
        ("eve@example.org", Unmatched.WAITLISTED),
        ("frank@example.org", Unmatched.CANCELLED),
        ("stranger@example.com", Unmatched.NOT_REGISTERED),
    ]
    assert [m.registration.registrant.first_name for m in preview.changes] == ["Ana", "Ben"]
    assert stored(people["Ana"]) is None  # a preview writes nothing


def test_rows_of_people_who_did_not_attend_are_left_out(webinar, people):
    zoom = attendance_import.preview_report(webinar, ZOOM_MEETING)
    assert zoom.skipped == 1  # Larry, in the waiting room
    webinar_report = attendance_import.preview_report(webinar, ZOOM_WEBINAR)
    assert webinar_report.skipped == 1  # Dora: "Attended: No"
    listed = webinar_report.to_record + webinar_report.already_attended + webinar_report.unmatched
    assert "dora@example.org" not in str(listed)


@pytest.fixture
def organiser(client, auth, make_user):
    user = make_user("organiser")
    auth.login(user.email)
    return user


def upload(client, event, data: bytes, name="participants.csv"):
    return client.post(
        f"/admin/events/{event.slug}/attendance/import",
        data={"report": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def changes_field(page: str) -> str:
    return re.search(r'name="changes" type="hidden" value="([^"]+)"', page)[1]


def test_an_organiser_uploads_a_teams_report_checks_the_preview_and_applies_it(
    client, organiser, webinar, people
):
    form = client.get(f"/admin/events/{webinar.slug}/attendance/import")
    assert form.status_code == 200 and 'type="file"' in form.text
    preview = upload(client, webinar, TEAMS, "Attendance report.csv")
    assert preview.status_code == 200
    page = preview.text
    # The summary and the button count the same thing: Ben's earlier join replaces a later one.
    assert "2 people will be recorded as attended." in page
    assert "Of them, 1 had already attended and gets the earlier join time" in page
    assert "1 person had already attended and stays as recorded." in page
    assert "Record 2 attendances" in page
    assert "4 people in the report are not matched." in page
    assert "Attendance report.csv" in page
    assert "no registration with this e-mail address" in page and "on the waiting list" in page
    assert stored(people["Ana"]) is None

    applied = client.post(
        f"/admin/events/{webinar.slug}/attendance/apply", data={"changes": changes_field(page)}
    )
    assert applied.status_code == 302
    assert applied.headers["Location"].endswith(f"/admin/events/{webinar.slug}?attended=yes")
    assert stored(people["Ana"]) == rome(9, 58, 12)
    assert stored(people["Ben"]) == rome(9, 59)  # earlier than his link: the first join counts
    assert stored(people["Carla"]) == rome(9, 55)  # her link was earlier
    assert stored(people["Dora"]) is None and stored(people["Eve"]) is None
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "joined_online_imported")
    ).all()
    assert sorted(e.registration.registrant.first_name for e in entries) == ["Ana", "Ben"]
    assert {e.actor_id for e in entries} == {organiser.id}
    assert {e.details["report"] for e in entries} == {"Attendance report.csv"}

    again = client.post(
        f"/admin/events/{webinar.slug}/attendance/apply",
        data={"changes": changes_field(page)},
        follow_redirects=True,
    )
    assert "0 attendances recorded." in again.text
    assert (
        db.session.scalar(select(func.count()).where(AuditEntry.action == "joined_online_imported"))
        == 2
    )


def test_a_forged_or_foreign_preview_changes_nothing(
    client, organiser, webinar, people, make_event
):
    page = upload(client, webinar, ZOOM_MEETING).text
    token = changes_field(page)
    forged = client.post(
        f"/admin/events/{webinar.slug}/attendance/apply",
        data={"changes": token[:-4] + "AAAA"},
        follow_redirects=True,
    )
    assert "That preview has expired" in forged.text
    other = make_event(mode="online", city=None, venue=None)
    client.post(f"/admin/events/{other.slug}/attendance/apply", data={"changes": token})
    assert stored(people["Ana"]) is None


NOT_A_REPORT = "is this a participant report?"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), NOT_A_REPORT),
        (b"", NOT_A_REPORT),  # a named file with nothing in it
        (
            b"Full Name\tUser Action\tTimestamp\nAna Silva\tJoined\t3/24/2031, 9:58:12 AM\n",
            NOT_A_REPORT,
        ),
        (b"Name,Join time\nAna,03/24/2031 09:58:12 AM\n", NOT_A_REPORT),
    ],
    ids=["an image", "an empty file", "teams without e-mail", "no e-mail column"],
)
def test_a_file_that_is_not_a_participant_report_is_explained(
    client, organiser, webinar, people, data, message
):
    response = upload(client, webinar, data)
    assert response.status_code == 422
    assert message in response.text
    assert stored(people["Ana"]) is None


def test_in_person_events_take_attendance_at_the_door(client, organiser, make_event):
    event = make_event()
    page = client.get(f"/admin/events/{event.slug}/attendance/import")
    assert page.status_code == 200
    assert "attendance comes from the check-in at the door" in page.text
    assert 'type="file"' not in page.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2031-03-24 09:58:12", rome(9, 58, 12)),
        ("2031-03-24T08:58:12+00:00", rome(9, 58, 12)),
        ("03/24/2031 09:58:12 AM", rome(9, 58, 12)),
        ("3/24/31, 9:58 AM", rome(9, 58)),
        ("24.03.2031 09:58", rome(9, 58)),
        ("Mar 24, 2031 09:58:12", rome(9, 58, 12)),
        ("24 March 2031 09:58", rome(9, 58)),
        ("03/24/2030 09:58:12 AM", None),  # a year away: another meeting
        ("--", None),
        ("", None),
    ],
)
def test_join_times_are_read_in_the_event_zone(webinar, text, expected):
    assert attendance_import.parse_join_time(text, webinar) == expected


def test_day_and_month_are_told_apart_by_the_event_date(make_event):
    event = make_event(
        mode="online",
        city=None,
        venue=None,
        starts_at=datetime(2031, 4, 3, 10, 0, tzinfo=ROME),
        ends_at=datetime(2031, 4, 3, 12, 0, tzinfo=ROME),
    )
    assert attendance_import.parse_join_time("03/04/2031 09:58", event) == datetime(
        2031, 4, 3, 9, 58, tzinfo=ROME
    )
    assert attendance_import.parse_join_time("04/03/2031 09:58", event) == datetime(
        2031, 4, 3, 9, 58, tzinfo=ROME
    )


def test_reports_larger_than_the_general_request_limit_can_be_uploaded(
    client, app, auth, make_user, make_event
):
    """Participant reports of large webinars exceed MAX_CONTENT_LENGTH; their view allows more."""
    make_user("organiser")
    auth.login("organiser@example.org")
    event = make_event(mode="online", city=None, venue=None)
    big = b"Name,Email\n" + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1024)
    assert client.post("/register", data={"needs": big.decode()}).status_code == 413
    response = client.post(
        f"/admin/events/{event.slug}/attendance/import",
        data={"report": (io.BytesIO(big), "report.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (200, 422)  # read and judged, not refused for its size


def test_an_address_with_an_international_domain_is_matched(webinar, sign_up):
    """The forms keep ivan@пример.бг with its domain in ASCII; the report writes it as typed:
    he was "not registered", so no attendance and no certificate."""
    stored_as = canonical("ivan@пример.бг")  # as the sign-up form stores it
    assert stored_as == "ivan@xn--e1afmkfd.xn--90ae"
    ivan = sign_up(webinar, first_name="Иван", last_name="Петров", email=stored_as)
    report = (
        "Name (original name),User Email,Join time,Leave time,Duration (minutes),Guest\r\n"
        "Иван Петров,Ivan@Пример.бг,03/24/2031 10:02:00 AM,03/24/2031 11:55:00 AM,113,No\r\n"
    ).encode()
    preview = attendance_import.preview_report(webinar, report)
    assert [m.registration.id for m in preview.to_record] == [ivan.registrations[0].id]
    assert preview.unmatched == []
