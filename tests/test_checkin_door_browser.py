"""The door in real Chromium at phone size: nothing moves under a tap, late answers, not today."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from eventreg.models import utcnow
from eventreg.services import accounts, tickets
from tests.conftest import PASSWORD
from tests.test_checkin_browser import (  # noqa: F401  (fixtures)
    app_config,
    check_ins_recorded,
    door,
    registration_of,
    staff,
)

LAYOUT = ["#search-q", "#result", "#result-undo", "#camera-status", "#search-form button"]


@pytest.fixture
def open_page(new_context, live_server):
    """A phone logged in as ``user`` on the check-in page of ``event``."""

    def _open(user, event, **options):
        page = new_context(**options).new_page()
        page.goto(f"{live_server}/login?next=/checkin/{event.slug}")
        page.get_by_label("E-mail address").fill(user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{live_server}/checkin/{event.slug}")
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
    return tickets.qr_png(registration_of(registrant).ticket_secret)


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
    page = open_page(staff, door)
    expect(page.locator("#camera-status")).to_have_text("Scanning")

    page.context.set_offline(True)
    fake_camera.show(tickets.qr_png("https://example.org/not-a-ticket"))
    page.get_by_role("button", name="Stop the camera").click()
    page.get_by_role("button", name="Start the camera").click()
    expect(page.locator("#result-headline")).to_have_text("Offline: scan kept on this device")

    page.context.set_offline(False)
    expect(page.locator("#offline-banner")).to_be_hidden()
    expect(page.locator("#result")).to_have_class(re.compile(r"\bdoor-result-bad\b"))
    expect(page.locator("#result-headline")).to_have_text(
        "Not admitted: this code is not a ticket"
    )
    expect(page.locator("#result-note")).to_contain_text("Scanned while offline")
    page.wait_for_timeout(9000)  # longer than a verdict normally stays
    expect(page.locator("#result")).to_have_class(re.compile(r"\bdoor-result-bad\b"))


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
