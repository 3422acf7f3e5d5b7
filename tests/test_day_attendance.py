"""Multi-day missions: the door admits a ticket once on each day of the agenda, and the list,
the exports, the statistics and the certificates say who came on which day."""

import csv
import io
import subprocess
import threading
import time as clock
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from eventreg.database import write_transaction
from eventreg.extensions import db
from eventreg.models import AgendaDay, AuditEntry, DayCheckIn, Registration, User, utcnow
from eventreg.services import accounts, certificates, checkin, events, exports, statistics
from eventreg.services.certificate_pdf import certificate_pdf
from tests.support.database import migrated_from
from tests.support.door import days_around_today, door_mission, scan_from_devices

ROME = ZoneInfo("Europe/Rome")
LISBON, SOFIA = ZoneInfo("Europe/Lisbon"), ZoneInfo("Europe/Sofia")


def local_day(offset: int) -> date:
    return utcnow().astimezone(ROME).date() + timedelta(days=offset)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ROME)


@pytest.fixture
def mission(make_event):
    """Three days in Bergamo: yesterday (9-18), today (8:30-17), tomorrow (9-13), Rome time."""
    days = [
        AgendaDay(at(local_day(-1), 9), at(local_day(-1), 18)),
        AgendaDay(at(local_day(0), 8, 30), at(local_day(0), 17)),
        AgendaDay(at(local_day(1), 9), at(local_day(1), 13)),
    ]
    now = utcnow()
    return make_event(
        starts_at=days[0].starts_at,
        ends_at=days[-1].ends_at,
        agenda=days,
        registration_opens_at=now - timedelta(days=10),
        registration_closes_at=now + timedelta(hours=1),
        capacity=5,
    )


@pytest.fixture
def staff(make_user, mission):
    user = make_user("checkin")
    accounts.assign_checkin_events(user, [mission])
    return user


@pytest.fixture
def at_the_door(client, auth, staff):
    auth.login(staff.email)
    return client


def registration_of(sign_up, event, **details) -> Registration:
    return sign_up(event, **details).registrations[0]


def day_check_ins(registration) -> list[tuple[date, datetime]]:
    db.session.rollback()
    return db.session.execute(
        select(DayCheckIn.day, DayCheckIn.checked_in_at)
        .where(DayCheckIn.registration_id == registration.id)
        .order_by(DayCheckIn.day)
    ).all()


def first_check_in(registration) -> datetime | None:
    db.session.rollback()
    return db.session.get(Registration, registration.id, populate_existing=True).checked_in_at


def scan(client, registration, mission, **body):
    return client.post(
        f"/checkin/{mission.slug}/scan", json={"secret": registration.ticket_secret} | body
    ).get_json()


def test_someone_who_came_yesterday_is_admitted_again_today_once(
    at_the_door, mission, staff, sign_up
):
    ana = registration_of(sign_up, mission, first_name="Ana", last_name="Silva")
    yesterday = at(local_day(-1), 9, 12)
    first = checkin.check_in_ticket(mission, ana.ticket_secret, staff=staff, scanned_at=yesterday)
    assert first.result == "ok"
    assert at_the_door.get(f"/checkin/{mission.slug}/counter").get_json() == {
        "checked_in": 0,  # today nobody yet: yesterday's check-in does not count at today's door
        "confirmed": 1,
    }

    today = scan(at_the_door, ana, mission)
    assert today["result"] == "ok" and today["message"] == "Checked in"
    again = scan(at_the_door, ana, mission)
    assert again["result"] == "already_checked_in"
    clock = again["checked_in_at"][11:16]
    assert again["message"] == f"Already checked in today at {clock} by checkin@example.org"
    assert at_the_door.get(f"/checkin/{mission.slug}/counter").get_json()["checked_in"] == 1

    days = day_check_ins(ana)
    assert [day for day, _ in days] == [local_day(-1), local_day(0)]
    assert days[0][1] == yesterday
    assert first_check_in(ana) == yesterday  # the first check-in stays the first


def test_a_scan_queued_offline_yesterday_counts_for_yesterday(at_the_door, mission, sign_up):
    ben = registration_of(sign_up, mission)
    assert scan(at_the_door, ben, mission)["result"] == "ok"  # today
    queued = at(local_day(-1), 17, 40)
    late = scan(at_the_door, ben, mission, scanned_at=queued.isoformat())
    assert late["result"] == "ok"
    assert [day for day, _ in day_check_ins(ben)] == [local_day(-1), local_day(0)]
    assert first_check_in(ben) == queued  # earlier than today's: it is the first one now
    replay = scan(at_the_door, ben, mission, scanned_at=queued.isoformat())
    assert replay["result"] == "already_checked_in"
    assert len(day_check_ins(ben)) == 2


def test_a_phone_whose_clock_is_a_day_behind_puts_an_offline_scan_on_its_real_day(
    at_the_door, mission, sign_up
):
    """The door phone's clock says yesterday (set by hand, a dead battery): a scan it kept
    offline this morning counted for yesterday. The phone sends its clock with the scan, so
    the server moves the scan by how far off that clock is."""
    ana = registration_of(sign_up, mission)
    phone_off_by = timedelta(days=1, minutes=3)
    scanned = utcnow() - timedelta(minutes=20)  # really; the phone kept it while offline
    answer = scan(
        at_the_door,
        ana,
        mission,
        scanned_at=(scanned - phone_off_by).isoformat(),
        sent_at=(utcnow() - phone_off_by).isoformat(),
    )
    assert answer["result"] == "ok"
    ((day, moment),) = day_check_ins(ana)
    assert day == scanned.astimezone(ROME).date()
    assert abs(moment - scanned) < timedelta(seconds=5)

    # A clock right to within the network's delay is taken as is: a scan at 23:59:58 that
    # arrives three seconds late stays on the day it was made.
    carla = registration_of(sign_up, mission)
    made = utcnow() - timedelta(seconds=30)
    sent = utcnow() - timedelta(seconds=3)
    scan(at_the_door, carla, mission, scanned_at=made.isoformat(), sent_at=sent.isoformat())
    assert [moment for _, moment in day_check_ins(carla)] == [made]

    # Without the phone's clock (a scanner app that does not send it), its time is taken as is.
    ben = registration_of(sign_up, mission)
    late = scan(at_the_door, ben, mission, scanned_at=(scanned - phone_off_by).isoformat())
    phone_day = (scanned - phone_off_by).astimezone(ROME).date()
    if phone_day in mission.local_dates:
        assert [day for day, _ in day_check_ins(ben)] == [phone_day]
    else:  # just after midnight: the phone's day is before the mission's first
        assert late["result"] == "not_today"


