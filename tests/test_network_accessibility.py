"""The network and practices pages in real Chromium: axe-core (WCAG 2.1 AA) in English and
Bulgarian, and every page fitting 320 px without sideways scrolling."""

import re

import pytest
from flask.sessions import SecureCookieSessionInterface

from eventreg.extensions import db
from eventreg.models import (
    AbuseReport,
    ContactBlock,
    Member,
    MemberStatus,
    ProcurementType,
    ReportReason,
    TargetGroup,
    utcnow,
)
from eventreg.services import members, practices
from eventreg.services.network_links import BLOCK_PURPOSE, UNSUBSCRIBE_PURPOSE
from eventreg.services.practices import PracticeInput, TextInput
from eventreg.services.signed_links import sign
from tests.support.accessibility import violations
from tests.support.factories import PASSWORD

WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 321).slice(0, 5)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""

pytestmark = pytest.mark.sqlite_only  # the pages are the same on both databases


@pytest.fixture
def network(make_event, make_user):
    """Two members (one public), a practice in two languages, and an organiser."""
    mission = make_event(title="Study mission to Gabrovo", city="Gabrovo")
    for email, name, public in (
        ("ana@example.bg", "Анна Петрова", ["name", "organisation", "country"]),
        ("lars@example.dk", "Lars Holm", []),
    ):
        db.session.add(
            Member(
                email=email,
                name=name,
                organisation="Община Габрово Социални Услуги и Обществени Поръчки",
                country="BG",
                target_group=TargetGroup.LOCAL_REGIONAL_AUTHORITY,
                languages=["bg", "en"],
                bio="Запазени поръчки " * 20,
                language="bg",
                status=MemberStatus.ACTIVE,
                confirmed_at=utcnow(),
                public_fields=public,
            )
        )
    db.session.commit()
    make_user("organiser")
    practice = practices.publish_new(
        PracticeInput(
            city="Габрово",
            country="BG",
            procurement_type=ProcurementType.RESERVED,
            event_id=mission.id,
            texts=[
                TextInput("en", "Reserved contracts for social enterprises", "A" * 400, "B", "C"),
                TextInput("bg", "Запазени поръчки за социални предприятия", "Г" * 400, "Д", "Е"),
            ],
        )
    )
    members = {m.email: m for m in db.session.query(Member)}
    ana, lars = members["ana@example.bg"], members["lars@example.dk"]
    db.session.add(ContactBlock(member_id=lars.id, blocked_id=ana.id))  # listed on his profile
    snapshot = {"name": ana.name, "organisation": ana.organisation, "country": "BG", "bio": ana.bio}
    for message in (None, "Купете евтини часовници " * 30):  # her profile, and a long message
        db.session.add(
            AbuseReport(
                reporter_id=lars.id,
                reported_id=ana.id,
                message_ref=1 if message else None,
                reason=ReportReason.SPAM,
                note="Не е истинска община. " * 10,
                snapshot=snapshot
                | ({"message": message, "sent_at": "2026-11-30T10:00:00+00:00"} if message else {}),
            )
        )
    db.session.commit()
    return {
        "practice": practice.id,
        "ana": ana,
        "lars": lars,
        "block_link": "/network/block/" + sign(f"{ana.key}:{lars.id}", BLOCK_PURPOSE),
        "unsubscribe_link": "/network/unsubscribe/" + sign(ana.key, UNSUBSCRIBE_PURPOSE),
    }


def member_page(new_context, live_server, member, language="en"):
    context = new_context(bypass_csp=True, locale=language)
    page = context.new_page()
    page.goto(f"{live_server}/network")  # sets the cookie domain
    return context, page


def sign_in_as(app, context, live_server, member):
    """Put the member's key in a session cookie the live server accepts."""
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    value = serializer.dumps({"network_member": members.open_session(member)})
    context.add_cookies([{"name": "session", "value": value, "url": live_server}])


def public_paths(network):
    return [
        "/network",
        "/network/join",
        "/network/sign-in",
        f"/network/members/{network['ana'].id}",
        "/practices",
        f"/practices/{network['practice']}",
        "/practices/document?lang=bg",
        network["block_link"],
        network["unsubscribe_link"],
    ]


def member_paths(network):
    return [
        "/network/profile",
        "/network/directory",
        "/network/directory?q=lars",
        f"/network/members/{network['lars'].id}/contact",
        f"/network/members/{network['ana'].id}/report",
        f"/network/members/{network['ana'].id}?as=member",  # the button to take her messages again
        "/practices/propose",
    ]


def organiser_paths(network):
    return [
        "/network/admin",
        "/network/admin/announce",
        "/network/admin/topics",
        "/network/admin/reports",
        "/practices/review",
        "/practices/new",
        f"/practices/{network['practice']}/text",
        f"/practices/{network['practice']}/documents",
    ]


def log_in_organiser(page, live_server):
    page.goto(f"{live_server}/login")
    page.fill("#email", "organiser@example.org")
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))


@pytest.mark.parametrize("language", ["en", "bg"])
def test_network_and_practices_pages_have_no_violations(
    app, new_context, live_server, network, language
):
    context = new_context(bypass_csp=True, locale=language)
    page = context.new_page()
    report = {}
    for path in public_paths(network):
        page.goto(live_server + path)
        report[path] = violations(page)
    page.goto(live_server + "/network/join")
    page.click("form.stack button[type=submit]")
    assert page.locator("#error-summary").is_visible()
    report["/network/join with errors"] = violations(page)

    page.goto(live_server + network["unsubscribe_link"])
    page.click("main form button[type=submit]")
    report["e-mails stopped"] = violations(page)

    sign_in_as(app, context, live_server, network["lars"])
    for path in member_paths(network):
        page.goto(live_server + path)
        assert page.url.endswith(path), path  # signed in: not sent to the sign-in page
        report[path] = violations(page)
    page.goto(f"{live_server}/network/members/{network['ana'].id}/report")
    page.click("main form.stack button[type=submit]")  # no reason chosen
    assert page.locator("#error-summary").is_visible()
    report["/network/members/…/report with errors"] = violations(page)
    page.goto(live_server + "/network/profile")
    page.click("form[action$='/profile/leave'] button[type=submit]")  # the box not ticked
    assert page.locator("#error-summary").is_visible()
    report["/network/profile, leaving without the box"] = violations(page)
    network["lars"].status = MemberStatus.HIDDEN
    db.session.commit()
    page.goto(live_server + "/network/directory")
    report["/network/directory, hidden"] = violations(page)

    log_in_organiser(page, live_server)
    for path in organiser_paths(network):
        page.goto(live_server + path)
        report[path] = violations(page)
    assert {path: found for path, found in report.items() if found} == {}


def test_network_and_practices_pages_fit_320_px(app, new_context, live_server, network):
    context = new_context()
    page = context.new_page()
    page.set_viewport_size({"width": 320, "height": 800})
    too_wide = {}

    def check(paths):
        for path in paths:
            page.goto(live_server + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 320:
                too_wide[path] = page.evaluate(WIDE)

    check(public_paths(network))
    sign_in_as(app, context, live_server, network["lars"])
    check(member_paths(network))
    log_in_organiser(page, live_server)
    check(organiser_paths(network))
    assert too_wide == {}, too_wide
