"""The check-in page in real Chromium: a fake camera shows real tickets from real e-mails."""

import json
import re
import time
from datetime import datetime, timedelta
from datetime import time as time_of_day
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import AuditEntry, DayCheckIn, Registration, utcnow
from eventreg.services import accounts, outbox, registrations
from eventreg.services.tickets import qr_png
from tests.support.accessibility import violations
from tests.support.browser import wait_for_scripts
from tests.support.door import days_around_today, door_mission
from tests.support.factories import PASSWORD
from tests.support.mail import smtp_config


@pytest.fixture
def app_config(smtp):
    # The browser talks to 127.0.0.1, and the page sends its CSRF token as in production.
    return smtp_config(smtp) | {"SERVER_NAME": None, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def door(make_event):
    """An in-person event whose doors are open now."""
    now = utcnow()
    return make_event(
        title="Study mission to Bergamo",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=7),
        registration_opens_at=now - timedelta(days=10),
        registration_closes_at=now + timedelta(hours=1),
        capacity=None,
    )


@pytest.fixture
def staff(make_user, door):
    user = make_user("checkin", "door@example.org")
    accounts.assign_checkin_events(user, [door])
    return user


@pytest.fixture
def tickets(smtp):
    """Send the outbox through the real SMTP server; the QR image of each ticket, by e-mail."""

    def _received() -> dict[str, bytes]:
        sent = outbox.deliver_all().sent
        db.session.rollback()
        found = {}
        for message in smtp.inbox.wait_for(sent):
            qr = next((p for p in message.walk() if p.get("Content-ID") == "<qr>"), None)
            if qr is not None:
                found[message["To"].addresses[0].addr_spec] = qr.get_payload(decode=True)
        return found

    return _received


@pytest.fixture
def open_door(new_context, live_server, door):
    """A phone at the door: a fresh browser context, logged in, on the check-in page."""

    def _open(user, *, fake_clock=False, **options):
        page = new_context(**options).new_page()
        if fake_clock:
            # Runs in step with real time until the test moves it on; from a moment, if given.
            page.clock.install(**({} if fake_clock is True else {"time": fake_clock}))
        log_in_at_the_door(page, live_server, user, door)
        wait_for_scripts(page)  # the URL changes before the page's module has run
        return page

    return _open


def log_in_at_the_door(page, live_server, user, event) -> None:
    page.goto(f"{live_server}/login?next=/checkin/{event.slug}")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server}/checkin/{event.slug}")


def registration_of(registrant) -> Registration:
    db.session.rollback()
    return db.session.get(Registration, registrant.registrations[0].id, populate_existing=True)


def check_ins_recorded() -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "checked_in")
    )


def test_scanning_real_tickets_green_then_already_checked_in_then_cancelled_red(
    open_door, fake_camera, tickets, door, staff, sign_up
):
    ana = sign_up(
        door,
        first_name="Ana",
        last_name="Silva",
        email="ana@example.pt",
        organisation="Cooperativa Terra Viva",
        needs="Step-free access",
    )
    gone = sign_up(door, first_name="Ivan", last_name="Petrov", email="ivan@example.bg")
    qr = tickets()
    registrations.cancel(gone.registrations[0])

    fake_camera.show(qr["ana@example.pt"])
    page = open_door(staff)
    result = page.locator("#result")
    expect(result).to_have_class(re.compile(r"\bdoor-result-ok\b"))
    expect(page.locator("#result-headline")).to_have_text("Checked in")
    expect(page.locator("#result-name")).to_have_text("Ana Silva")
    expect(page.locator("#result-organisation")).to_have_text("Cooperativa Terra Viva")
    expect(page.locator("#result-needs")).to_have_text("Needs: Step-free access")
    expect(page.locator("#count-checked-in")).to_have_text("1")
    expect(page.locator("#count-confirmed")).to_have_text("1")
    checked_in = registration_of(ana)
    assert checked_in.checked_in_by_id == staff.id
    time = checked_in.checked_in_at.astimezone(door.zone).strftime("%H:%M")

    again = open_door(staff)  # another phone; the camera still sees Ana's ticket
    expect(again.locator("#result")).to_have_class(re.compile(r"\bdoor-result-warn\b"))
    expect(again.locator("#result-headline")).to_have_text(
        f"Already checked in at {time} by door@example.org"
    )
    expect(again.locator("#result-name")).to_have_text("Ana Silva")
    assert check_ins_recorded() == 1  # both phones still see the ticket: one check-in
    for phone in (page, again):
        phone.context.close()  # the fake camera restarts, and reads the next ticket

    fake_camera.show(qr["ivan@example.bg"])
    refused = open_door(staff)
    expect(refused.locator("#result")).to_have_class(re.compile(r"\bdoor-result-bad\b"))
    expect(refused.locator("#result-headline")).to_have_text(
        "Not admitted: this registration was cancelled"
    )
    expect(refused.locator("#result-name")).to_have_text("Ivan Petrov")
    assert registration_of(gone).checked_in_at is None
    assert registration_of(ana).checked_in_at == checked_in.checked_in_at
    assert check_ins_recorded() == 1