def test_undo_takes_back_todays_check_in_only(at_the_door, mission, staff, sign_up):
    ana = registration_of(sign_up, mission)
    yesterday = at(local_day(-1), 10)
    checkin.check_in(ana, staff=staff, scanned_at=yesterday)
    by_hand = at_the_door.post(
        f"/checkin/{mission.slug}/registrations/{ana.reference}/checkin", json={}
    ).get_json()
    assert by_hand["result"] == "ok"
    found = at_the_door.get(f"/checkin/{mission.slug}/search", query_string={"q": ana.reference})
    (person,) = found.get_json()["results"]
    assert person["can_undo"] and not person["can_check_in"]
    assert person["badge"]["text"].startswith("Checked in today at ")

    undone = at_the_door.post(f"/checkin/{mission.slug}/registrations/{ana.reference}/undo")
    assert undone.get_json()["undone"] is True
    assert undone.get_json()["person"]["can_check_in"] is True
    assert [day for day, _ in day_check_ins(ana)] == [local_day(-1)]
    assert first_check_in(ana) == yesterday
    again = at_the_door.post(f"/checkin/{mission.slug}/registrations/{ana.reference}/undo")
    assert again.get_json()["undone"] is False
    assert day_check_ins(ana) != []  # yesterday's check-in is not today's to undo


def test_undoing_the_only_check_in_leaves_no_attendance(at_the_door, mission, sign_up):
    ana = registration_of(sign_up, mission)
    assert scan(at_the_door, ana, mission)["result"] == "ok"
    assert first_check_in(ana) is not None
    at_the_door.post(f"/checkin/{mission.slug}/registrations/{ana.reference}/undo")
    assert day_check_ins(ana) == []
    assert first_check_in(ana) is None
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.registration_id == ana.id)
    ).all()
    assert actions == ["signed_up", "checked_in", "check_in_undone"]


def test_cancelled_and_waitlisted_are_still_refused_on_every_day(
    at_the_door, mission, make_event, sign_up
):
    from eventreg.services import registrations

    gone = registration_of(sign_up, mission)
    registrations.cancel(gone)
    assert scan(at_the_door, gone, mission)["result"] == "cancelled"
    assert day_check_ins(gone) == [] and first_check_in(gone) is None


def test_many_devices_scanning_one_ticket_on_the_second_day_admit_it_once(
    app, mission, staff, sign_up
):
    registration = registration_of(sign_up, mission)
    checkin.check_in(registration, staff=staff, scanned_at=at(local_day(-1), 9))
    body = {"secret": registration.ticket_secret, "event": mission.slug}
    headers = {"Authorization": f"Bearer {accounts.issue_api_token(staff)}"}
    devices = 10
    results = scan_from_devices(app, body, headers, devices)
    assert sorted(results) == ["already_checked_in"] * (devices - 1) + ["ok"]
    assert [day for day, _ in day_check_ins(registration)] == [local_day(-1), local_day(0)]
    admitted = db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "checked_in", AuditEntry.registration_id == registration.id)
    )
    assert admitted == 2


def test_a_first_scan_of_the_day_writes_four_rows_and_a_rescan_nothing(
    client, mission, staff, sign_up, statements
):
    registration = registration_of(sign_up, mission)
    headers = {"Authorization": f"Bearer {accounts.issue_api_token(staff)}"}
    body = {"secret": registration.ticket_secret, "event": mission.slug}
    statements.clear()
    assert client.post("/api/v1/checkin", json=body, headers=headers).json["result"] == "ok"
    # Token, event, the staff member's events, ticket; then the event's schedule again (its row
    # shared, its days), the row taken, the day's check-in, the first check-in and the audit row.
    reads, writes = ["SELECT"] * 6, ["UPDATE", "INSERT", "UPDATE", "INSERT"]
    assert statements == reads + writes
    statements.clear()
    again = client.post("/api/v1/checkin", json=body, headers=headers).get_json()
    assert again["result"] == "already_checked_in"
    assert again["checked_in_by"] == staff.email
    assert all(statement == "SELECT" for statement in statements)


@pytest.fixture
def statements(app):
    import sqlalchemy as sa

    sent = []

    def record(_conn, _cursor, statement, *_args):
        if not statement.startswith("BEGIN"):
            sent.append(statement.split(None, 1)[0])

    sa.event.listen(db.engine, "before_cursor_execute", record)
    yield sent
    sa.event.remove(db.engine, "before_cursor_execute", record)


# What organisers see afterwards.


@pytest.fixture
def attended(mission, staff, sign_up):
    """Ana came on the first two days, Ben only on the last, Carla never."""
    ana = registration_of(sign_up, mission, first_name="Ana", last_name="Silva")
    ben = registration_of(sign_up, mission, first_name="Ben", last_name="Jensen")
    carla = registration_of(sign_up, mission, first_name="Carla", last_name="Rossi")
    checkin.check_in(ana, staff=staff, scanned_at=at(local_day(-1), 9, 5))
    checkin.check_in(ana, staff=staff)
    # Ben's day: recorded as the door records it, a scan on the third day.
    db.session.add(
        DayCheckIn(registration=ben, day=local_day(1), checked_in_at=at(local_day(1), 9, 2))
    )
    ben.checked_in_at = at(local_day(1), 9, 2)
    db.session.commit()
    return ana, ben, carla


@pytest.fixture
def organiser(client, auth, make_user):
    make_user("organiser")
    auth.login("organiser@example.org")
    return client


