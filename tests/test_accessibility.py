"""WCAG 2.1 AA in real Chromium: every page in all seven languages at 320 px, checked by
axe-core and for reflow (no horizontal scroll outside a focusable scroll region), focus on the
error summary after a failed submit, registration with the keyboard alone, and 200% zoom."""

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from eventreg.extensions import db
from eventreg.models import OutboxMessage, Registrant
from eventreg.services.join_links import join_url
from eventreg.services.manage_links import manage_token
from tests.support.accessibility import audited_context, logged_in, violations
from tests.support.browser import wait_for_scripts

pytestmark = pytest.mark.sqlite_only  # the pages are the same on both databases


# Every page breaks the same way in every language only if its text does: long German-like
# compounds in Danish and Swedish, long Bulgarian words. So each language gets every page.
REFLOW = """() => {
  const root = document.documentElement, width = root.clientWidth;
  const scrolls = (el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
  const inScrollRegion = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement)
      if (scrolls(up)) return true;
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" && el.className ? "." + el.className.trim() : "") +
    " " + JSON.stringify((el.textContent || "").trim().slice(0, 40));
  const problems = [];
  if (root.scrollWidth > width) {
    const spills = (el) => getComputedStyle(el).overflowX === "visible" &&
      el.scrollWidth > el.clientWidth + 1;  // e.g. a word longer than its line
    const wide = [...document.body.querySelectorAll("*")].filter((el) => !inScrollRegion(el) && (
      el.getBoundingClientRect().right > width + 0.5 || spills(el)));
    const deepest = wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)));
    problems.push(`page ${root.scrollWidth}px wide: ` + deepest.slice(0, 4).map(name).join(", "));
  }
  for (const el of document.querySelectorAll("*"))
    if (scrolls(el) && el.scrollWidth > el.clientWidth && el.tabIndex < 0)
      problems.push("scroll region without keyboard focus: " + name(el));
  return problems;
}"""
LANGUAGE_CODES = ["en", "bg", "it", "pt", "da", "sv", "es"]


@pytest.fixture
def site(app, make_event, sign_up, make_user):
    """A programme with a full event, a registrant, and staff of every role."""
    mission = make_event(
        title="Study mission to Bergamo", capacity=1,
        translations={"bg": {"title": "Учебна мисия в Бергамо"}},
    )  # fmt: skip
    webinar = make_event(
        title="Webinar on clauses", mode="online", city=None, venue=None, capacity=None,
        translations={"bg": {"title": "Уебинар за клаузите"}},
    )  # fmt: skip
    registrant = sign_up(mission, first_name="Иван", last_name="Петров", needs="Wheelchair")
    sign_up(mission)
    online = sign_up(webinar)
    admin = make_user("admin")
    make_user("organiser")
    db.session.commit()
    with app.test_request_context():
        join_path = urlsplit(join_url(online.registrations[0])).path
    return {
        "mission": mission.slug,
        "webinar": webinar.slug,
        "manage": f"/manage/{manage_token(registrant)}",
        "join": join_path,
        "reference": registrant.registrations[0].reference,
        "message": db.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id)),
        "admin": admin.id,
    }


def public_paths(site) -> list[str]:
    return [
        "/",
        f"/events/{site['mission']}",
        f"/events/{site['webinar']}",
        f"/events/{site['mission']}/materials",
        "/register",
        "/privacy",
        "/accessibility",
        "/login",
        site["manage"],
        site["manage"] + "/confirmed",
        site["manage"] + f"/registrations/{site['reference']}/cancel",
        "/manage/resend",
        site["join"],
        "/nope",
    ]


def staff_paths(site) -> list[str]:
    event = f"/admin/events/{site['mission']}"
    return [
        "/admin/",
        event,
        f"{event}/edit",
        "/admin/events/new",
        f"{event}/registrations/new",
        f"{event}/message",
        f"{event}/statistics",
        f"{event}/materials",
        f"{event}/feedback",
        f"{event}/feedback/questions",
        f"{event}/certificates",
        f"/admin/events/{site['webinar']}/attendance/import",
        f"/admin/registrations/{site['reference']}",
        "/admin/outbox",
        f"/admin/outbox/{site['message']}",
        "/admin/statistics",
        "/admin/users",
        f"/admin/users/{site['admin']}",
        f"/checkin/{site['mission']}",
    ]


def audit(page, url: str, language: str) -> dict:
    """What is wrong with one page: its language, reflow at the current width, axe-core."""
    response = page.goto(url)
    wait_for_scripts(page)  # audit the page its script has set up (the check-in page's)
    found = {}
    if response.status >= 400 and not url.endswith("/nope"):  # audit the page, not an error
        found["status"] = response.status
    if (lang := page.locator("html").get_attribute("lang")) != language:
        found["lang"] = lang
    if reflow := page.evaluate(REFLOW):
        found["reflow"] = reflow
    if axe := violations(page):
        found["axe"] = axe
    return found


def audit_current(page) -> dict:
    found = {}
    if reflow := page.evaluate(REFLOW):
        found["reflow"] = reflow
    if axe := violations(page):
        found["axe"] = axe
    return found


ERROR_PREFIX = {
    "en": "Error:",
    "bg": "Грешка:",
    "it": "Errore:",
    "pt": "Erro:",
    "da": "Fejl:",
    "sv": "Fel:",
    "es": "Error:",
}


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_every_page_reflows_at_320px_and_passes_axe(new_context, live_server, site, language):
    """Every page a visitor, a registrant or staff can reach, in one language, at 320 px."""
    # A registrant's own pages open in the language they chose: here, the language under test.
    db.session.execute(update(Registrant).values(language=language))
    db.session.commit()
    page = audited_context(new_context, language)
    report = {path: audit(page, live_server + path, language) for path in public_paths(site)}
    for path in ("/register", "/login"):  # everything missing: every error shows
        page.goto(live_server + path)
        page.click("form.stack button[type=submit]")
        # autofocus moves focus when the page is first rendered: wait for it, with a deadline
        page.wait_for_function("document.activeElement?.id === 'error-summary'")
        assert page.title().startswith(ERROR_PREFIX[language]), path
        report[f"{path} with errors"] = audit_current(page)
    staff = logged_in(new_context, live_server, language, email="admin@example.org", width=320)
    report |= {path: audit(staff, live_server + path, language) for path in staff_paths(site)}
    assert {path: found for path, found in report.items() if found} == {}


def test_not_found_page_has_a_real_title(new_context, live_server, site):
    page = new_context().new_page()
    page.goto(f"{live_server}/nope")
    assert page.title().startswith("Page not found")


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


def test_pages_reflow_at_200_percent_zoom(new_context, live_server, site):
    """640 CSS pixels is a 1280 px screen at 200%: the wider layout reflows too."""
    page = logged_in(new_context, live_server, "en", email="admin@example.org", width=640)
    problems = {}
    for path in public_paths(site) + staff_paths(site):
        page.goto(live_server + path)
        wait_for_scripts(page)
        if found := page.evaluate(REFLOW):
            problems[path] = found
    assert problems == {}