def test_find_a_person_by_hand_check_in_with_a_tap_and_undo(
    open_door, fake_camera, door, staff, sign_up
):
    fake_camera.show(None)
    ben = sign_up(door, first_name="Ben", last_name="Jensen", organisation="Odense Kommune")
    sign_up(door, first_name="Bente", last_name="Holm")
    page = open_door(staff)
    expect(page.locator("#camera-status")).to_have_text("Scanning")

    page.get_by_label("Name, reference or full e-mail address").fill("jensen")
    person = page.locator("#search-results li")
    expect(person).to_have_count(1)
    expect(person).to_contain_text("Ben Jensen")
    expect(person).to_contain_text("Odense Kommune")
    person.get_by_role("button", name="Check in").click()
    expect(page.locator("#result")).to_have_class(re.compile(r"\bdoor-result-ok\b"))
    expect(page.locator("#result-name")).to_have_text("Ben Jensen")
    expect(person.get_by_role("button", name="Undo check-in")).to_be_visible()
    expect(page.locator("#count-checked-in")).to_have_text("1")
    assert registration_of(ben).checked_in_by_id == staff.id

    page.locator("#result-undo").click()
    expect(page.locator("#result-headline")).to_have_text("Check-in undone")
    expect(person.get_by_role("button", name="Check in")).to_be_visible()
    expect(page.locator("#count-checked-in")).to_have_text("0")
    assert registration_of(ben).checked_in_at is None

    page.get_by_label("Name, reference or full e-mail address").fill(
        ben.registrations[0].reference.lower()
    )
    page.keyboard.press("Enter")
    expect(person).to_contain_text("Ben Jensen")


def test_a_name_typed_before_the_script_ran_is_searched(
    new_context, live_server, fake_camera, door, staff, sign_up
):
    """A fast finger on a slow phone: the page searches what the box holds when it starts."""
    fake_camera.show(None)
    sign_up(door, first_name="Ben", last_name="Jensen")
    page = new_context().new_page()
    held = []  # the page's script, kept from the page until the name is typed
    page.route("**/static/js/checkin/main.js", lambda route: held.append(route))
    log_in_at_the_door(page, live_server, staff, door)
    page.get_by_label("Name, reference or full e-mail address").fill("jensen")
    deadline = time.monotonic() + 15
    while not held:  # each call into the page lets Playwright hand over the held request
        assert time.monotonic() < deadline, "the page never asked for its script"
        page.evaluate("0")
    assert page.locator("#door").get_attribute("data-ready") == "false"

    held[0].continue_()
    wait_for_scripts(page)
    person = page.locator("#search-results li")
    expect(person).to_have_count(1)
    expect(person).to_contain_text("Ben Jensen")


