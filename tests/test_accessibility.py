"""WCAG 2.1 AA in real Chromium: axe-core over every kind of page in English and Bulgarian,
registration with the keyboard alone, and pages that fit 320 px and 200% zoom."""

import re
from pathlib import Path

import pytest

from eventreg.extensions import db
from eventreg.services.manage_links import manage_token
from tests.support.factories import PASSWORD

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = pytest.mark.sqlite_only  # the pages are the same on both databases


def violations(page) -> list:
    """axe-core's findings for the page as it stands (axe is injected; CSP bypassed for it)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target)}))",
        WCAG_AA,
    )
    return found


@pytest.fixture
def site(make_event, sign_up, make_user):
    """A programme with a full event, a registrant, and staff of every role."""
    mission = make_event(title="Study mission to Bergamo", capacity=1)
    webinar = make_event(
        title="Webinar on clauses", mode="online", city=None, venue=None, capacity=None,
        translations={"bg": {"title": "Уебинар за клаузите"}},
    )  # fmt: skip
    registrant = sign_up(mission, first_name="Иван", last_name="Петров", needs="Wheelchair")
    sign_up(mission)
    sign_up(webinar)
    make_user("organiser")
    db.session.commit()
    return {
        "mission": mission.slug,
        "manage": f"/manage/{manage_token(registrant)}",
        "reference": registrant.registrations[0].reference,
    }


def logged_in(new_context, live_server, language):
    context = new_context(bypass_csp=True, locale=language)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#email", "organiser@example.org")
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))
    return page


@pytest.mark.parametrize("language", ["en", "bg"])
def test_public_and_registrant_pages_have_no_violations(new_context, live_server, site, language):
    page = new_context(bypass_csp=True, locale=language).new_page()
    paths = [
        "/",
        f"/events/{site['mission']}",
        "/register",
        "/privacy",
        "/accessibility",
        "/login",
        site["manage"],
        site["manage"] + "/confirmed",
        site["manage"] + f"/registrations/{site['reference']}/cancel",
        "/manage/resend",
        "/nope",
    ]
    report = {}
    for path in paths:
        page.goto(live_server + path)
        # A registrant's own pages open in the language they chose (English here).
        expected = "en" if path.startswith(site["manage"]) else language
        assert page.locator("html").get_attribute("lang") == expected
        report[path] = violations(page)
    page.goto(live_server + "/register")
    page.click("form.stack button[type=submit]")  # everything missing: every error shows
    assert page.locator("#error-summary").is_visible()
    report["/register with errors"] = violations(page)
    assert {path: found for path, found in report.items() if found} == {}


@pytest.mark.parametrize("language", ["en", "bg"])
def test_organiser_and_checkin_pages_have_no_violations(new_context, live_server, site, language):
    page = logged_in(new_context, live_server, language)
    paths = [
        "/admin/",
        f"/admin/events/{site['mission']}",
        f"/admin/events/{site['mission']}/edit",
        f"/admin/events/{site['mission']}/registrations/new",
        f"/admin/events/{site['mission']}/message",
        f"/admin/registrations/{site['reference']}",
        "/admin/outbox",
        f"/checkin/{site['mission']}",
    ]
    paths += [p for p in ("/admin/statistics",) if page.request.get(live_server + p).ok]
    report = {}
    for path in paths:
        page.goto(live_server + path)
        report[path] = violations(page)
    assert {path: found for path, found in report.items() if found} == {}


def test_registration_with_the_keyboard_alone(new_context, live_server, site):
    page = new_context().new_page()
    page.goto(f"{live_server}/register")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip-link"

    def tab_to(selector: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement.matches(s)", selector):
                outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
                assert outline != "none", f"no visible focus on {selector}"
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#events-0")
    page.keyboard.press("Space")
    for selector, text in [
        ("#first_name", "Ana"),
        ("#last_name", "Keyboard"),
        ("#email", "ana.keyboard@example.pt"),
        ("#organisation", "Cooperativa Teclado"),
    ]:
        tab_to(selector)
        page.keyboard.type(text)
    tab_to("#country")
    page.keyboard.type("Portugal")
    tab_to("#target_group")
    page.keyboard.press("ArrowDown")
    tab_to("#consent")
    page.keyboard.press("Space")
    tab_to("form.stack button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/confirmed$"))
    assert "Thank you for registering, Ana" in page.content()


@pytest.mark.parametrize("width", [320, 640])  # 640 CSS pixels is a 1280 px screen at 200%
def test_pages_fit_narrow_screens_and_zoom(new_context, live_server, site, width):
    page = new_context().new_page()
    page.set_viewport_size({"width": width, "height": 800})
    for path in ("/", "/register", f"/events/{site['mission']}", site["manage"]):
        page.goto(live_server + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