def test_the_exports_have_a_column_per_day(organiser, mission, attended):
    response = organiser.get(f"/admin/events/{mission.slug}/attendees.csv?labels=yes")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    columns = [f"attended_{local_day(n).isoformat()}" for n in (-1, 0, 1)]
    header = next(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert header[len(exports.HEADER) : len(exports.HEADER) + 3] == columns
    by_name = {row["first_name"]: [row[column] for column in columns] for row in rows}
    assert by_name == {
        "Ana": ["yes", "yes", "no"],
        "Ben": ["no", "no", "yes"],
        "Carla": ["no", "no", "no"],
    }
    assert {row["first_name"]: row["Attended"] for row in rows}["Ben"] == "yes"

    sheet = load_workbook(
        io.BytesIO(organiser.get(f"/admin/events/{mission.slug}/attendees.xlsx").data)
    )["Attendees"]
    sheet_rows = list(sheet.iter_rows(values_only=True))
    days = slice(len(exports.HEADER), len(exports.HEADER) + 3)
    assert list(sheet_rows[0][days]) == columns
    first_name = sheet_rows[0].index("first_name")
    assert {row[first_name]: list(row[days]) for row in sheet_rows[1:]} == by_name


def test_a_one_day_events_export_and_the_programmes_keep_their_columns(
    organiser, mission, attended, make_event
):
    one_day = make_event()
    for url in (f"/admin/events/{one_day.slug}/attendees.csv", "/admin/attendees.csv"):
        header = next(csv.reader(io.StringIO(organiser.get(url).data.decode("utf-8-sig"))))
        assert tuple(header) == exports.HEADER


def test_the_statistics_count_attendance_per_day(organiser, mission, attended):
    stats = statistics.event_statistics(mission)
    assert stats.attendance_by_day == [(local_day(-1), 1), (local_day(0), 1), (local_day(1), 1)]
    assert stats.totals.attended == 2
    page = organiser.get(f"/admin/events/{mission.slug}/statistics").get_data(as_text=True)
    assert "Attendance per day" in page
    assert statistics.programme_statistics().attendance_by_day == []


def test_the_attendance_list_shows_each_days_check_in(organiser, mission, attended):
    _ana, ben, _carla = attended
    page = organiser.get(f"/admin/events/{mission.slug}").get_data(as_text=True)
    assert page.count('<th scope="col" class="day-attendance">') == 3
    assert "09:05" in page and "09:02" in page
    assert page.count("not checked in") == 6  # Ana one day, Ben two, Carla three
    details = organiser.get(f"/admin/registrations/{ben.reference}").get_data(as_text=True)
    assert "Checked in on" in details


def test_a_certificate_states_the_hours_of_the_days_attended(mission, attended, tmp_path):
    _ana, ben, _carla = attended
    ended = utcnow() - timedelta(days=1)
    for day in mission.days:  # the whole mission moved a week back: it has ended
        day.starts_at -= timedelta(days=7)
        day.ends_at -= timedelta(days=7)
    mission.starts_at, mission.ends_at = mission.days[0].starts_at, mission.days[-1].ends_at
    for check_in in ben.day_check_ins:
        check_in.day -= timedelta(days=7)
    db.session.commit()
    assert mission.ends_at < ended
    path = tmp_path / "certificate.pdf"
    path.write_bytes(certificate_pdf(certificates.issue(ben)))
    text_of = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
    assert "4 hours" in text_of.stdout  # the third day only, 9:00-13:00
    assert "21.5" not in text_of.stdout
    assert "Days attended" in text_of.stdout


def test_the_upgrade_gives_each_check_in_to_the_day_it_fell_on(backend, tmp_path):
    """Migration 0017: a check-in recorded before days were told apart counts for its day in the
    event's zone (00:30 in Rome is still 23:30 UTC of the day before); a one-day event's none."""
    with migrated_from("0016_folded_names", backend, tmp_path) as upgrade_rest:
        statements = [
            "INSERT INTO event (id, slug, title, description, kind, mode, timezone, starts_at,"
            " ends_at, host_partner, registration_opens_at, registration_closes_at,"
            " translations, status, created_at, updated_at) VALUES"
            " (1, 'multi', 't', '', 'mission', 'in_person', 'Europe/Rome', '2026-11-23 08:00:00',"
            " '2026-11-25 17:00:00', 'h', '2026-10-01', '2026-11-01', '{}', 'published',"
            " '2026-01-01', '2026-01-01'),"
            " (2, 'one', 't', '', 'mission', 'in_person', 'Europe/Rome', '2026-11-23 08:00:00',"
            " '2026-11-23 17:00:00', 'h', '2026-10-01', '2026-11-01', '{}', 'published',"
            " '2026-01-01', '2026-01-01')",
            "INSERT INTO event_day (event_id, starts_at, ends_at) VALUES"
            " (1, '2026-11-23 08:00:00', '2026-11-23 17:00:00'),"
            " (1, '2026-11-24 08:00:00', '2026-11-24 17:00:00'),"
            " (1, '2026-11-25 08:00:00', '2026-11-25 17:00:00')",
            "INSERT INTO registrant (id, first_name, last_name, search_name, email, organisation,"
            " country, target_group, language, network_opt_in, consent_at,"
            " privacy_notice_version, manage_key, created_at, updated_at) VALUES"
            " (1, 'A', 'B', 'a b', 'a@example.org', '', 'IT', 'business', 'it', :no,"
            " '2026-01-01', 'v', 'k', '2026-01-01', '2026-01-01')",
            "INSERT INTO registration (id, reference, registrant_id, event_id, status,"
            " ticket_secret, calendar_sequence, created_at, checked_in_at) VALUES"
            " (1, 'ER-1', 1, 1, 'confirmed', 's1', 0, '2026-01-01', '2026-11-23 23:30:00'),"
            " (2, 'ER-2', 1, 2, 'confirmed', 's2', 0, '2026-01-01', '2026-11-23 08:10:00')",
        ]
        for statement in statements:
            db.session.execute(text(statement), {"no": False})
        db.session.commit()
        upgrade_rest()
        rows = db.session.execute(
            text("SELECT registration_id, day, checked_in_at FROM day_check_in")
        ).all()
    assert [(r[0], str(r[1]), str(r[2])[:19]) for r in rows] == [
        (1, "2026-11-24", "2026-11-23 23:30:00")
    ]


def test_the_persons_copy_of_their_data_lists_each_days_check_in(mission, attended):
    from eventreg.services import privacy

    ana, _ben, _carla = attended
    (exported,) = privacy.export_data(ana.registrant)["registrations"]
    moments = [datetime.fromisoformat(m) for m in exported["checked_in_on_days"]]
    assert moments[0] == at(local_day(-1), 9, 5)
    assert [m.astimezone(ROME).date() for m in moments] == [local_day(-1), local_day(0)]


@pytest.mark.sqlite_only  # the pages are the same on both databases
@pytest.mark.parametrize("language", ["en", "bg"])
def test_the_per_day_pages_reflow_at_320px_and_pass_axe(
    new_context, live_server, mission, attended, came_on_another_day, make_user, language
):
    from tests.support.accessibility import logged_in
    from tests.test_accessibility import audit

    make_user("organiser")
    _ana, ben, _carla = attended
    page = logged_in(new_context, live_server, language, width=320)
    paths = [
        f"/admin/events/{mission.slug}",
        f"/admin/events/{mission.slug}/statistics",
        f"/admin/registrations/{ben.reference}",
    ]
    report = {path: audit(page, live_server + path, language) for path in paths}
    assert {path: found for path, found in report.items() if found} == {}


# Undoing a mistake: the check-in just made, whatever the clock says since.


@pytest.fixture
def last_week(make_event, staff):
    """A mission that ran on three days up to yesterday, Rome time, with the door's staff."""
    return door_mission(make_event, staff, days_around_today((-3, -2, -1), ROME))


def test_a_mistake_at_23_50_is_undone_after_midnight_and_nobodys_real_day(last_week, staff, added):
    """Midnight in Rome: 23:50 and 00:10 local are 22:50 and 23:10 UTC of one date, so only
    the event's own zone tells the two days apart."""
    ana = added(last_week)
    carla = added(last_week)
    checkin.check_in(ana, staff=staff, scanned_at=at(local_day(-3), 9))  # she came that day
    mistake = at(local_day(-2), 23, 50)
    checkin.check_in(ana, staff=staff, scanned_at=mistake)
    checkin.check_in(carla, staff=staff, scanned_at=at(local_day(-2), 17))  # she came
    after_midnight = at(local_day(-1), 0, 10)
    assert after_midnight.astimezone(ROME).date() != mistake.astimezone(ROME).date()

    db.session.expire_all()
    assert checkin.undoable_check_in(ana, after_midnight).checked_in_at == mistake
    undone = checkin.undo_check_in(ana, staff=staff, now=after_midnight)
    assert (undone.checked_in_at, undone.day) == (mistake, local_day(-2))
    assert [day for day, _ in day_check_ins(ana)] == [local_day(-3)]
    # Carla's check-in of the evening before is real attendance: no undo takes it by accident.
    assert checkin.undoable_check_in(carla, after_midnight) is None
    assert checkin.undo_check_in(carla, staff=staff, now=after_midnight) is None
    assert [day for day, _ in day_check_ins(carla)] == [local_day(-2)]
    # Ana's day before, now her latest, is no mistake just made either.
    assert checkin.undo_check_in(ana, staff=staff, now=after_midnight) is None
    assert first_check_in(ana) == at(local_day(-3), 9)


def test_door_staff_undo_a_named_days_check_in_on_the_page_and_the_api(
    client, auth, last_week, staff, added
):
    ana = added(last_week)
    ben = added(last_week)
    auth.login(staff.email)
    for registration in (ana, ben):
        answer = client.post(
            f"/checkin/{last_week.slug}/registrations/{registration.reference}/checkin",
            json={"scanned_at": at(local_day(-2), 23, 50).isoformat(), "any_day": True},
        ).get_json()
        assert answer["day"] == local_day(-2).isoformat()  # what the page's undo names
    checkin.check_in(ana, staff=staff, scanned_at=at(local_day(-1), 9))
    url = f"/checkin/{last_week.slug}/registrations/{ana.reference}/undo"

    nothing = client.post(url, json={"day": local_day(-3).isoformat()}).get_json()
    assert nothing["undone"] is False
    assert nothing["message"].startswith("Nothing to undo: no check-in on ")
    undone = client.post(url, json={"day": local_day(-2).isoformat()}).get_json()
    assert undone["undone"] is True and undone["day"] == local_day(-2).isoformat()
    assert undone["message"].startswith("Check-in of ") and undone["message"].endswith(" undone")
    assert [day for day, _ in day_check_ins(ana)] == [local_day(-1)]
    bad = client.post(url, json={"day": "yesterday"})
    assert bad.status_code == 422 and [day for day, _ in day_check_ins(ana)] == [local_day(-1)]

    client = client.application.test_client()  # a scanner app: a token, no session
    headers = {"Authorization": f"Bearer {accounts.issue_api_token(staff)}"}
    body = {"event": last_week.slug, "secret": ben.ticket_secret}
    latest = client.post("/api/v1/checkin/undo", json=body, headers=headers).get_json()
    assert latest["undone"] is False  # the last check-in is days old: name its day
    named = client.post(
        "/api/v1/checkin/undo", json=body | {"day": local_day(-2).isoformat()}, headers=headers
    ).get_json()
    assert named == {
        "undone": True,
        "reference": ben.reference,
        "checked_in_at": at(local_day(-2), 23, 50).isoformat(),
        "day": local_day(-2).isoformat(),
    }
    assert day_check_ins(ben) == [] and first_check_in(ben) is None
    unknown = body | {"secret": "x" * 22}
    assert client.post("/api/v1/checkin/undo", json=unknown, headers=headers).status_code == 404


def test_the_door_offers_to_undo_todays_check_in_not_an_earlier_days(
    at_the_door, mission, staff, sign_up
):
    ana = registration_of(sign_up, mission)
    checkin.check_in(ana, staff=staff, scanned_at=at(local_day(-1), 10))
    (person,) = at_the_door.get(
        f"/checkin/{mission.slug}/search", query_string={"q": ana.reference}
    ).get_json()["results"]
    assert (person["can_undo"], person["undo_day"]) == (False, None)
    checkin.check_in(ana, staff=staff)
    (person,) = at_the_door.get(
        f"/checkin/{mission.slug}/search", query_string={"q": ana.reference}
    ).get_json()["results"]
    assert (person["can_undo"], person["undo_day"]) == (True, local_day(0).isoformat())


# Moving a mission's days after people were checked in on them.


def days_of(event) -> list[date]:
    db.session.expire_all()
    return db.session.get(type(event), event.id).local_dates


def test_the_form_refuses_to_move_a_day_with_check_ins_and_changes_nothing(
    organiser, mission, attended
):
    """Ana came on the first two days, Ben on the third: the third cannot move to the fourth."""
    from tests.support.admin_forms import LOCAL, edit_form

    before = days_of(mission)
    moved = "\n".join(
        [
            f"{local_day(-1)} 09:00-18:00",
            f"{local_day(0)} 08:30-17:00",
            f"{local_day(2)} 09:00-13:00",
        ]
    )
    form = edit_form(
        mission, agenda=moved, ends_at=at(local_day(2), 13).strftime(LOCAL), title="Renamed"
    )
    page = organiser.post(f"/admin/events/{mission.slug}/edit", data=form)
    assert page.status_code == 422 or page.status_code == 200
    text = page.get_data(as_text=True)
    day = local_day(1)
    assert f"Check-ins are recorded on {day:%-d %B %Y} (1 check-in)" in text
    assert "Nothing was changed." in text
    assert days_of(mission) == before
    assert db.session.get(type(mission), mission.id).title != "Renamed"

    # Hours changed and a day added: every checked-in day is still a day of the mission.
    kept = "\n".join([moved.rsplit("\n", 1)[0], f"{day} 10:00-13:00", f"{local_day(2)} 9:00-12:00"])
    form = edit_form(mission, agenda=kept, ends_at=at(local_day(2), 12).strftime(LOCAL))
    saved = organiser.post(f"/admin/events/{mission.slug}/edit", data=form)
    assert saved.status_code == 302
    assert days_of(mission) == [local_day(n) for n in (-1, 0, 1, 2)]


def test_programme_update_refuses_to_leave_check_ins_outside_the_days(
    app, runner, tmp_path, sign_up
):
    from eventreg.models import Event
    from eventreg.services.programme import SHIPPED_PROGRAMME, load_programme
    from tests.test_programme import edited_programme

    load_programme()
    bergamo = db.session.scalar(select(Event).where(Event.slug == "mission-bergamo"))
    last_day = date(2027, 3, 26)
    came = [registration_of(sign_up, bergamo, first_name=name) for name in ("Ana", "Ben")]
    for registration in came:
        db.session.add(
            DayCheckIn(registration=registration, day=last_day, checked_in_at=at(last_day, 9))
        )
    db.session.commit()

    moved = tmp_path / "moved.toml"  # the last day, its titles in every language, a day on
    moved.write_text(SHIPPED_PROGRAMME.read_text("utf-8").replace("2027-03-26", "2027-03-27"))
    dry_run = runner.invoke(args=["programme", "load", str(moved), "--update"])
    assert dry_run.exit_code != 0 and "refused: 2 check-in(s)" in dry_run.output
    shown = runner.invoke(args=["programme", "load", str(moved), "--update", "--yes"])
    assert shown.exit_code != 0
    assert "refused: 2 check-in(s) recorded on 2027-03-26" in shown.output
    assert "nothing changed" in shown.output and "mission-bergamo: 2027-03-26 (2)" in shown.output
    assert days_of(bergamo) == [date(2027, 3, 24), date(2027, 3, 25), last_day]

    longer = edited_programme(
        tmp_path,
        ("end = 13:00:00", "end = 14:00:00"),
        ("ends_at = 2027-03-26T13:00:00", "ends_at = 2027-03-26T14:00:00"),
    )
    applied = runner.invoke(args=["programme", "load", str(longer), "--update", "--yes"])
    assert applied.exit_code == 0, applied.output
    assert "Applied: 0 created, 1 updated." in applied.output


# A one-day event records its check-ins on the registration only (no day rows): its day is
# guarded all the same, and they become day check-ins when it is given more days.


def one_day_yesterday(make_event):
    """A one-day event yesterday, Rome time, registration still open."""
    now = utcnow()
    return make_event(
        starts_at=at(local_day(-1), 9),
        ends_at=at(local_day(-1), 18),
        registration_opens_at=now - timedelta(days=10),
        registration_closes_at=now + timedelta(hours=1),
    )


def one_day_today(make_event, make_user):
    """A one-day event today (00:05-23:55 Rome time), open for sign-ups a minute more, and the
    staff who keep its door."""
    now = utcnow()
    event = make_event(
        starts_at=at(local_day(0), 0, 5),
        ends_at=at(local_day(0), 23, 55),
        registration_opens_at=now - timedelta(days=10),
        registration_closes_at=now + timedelta(minutes=1),
    )
    door = make_user("checkin", "door@example.org")
    accounts.assign_checkin_events(door, [event])
    return event, door


def test_a_one_day_event_with_check_ins_cannot_move_to_another_date(
    organiser, make_event, make_user, added
):
    from tests.support.admin_forms import LOCAL, edit_form

    event = one_day_yesterday(make_event)
    door = make_user("checkin", "door@example.org")
    ana = added(event)
    assert checkin.check_in(ana, staff=door, scanned_at=at(local_day(-1), 10)).result == "ok"
    # Checked in anyway the day before: that day is no day of the event, nothing new is left out.
    ben = added(event)
    early = checkin.check_in(ben, staff=door, scanned_at=at(local_day(-2), 17), any_day=True)
    assert early.result == "ok"

    moved = edit_form(
        event,
        starts_at=at(local_day(6), 9).strftime(LOCAL),
        ends_at=at(local_day(6), 18).strftime(LOCAL),
        title="Renamed",
    )
    page = organiser.post(f"/admin/events/{event.slug}/edit", data=moved)
    assert page.status_code in (200, 422)
    text = page.get_data(as_text=True)
    assert f"Check-ins are recorded on {local_day(-1):%-d %B %Y} (1 check-in)" in text
    assert "Nothing was changed." in text
    assert days_of(event) == [local_day(-1)]
    assert db.session.get(type(event), event.id).title != "Renamed"

    # Longer hours on the same day lose nobody's check-in.
    longer = edit_form(event, ends_at=at(local_day(-1), 20).strftime(LOCAL))
    assert organiser.post(f"/admin/events/{event.slug}/edit", data=longer).status_code == 302


def test_programme_update_refuses_to_move_a_one_day_event_with_check_ins(
    app, runner, tmp_path, sign_up, make_user
):
    from eventreg.models import Event
    from eventreg.services.programme import load_programme
    from tests.test_programme import edited_programme

    load_programme()
    torres = db.session.scalar(select(Event).where(Event.slug == "mission-torres-vedras"))
    ana = registration_of(sign_up, torres)
    came = datetime(2027, 4, 21, 10, tzinfo=ZoneInfo("Europe/Lisbon"))
    ana.checked_in_at = came  # as the door records it at a one-day event
    db.session.commit()

    moved = edited_programme(
        tmp_path,
        ("starts_at = 2027-04-21T09:30:00", "starts_at = 2027-04-22T09:30:00"),
        ("ends_at = 2027-04-21T16:30:00", "ends_at = 2027-04-22T16:30:00"),
    )
    shown = runner.invoke(args=["programme", "load", str(moved), "--update"])
    assert "refused: 1 check-in(s) recorded on 2027-04-21" in shown.output
    applied = runner.invoke(args=["programme", "load", str(moved), "--update", "--yes"])
    assert applied.exit_code != 0
    assert "mission-torres-vedras: 2027-04-21 (1)" in applied.output
    assert days_of(torres) == [date(2027, 4, 21)]


def test_programme_update_refuses_a_time_zone_that_moves_a_check_in_to_another_date(
    app, runner, tmp_path, sign_up
):
    from eventreg.models import Event
    from eventreg.services.programme import load_programme
    from tests.test_programme import edited_programme

    load_programme()
    torres = db.session.scalar(select(Event).where(Event.slug == "mission-torres-vedras"))
    ana = registration_of(sign_up, torres)
    ana.checked_in_at = datetime(2027, 4, 21, 22, 30, tzinfo=LISBON)  # 00:30 the next day in Sofia
    db.session.commit()

    sofia = edited_programme(tmp_path, ('timezone = "Europe/Lisbon"', 'timezone = "Europe/Sofia"'))
    shown = runner.invoke(args=["programme", "load", str(sofia), "--update"])
    refused = "refused: 1 check-in(s) recorded on 2027-04-21 would fall on another date"
    assert refused in shown.output
    applied = runner.invoke(args=["programme", "load", str(sofia), "--update", "--yes"])
    assert applied.exit_code != 0
    assert "new time zone would put the check-ins" in applied.output
    assert "mission-torres-vedras: 2027-04-21 (1)" in applied.output
    db.session.expire_all()
    assert db.session.get(Event, torres.id).timezone == "Europe/Lisbon"


def test_a_one_day_event_given_a_second_day_keeps_its_check_ins_on_their_day(
    organiser, make_event, make_user, sign_up
):
    """Ana came to a one-day event; a second day is added: she still came on the first, the
    door does not admit her again that day, and nobody else gets a day they did not come."""
    from tests.support.admin_forms import LOCAL, edit_form

    event, door = one_day_today(make_event, make_user)
    ana = registration_of(sign_up, event, first_name="Ana")
    registration_of(sign_up, event, first_name="Ben")
    assert checkin.check_in(ana, staff=door).result == "ok"
    came = first_check_in(ana)

    agenda = f"{local_day(0)} 00:05-23:55\n{local_day(1)} 09:00-18:00"
    form = edit_form(event, agenda=agenda, ends_at=at(local_day(1), 18).strftime(LOCAL))
    assert organiser.post(f"/admin/events/{event.slug}/edit", data=form).status_code == 302
    assert days_of(event) == [local_day(0), local_day(1)]
    assert day_check_ins(ana) == [(local_day(0), came)]

    text = organiser.get(f"/admin/events/{event.slug}/attendees.csv").data.decode("utf-8-sig")
    rows = {row["first_name"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}
    assert rows["Ana"]["attended"] == "yes"
    assert rows["Ana"][f"attended_{local_day(0)}"] == "yes"
    assert rows["Ana"][f"attended_{local_day(1)}"] == "no"
    assert rows["Ben"][f"attended_{local_day(0)}"] == "no"

    event = db.session.get(type(event), event.id)
    again = checkin.check_in(db.session.get(Registration, ana.id), staff=door)
    assert again.result == "already_checked_in"
    assert checkin.door_count(event).checked_in == 1
    # Its day now stands guarded like any mission day's.
    form = edit_form(
        event,
        agenda=f"{local_day(1)} 09:00-18:00\n{local_day(2)} 09:00-18:00",
        starts_at=at(local_day(1), 9).strftime(LOCAL),
        ends_at=at(local_day(2), 18).strftime(LOCAL),
    )
    refused = organiser.post(f"/admin/events/{event.slug}/edit", data=form)
    assert f"Check-ins are recorded on {local_day(0):%-d %B %Y}" in refused.get_data(as_text=True)


# The day a check-in counts for is the one stored with it: a new time zone that would put it
# on another date is refused, and an undo names the stored day whatever the zone says.


@pytest.fixture
def in_sofia(make_event, make_user):
    """A three-day mission in Sofia (yesterday to tomorrow, Lisbon's dates) with its door."""
    today = utcnow().astimezone(LISBON).date()
    days = [today + timedelta(days=n) for n in (-1, 0, 1)]
    agenda = [
        AgendaDay(datetime.combine(day, time(9), SOFIA), datetime.combine(day, time(18), SOFIA))
        for day in days
    ]
    now = utcnow()
    event = make_event(
        timezone="Europe/Sofia",
        starts_at=agenda[0].starts_at,
        ends_at=agenda[-1].ends_at,
        agenda=agenda,
        registration_opens_at=now - timedelta(days=10),
        registration_closes_at=now + timedelta(hours=1),
    )
    door = make_user("checkin", "door@example.org")
    accounts.assign_checkin_events(door, [event])
    return event, door, days


def check_in_at(registration, day: date, moment: datetime) -> None:
    """A check-in as the door stored it: for ``day``, made at ``moment``."""
    db.session.add(DayCheckIn(registration=registration, day=day, checked_in_at=moment))
    first = db.session.get(Registration, registration.id)
    if first.checked_in_at is None or moment < first.checked_in_at:
        first.checked_in_at = moment
    db.session.commit()


def test_a_new_time_zone_that_would_move_a_check_in_to_another_date_is_refused(
    organiser, in_sofia, sign_up
):
    from tests.support.admin_forms import edit_form

    event, door, days = in_sofia
    ana = registration_of(sign_up, event)
    check_in_at(ana, days[0], datetime.combine(days[0], time(10), SOFIA))
    check_in_at(ana, days[1], datetime.combine(days[1], time(0, 30), SOFIA))  # 23:30 in Lisbon

    page = organiser.post(
        f"/admin/events/{event.slug}/edit", data=edit_form(event, timezone="Europe/Lisbon")
    )
    assert page.status_code in (200, 422)
    text = page.get_data(as_text=True)
    assert (
        f"Check-ins recorded on {days[1]:%-d %B %Y} (1 check-in) would fall on another date "
        "in the new time zone." in text
    )
    assert "Nothing was changed." in text
    assert db.session.get(type(event), event.id, populate_existing=True).timezone == "Europe/Sofia"

    # Once that check-in is undone, nothing stands in the way: 10:00 stays on its date.
    assert checkin.undo_check_in(ana, staff=door, day=days[1]).day == days[1]
    saved = organiser.post(
        f"/admin/events/{event.slug}/edit", data=edit_form(event, timezone="Europe/Lisbon")
    )
    assert saved.status_code == 302
    assert db.session.get(type(event), event.id, populate_existing=True).timezone == "Europe/Lisbon"


def test_after_a_zone_corrected_before_the_guard_the_undo_names_the_stored_day(
    monkeypatch, client, auth, in_sofia, sign_up
):
    """Sofia corrected to Lisbon before such changes were refused: Ana came yesterday at 10:00
    and was scanned today at 00:30 Sofia time (stored for today; 22:30 yesterday in Lisbon).
    This morning the door offers to undo today's check-in, and the undo takes back today's."""
    event, door, days = in_sofia
    ana = registration_of(sign_up, event)
    check_in_at(ana, days[0], datetime.combine(days[0], time(10), SOFIA))
    scanned = datetime.combine(days[1], time(0, 30), SOFIA)
    check_in_at(ana, days[1], scanned)
    db.session.get(type(event), event.id).timezone = "Europe/Lisbon"
    db.session.commit()

    morning = datetime.combine(days[1], time(10), LISBON)
    monkeypatch.setattr(checkin, "utcnow", lambda: morning)
    auth.login(door.email)
    (person,) = client.get(
        f"/checkin/{event.slug}/search", query_string={"q": ana.reference}
    ).get_json()["results"]
    assert (person["can_undo"], person["undo_day"]) == (True, days[1].isoformat())
    assert person["badge"]["text"] == "Checked in today at 22:30"
    undone = client.post(
        f"/checkin/{event.slug}/registrations/{ana.reference}/undo",
        json={"day": person["undo_day"]},
    ).get_json()
    assert undone["undone"] is True and undone["day"] == days[1].isoformat()
    assert undone["message"] == f"Check-in of {days[1]:%-d %b %Y} undone"
    assert [day for day, _ in day_check_ins(ana)] == [days[0]]  # yesterday's real attendance

    # A scanner app's undo without a day answers with the stored day too.
    check_in_at(ana, days[1], scanned)
    headers = {"Authorization": f"Bearer {accounts.issue_api_token(door)}"}
    body = {"event": event.slug, "secret": ana.ticket_secret}
    answer = client.application.test_client().post(
        "/api/v1/checkin/undo", json=body, headers=headers
    )
    assert answer.get_json()["day"] == days[1].isoformat()
    assert [day for day, _ in day_check_ins(ana)] == [days[0]]


# Checked in anyway on a day the mission did not run: still in a day column, with its date.


@pytest.fixture
def came_on_another_day(at_the_door, mission, attended, sign_up):
    """Dana was admitted the day before the mission began, staff confirming the 'not today'."""
    dana = registration_of(sign_up, mission, first_name="Dana", last_name="Petrova")
    before = at(local_day(-2), 15, 30)
    answer = scan(at_the_door, dana, mission, scanned_at=before.isoformat())
    assert answer["result"] == "not_today"
    answer = scan(at_the_door, dana, mission, scanned_at=before.isoformat(), any_day=True)
    assert answer["result"] == "ok"
    return dana


def test_a_check_in_on_another_day_shows_in_the_exports_other_days_column(
    organiser, mission, attended, came_on_another_day
):
    response = organiser.get(f"/admin/events/{mission.slug}/attendees.csv")
    text = response.data.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert header[len(exports.HEADER) + 3] == "attended_other_days"
    rows = {row["first_name"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}
    day_columns = [name for name in header if name.startswith("attended_")]
    # Whoever attended through a check-in has it in a day column, and nobody else has one.
    for row in rows.values():
        in_a_column = any(row[name] not in ("", "no") for name in day_columns)
        assert in_a_column == (row["attended"] == "yes"), row["first_name"]
    assert rows["Dana"]["attended_other_days"] == local_day(-2).isoformat()
    assert rows["Ana"]["attended_other_days"] == ""

    sheet = load_workbook(
        io.BytesIO(organiser.get(f"/admin/events/{mission.slug}/attendees.xlsx").data)
    )["Attendees"]
    sheet_rows = list(sheet.iter_rows(values_only=True))
    other = sheet_rows[0].index("attended_other_days")
    first_name = sheet_rows[0].index("first_name")
    by_name = {row[first_name]: row[other] for row in sheet_rows[1:]}
    assert by_name["Dana"] == local_day(-2).isoformat() and not by_name["Ana"]


def test_the_list_and_the_statistics_show_a_check_in_on_another_day(
    organiser, mission, attended, came_on_another_day
):
    page = organiser.get(f"/admin/events/{mission.slug}").get_data(as_text=True)
    assert page.count('<th scope="col" class="day-attendance">') == 4
    assert "Other days" in page and "15:30" in page
    assert page.count("not checked in on another day") == 3  # Ana, Ben, Carla

    stats = statistics.event_statistics(mission)
    assert stats.attendance_on_other_days == [(local_day(-2), 1)]
    on_days = sum(count for _, count in stats.attendance_by_day + stats.attendance_on_other_days)
    assert on_days == 4  # Ana twice, Ben, Dana: every check-in counted on its day
    assert stats.totals.attended == 3
    text = organiser.get(f"/admin/events/{mission.slug}/statistics").get_data(as_text=True)
    assert "not a day of the event: checked in anyway" in text


def test_without_check_ins_on_other_days_the_list_has_no_column_for_them(
    organiser, mission, attended
):
    page = organiser.get(f"/admin/events/{mission.slug}").get_data(as_text=True)
    assert "Other days" not in page
    assert statistics.event_statistics(mission).attendance_on_other_days == []


def test_an_exports_day_columns_and_rows_are_read_at_one_moment(
    app, mission, staff, sign_up, monkeypatch
):
    # A check-in between the read of the day columns and the read of the rows showed the
    # person as attended with no day ticked: every check-in behind "attended" must show in a
    # day column. Another worker scans the ticket exactly then.
    ana = registration_of(sign_up, mission)
    read_days = exports._days_attended

    def days_then_a_scan(event):
        days = read_days(event)
        with app.app_context():
            checkin.check_in(db.session.get(Registration, ana.id), staff=staff)
            db.session.remove()
        return days

    monkeypatch.setattr(exports, "_days_attended", days_then_a_scan)
    with app.test_request_context():
        (row,) = list(exports.attendee_rows(db.session.get(type(mission), mission.id)))
    days = [row.day_0, row.day_1, row.day_2]
    assert (row.attended, days) == (False, ["no", "no", "no"])  # the moment before the scan


# A scan and a change of the days at the same moment: the door decides on the days as they are
# when it writes, so a check-in never lands on a day the change has just taken away.


def scan_while_the_days_change(app, monkeypatch, event, change: dict, organiser) -> None:
    """Another worker saves ``change`` to the event just after the door read the ticket, before
    it writes the check-in (on PostgreSQL, also while it waits for the door's share lock)."""
    read_holder = checkin._holder
    changed = []

    def then_the_change(*args, **kwargs):
        holder = read_holder(*args, **kwargs)
        if not changed:
            changed.append(True)
            with app.app_context():
                fresh = db.session.get(type(event), event.id)
                events.update_event(fresh, change, actor=db.session.get(User, organiser.id))
                db.session.remove()
        return holder

    monkeypatch.setattr(checkin, "_holder", then_the_change)


def test_a_scan_while_today_is_taken_out_of_the_agenda_is_not_written_on_it(
    app, at_the_door, mission, sign_up, make_user, monkeypatch
):
    ana = registration_of(sign_up, mission)
    other_days = [day for day in mission.agenda if day.starts_at.date() != local_day(0)]
    scan_while_the_days_change(
        app, monkeypatch, mission, {"agenda": other_days}, make_user("organiser")
    )

    answer = scan(at_the_door, ana, mission)

    assert answer["result"] == "not_today"  # the door asks staff to confirm, as on any off day
    assert day_check_ins(ana) == []
    assert days_of(mission) == [local_day(-1), local_day(1)]


def test_a_scan_while_a_one_day_event_moves_to_another_date_is_not_written(
    app, client, auth, make_event, make_user, sign_up, monkeypatch
):
    event, door = one_day_today(make_event, make_user)
    auth.login(door.email)
    ana = registration_of(sign_up, event)
    next_week = {"starts_at": at(local_day(7), 9), "ends_at": at(local_day(7), 18)}
    scan_while_the_days_change(app, monkeypatch, event, next_week, make_user("organiser"))

    answer = scan(client, ana, event)

    assert answer["result"] == "not_today"
    assert first_check_in(ana) is None
    assert days_of(event) == [local_day(7)]


def test_a_change_of_the_days_during_a_scans_write_waits_for_it_and_is_refused(
    app, at_the_door, mission, sign_up, make_user, monkeypatch
):
    """The other order: the door is writing when the organiser saves. On PostgreSQL the change
    would not see the check-in being written, and left it on a day no longer the event's."""
    ana = registration_of(sign_up, mission)
    organiser = make_user("organiser")
    other_days = [day for day in mission.agenda if day.starts_at.date() != local_day(0)]
    outcome = {}

    def change_the_days():
        with app.app_context():
            fresh = db.session.get(type(mission), mission.id)
            try:
                events.update_event(
                    fresh, {"agenda": other_days}, actor=db.session.get(User, organiser.id)
                )
                outcome["saved"] = True
            except events.CheckInsOutsideDays as refused:
                outcome["refused"] = refused.left_out
            finally:
                db.session.remove()

    organiser_saves = threading.Thread(target=change_the_days)
    mark = checkin._mark_checked_in

    def while_the_organiser_saves(*args):
        organiser_saves.start()
        organiser_saves.join(timeout=1.0)
        outcome["waited"] = organiser_saves.is_alive()
        return mark(*args)

    monkeypatch.setattr(checkin, "_mark_checked_in", while_the_organiser_saves)
    answer = scan(at_the_door, ana, mission)
    organiser_saves.join(timeout=30)

    assert answer["result"] == "ok"
    assert outcome == {"waited": True, "refused": {local_day(0): 1}}
    assert [day for day, _ in day_check_ins(ana)] == [local_day(0)]
    assert days_of(mission) == [local_day(-1), local_day(0), local_day(1)]


def waiting_for_a_row_lock(app) -> bool:
    with app.app_context(), db.engine.connect() as connection:
        return bool(
            connection.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar()
        )


@pytest.mark.postgresql_only  # SQLite's BEGIN IMMEDIATE waits before the door reads anything
def test_a_scan_that_waits_for_a_change_of_the_days_sees_the_change(
    app, at_the_door, mission, sign_up, make_user
):
    """The organiser's change holds the event's row when the door asks for it: the door's
    statement that waited reads other rows as they were when it began, so the days must be read
    by a statement of their own, after the wait."""
    ana = registration_of(sign_up, mission)
    organiser = make_user("organiser")
    other_days = [day for day in mission.agenda if day.starts_at.date() != local_day(0)]
    holding, release = threading.Event(), threading.Event()

    def change_the_days():
        with app.app_context():
            fresh = db.session.get(type(mission), mission.id)
            with write_transaction():  # the change's own block joins this one: commit below
                events.update_event(
                    fresh, {"agenda": other_days}, actor=db.session.get(User, organiser.id)
                )
                db.session.flush()
                holding.set()
                release.wait(20)
            db.session.remove()

    door_waited = []

    def release_when_the_door_waits():
        deadline = clock.monotonic() + 20
        while clock.monotonic() < deadline and not door_waited:
            if waiting_for_a_row_lock(app):
                door_waited.append(True)
            else:
                clock.sleep(0.02)
        release.set()

    organiser_saves = threading.Thread(target=change_the_days)
    organiser_saves.start()
    assert holding.wait(20)
    watcher = threading.Thread(target=release_when_the_door_waits)
    watcher.start()

    answer = scan(at_the_door, ana, mission)
    organiser_saves.join(30)
    watcher.join(30)

    assert door_waited  # the door's read waited for the organiser's lock
    assert days_of(mission) == [local_day(-1), local_day(1)]  # the change was saved
    assert day_check_ins(ana) == []  # so no check-in is left on today
    assert answer["result"] == "not_today"