def test_scans_while_offline_are_kept_and_sent_later_with_their_real_time(
    open_door, fake_camera, tickets, door, staff, sign_up
):
    ana = sign_up(door, first_name="Ana", last_name="Silva", email="ana@example.pt")
    qr = tickets()
    fake_camera.show(None)
    page = open_door(staff, fake_clock=True)
    expect(page.locator("#camera-status")).to_have_text("Scanning")
    context = page.context

    context.set_offline(True)
    fake_camera.show(qr["ana@example.pt"])
    page.get_by_role("button", name="Stop the camera").click()
    page.get_by_role("button", name="Start the camera").click()
    expect(page.locator("#result-headline")).to_have_text("Offline: scan kept on this device")
    banner = page.locator("#offline-banner")
    expect(banner).to_have_text("Offline — 1 scan waiting to be sent")
    # The ticket is still in view when the phone wakes 3 s later: a second scan, still one kept.
    expect(page.locator("#door")).to_have_attribute("data-scans", "1")
    page.clock.fast_forward(3000)
    expect(page.locator("#door")).to_have_attribute("data-scans", "2")
    expect(banner).to_have_text("Offline — 1 scan waiting to be sent")
    assert registration_of(ana).checked_in_at is None

    back_online = utcnow()
    context.set_offline(False)
    expect(banner).to_be_hidden()
    expect(page.locator("#recent li").first).to_contain_text("sent when back online")
    expect(page.locator("#count-checked-in")).to_have_text("1")
    checked_in_at = registration_of(ana).checked_in_at
    assert back_online - timedelta(seconds=10) < checked_in_at < back_online  # when scanned

    page.reload()  # nothing is left to send twice
    wait_for_scripts(page)  # the banner is hidden until the script has read the kept scans
    expect(page.locator("#count-checked-in")).to_have_text("1")
    expect(banner).to_be_hidden()
    assert check_ins_recorded() == 1


def test_a_scan_kept_offline_by_a_phone_whose_clock_is_wrong_counts_when_it_happened(
    open_door, fake_camera, tickets, door, staff, sign_up
):
    """The phone's clock is 14 hours behind: the scan it kept offline was recorded at the
    phone's time (or refused as not today). It sends its clock with the scan; the server
    corrects by how far off it is."""
    sign_up(door, first_name="Ana", last_name="Silva", email="ana@example.pt")
    qr = tickets()
    fake_camera.show(None)
    page = open_door(staff, fake_clock=utcnow() - timedelta(hours=14))
    expect(page.locator("#camera-status")).to_have_text("Scanning")
    page.context.set_offline(True)
    fake_camera.show(qr["ana@example.pt"])
    page.get_by_role("button", name="Stop the camera").click()
    page.get_by_role("button", name="Start the camera").click()
    expect(page.locator("#result-headline")).to_have_text("Offline: scan kept on this device")
    scanned = utcnow()

    page.context.set_offline(False)
    expect(page.locator("#offline-banner")).to_be_hidden()
    expect(page.locator("#count-checked-in")).to_have_text("1")
    (checked_in_at,) = db.session.scalars(select(Registration.checked_in_at)).all()
    assert scanned - timedelta(seconds=10) < checked_in_at < scanned + timedelta(seconds=10)


def test_the_page_at_phone_size_passes_axe(open_door, fake_camera, door, staff, sign_up):
    fake_camera.show(None)
    sign_up(door, first_name="Ben", last_name="Jensen")
    page = open_door(staff, bypass_csp=True)
    page.get_by_label("Name, reference or full e-mail address").fill("jensen")
    expect(page.locator("#search-results li")).to_have_count(1)
    assert violations(page) == []


# The door at phone size: nothing moves under a tap, late answers, not today

LAYOUT = ["#search-q", "#result", "#result-undo", "#camera-status", "#search-form button"]


@pytest.fixture
def open_page(new_context, live_server):
    """A phone logged in as ``user`` on the check-in page of ``event``."""

    def _open(user, event, *, fake_clock=False, **options):
        page = new_context(**options).new_page()
        if fake_clock:
            # Runs in step with real time until the test moves it on; from a moment, if given.
            page.clock.install(**({} if fake_clock is True else {"time": fake_clock}))
        log_in_at_the_door(page, live_server, user, event)
        wait_for_scripts(page)
        return page

    return _open


def layout(page) -> dict[str, float]:
    """Where each control sits on the page (not the screen: a tap may scroll it into view)."""
    return page.evaluate(
        "(selectors) => Object.fromEntries(selectors.map((s) => "
        "[s, document.querySelector(s).getBoundingClientRect().top + window.scrollY]))",
        LAYOUT,
    )


def ticket_of(registrant) -> bytes:
    return qr_png(registration_of(registrant).ticket_secret)


def test_the_first_tap_on_the_page_lands_where_it_was_aimed(
    open_page, fake_camera, door, staff, sign_up
):
    ana = sign_up(door, first_name="Ana", last_name="Silva")
    fake_camera.show(ticket_of(ana))
    page = open_page(staff, door)
    expect(page.locator("#result")).to_have_class(re.compile(r"\bdoor-result-ok\b"))
    expect(page.get_by_role("button", name="Turn on sound and vibration")).to_be_visible()
    before = layout(page)

    page.get_by_role("button", name="Undo check-in").click()  # the very first press

    expect(page.locator("#result-headline")).to_have_text("Check-in undone")
    assert registration_of(ana).checked_in_at is None
    assert layout(page) == before
    page.locator("#search-q").click()
    expect(page.locator("#search-q")).to_be_focused()


def test_the_first_tap_on_the_search_field_focuses_it(open_page, fake_camera, door, staff):
    fake_camera.show(None)
    page = open_page(staff, door)
    expect(page.locator("#camera-status")).to_have_text("Scanning")
    before = layout(page)
    page.locator("#search-q").click()
    expect(page.locator("#search-q")).to_be_focused()
    assert layout(page) == before


def test_not_today_is_amber_names_the_days_and_staff_can_confirm(
    open_page, fake_camera, make_event, make_user, sign_up
):
    later = utcnow() + timedelta(days=120)
    event = make_event(
        starts_at=later,
        ends_at=later + timedelta(days=2, hours=8),
        registration_opens_at=utcnow() - timedelta(days=1),
        registration_closes_at=utcnow() + timedelta(days=100),
    )
    user = make_user("checkin", "door@example.org")
    accounts.assign_checkin_events(user, [event])
    ana = sign_up(event, first_name="Ana", last_name="Silva")
    fake_camera.show(ticket_of(ana))
    page = open_page(user, event)

    result = page.locator("#result")
    expect(result).to_have_class(re.compile(r"\bdoor-result-amber\b"))
    expect(page.locator("#result-headline")).to_contain_text("Not today: this event runs on")
    expect(page.locator("#result-name")).to_have_text("Ana Silva")
    assert registration_of(ana).checked_in_at is None
    assert check_ins_recorded() == 0

    page.get_by_role("button", name="Check in anyway").click()
    expect(result).to_have_class(re.compile(r"\bdoor-result-ok\b"))
    assert registration_of(ana).checked_in_at is not None


def test_back_online_the_kept_panel_clears_and_a_late_refusal_is_shown(
    open_page, fake_camera, door, staff, sign_up
):
    fake_camera.show(None)
    page = open_page(staff, door, fake_clock=True)
    expect(page.locator("#camera-status")).to_have_text("Scanning")

    page.context.set_offline(True)
    fake_camera.show(qr_png("https://example.org/not-a-ticket"))
    page.get_by_role("button", name="Stop the camera").click()
    page.get_by_role("button", name="Start the camera").click()
    expect(page.locator("#result-headline")).to_have_text("Offline: scan kept on this device")

    page.context.set_offline(False)
    expect(page.locator("#offline-banner")).to_be_hidden()
    expect(page.locator("#result")).to_have_class(re.compile(r"\bdoor-result-bad\b"))
    expect(page.locator("#result-headline")).to_have_text("Not admitted: this code is not a ticket")
    expect(page.locator("#result-note")).to_contain_text("Scanned while offline")
    page.get_by_role("button", name="Stop the camera").click()  # no fresh scan of the code
    expect(page.locator("#camera-status")).to_have_text("The camera is off.")
    page.clock.fast_forward(9000)  # longer than a verdict normally stays
    expect(page.locator("#result")).to_have_class(re.compile(r"\bdoor-result-bad\b"))
    expect(page.locator("#result-note")).to_contain_text("Scanned while offline")


def test_back_online_an_admitted_kept_scan_replaces_the_offline_panel(
    open_page, fake_camera, door, staff, sign_up
):
    ana = sign_up(door, first_name="Ana", last_name="Silva")
    fake_camera.show(None)
    page = open_page(staff, door)
    expect(page.locator("#camera-status")).to_have_text("Scanning")
    page.context.set_offline(True)
    fake_camera.show(ticket_of(ana))
    page.get_by_role("button", name="Stop the camera").click()
    page.get_by_role("button", name="Start the camera").click()
    expect(page.locator("#result-headline")).to_have_text("Offline: scan kept on this device")

    page.context.set_offline(False)
    expect(page.locator("#result-headline")).not_to_have_text("Offline: scan kept on this device")
    expect(page.locator("#result-name")).to_have_text("Ana Silva")
    assert registration_of(ana).checked_in_at is not None


@pytest.mark.parametrize("viewport", [{"width": 360, "height": 640}, {"width": 390, "height": 844}])
def test_on_a_phone_the_wrong_event_verdict_fits_on_screen(
    open_page, fake_camera, door, staff, make_event, sign_up, viewport
):
    other = make_event(
        title="Study mission on socially responsible public procurement of social services in "
        "Torres Vedras and the Oeste region"
    )
    holder = sign_up(other, first_name="Maria", last_name="Conceição Gonçalves")
    fake_camera.show(ticket_of(holder))
    page = open_page(staff, door, viewport=viewport)

    expect(page.locator("#result")).to_have_class(re.compile(r"\bdoor-result-bad\b"))
    bottom = viewport["height"]
    for selector in ("#result-headline", "#result-name"):
        box = page.locator(selector).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= bottom, (selector, box)


def test_a_phone_offline_over_two_days_of_a_mission_keeps_a_scan_for_each_day(
    open_page, fake_camera, make_event, staff, sign_up
):
    rome = ZoneInfo("Europe/Rome")
    today = utcnow().astimezone(rome).date()
    days = days_around_today((-1, 0, 1), rome)
    mission = door_mission(make_event, staff, days)
    ana = sign_up(mission, first_name="Ana", last_name="Silva")
    fake_camera.show(None)
    page = new_page_at(open_page, staff, mission, days[0].starts_at + timedelta(hours=8))
    expect(page.locator("#camera-status")).to_have_text("Scanning")

    page.context.set_offline(True)  # yesterday evening, and the phone stays offline overnight
    fake_camera.show(ticket_of(ana))
    page.get_by_role("button", name="Stop the camera").click()
    page.get_by_role("button", name="Start the camera").click()
    banner = page.locator("#offline-banner")
    expect(banner).to_have_text("Offline — 1 scan waiting to be sent")
    page.get_by_role("button", name="Stop the camera").click()

    page.clock.set_system_time(utcnow())  # the next morning: the same ticket, a new day
    page.get_by_role("button", name="Start the camera").click()
    expect(banner).to_have_text("Offline — 2 scans waiting to be sent")

    page.context.set_offline(False)
    expect(banner).to_be_hidden()
    db.session.rollback()
    came = db.session.scalars(
        select(DayCheckIn.day).where(DayCheckIn.registration_id == ana.registrations[0].id)
    ).all()
    assert sorted(came) == [today - timedelta(days=1), today]


def without_the_phones_clock(route):
    body = route.request.post_data_json
    body.pop("sent_at")
    route.continue_(post_data=json.dumps(body))


def new_page_at(open_page, user, event, moment):
    """``open_page`` with the phone's clock set to ``moment`` (it then runs on from there)."""
    return open_page(user, event, fake_clock=moment)


def test_a_check_in_made_at_23_50_is_undone_on_the_door_page_after_midnight(
    open_page, fake_camera, make_event, staff, sign_up
):
    """The phone checked Ana in at 23:50 yesterday (Rome); it is a new day when staff press
    undo: the button takes back that check-in, not today's (there is none)."""
    rome = ZoneInfo("Europe/Rome")
    today = utcnow().astimezone(rome).date()
    days = days_around_today((-1, 0, 1), rome)
    mission = door_mission(make_event, staff, days)
    ana = sign_up(mission, first_name="Ana", last_name="Silva")
    fake_camera.show(None)
    evening = datetime.combine(today - timedelta(days=1), time_of_day(23, 50), tzinfo=rome)
    page = new_page_at(open_page, staff, mission, evening)
    # The phone's clock stands in for the hour here. The server would move the check-in by
    # how far that clock is off (it sends it as `sent_at`), so the check-in goes without it,
    # as a scanner app's does: the server then takes the phone's time.
    page.route("**/registrations/*/checkin", without_the_phones_clock)

    page.get_by_label("Name, reference or full e-mail address").fill("Silva")
    person = page.locator("#search-results li")
    person.get_by_role("button", name="Check in").click()
    expect(page.locator("#result")).to_have_class(re.compile(r"\bdoor-result-ok\b"))
    assert abs(registration_of(ana).checked_in_at - evening) < timedelta(minutes=1)

    page.locator("#result-undo").click()
    expect(page.locator("#result-headline")).to_have_text(re.compile(r"^Check-in of .* undone$"))
    db.session.rollback()
    assert registration_of(ana).checked_in_at is None
    assert db.session.scalars(select(DayCheckIn)).all() == []
