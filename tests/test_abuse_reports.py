"""Members report a profile or a message to the organisers: the organisers are told by e-mail
in their language, see what was reported as it was, dismiss the report or hide the member (in
the audit log); the member reported is never told. A reporter's name and note go when they
leave; leaving is no way out of reports, blocks or being hidden (they hold again on return)."""

import contextlib
import re
import threading
from types import SimpleNamespace

import pytest
from flask.sessions import SecureCookieSessionInterface
from flask_babel import force_locale, gettext
from flask_migrate import downgrade
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from eventreg.admin import history
from eventreg.database import write_transaction
from eventreg.extensions import db, limiter
from eventreg.models import (
    AbuseReport,
    AuditEntry,
    ContactBlock,
    FormerMember,
    Member,
    MemberStatus,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    ReportReason,
    ReportStatus,
    SkipReason,
    Topic,
    User,
    utcnow,
)
from eventreg.services import (
    abuse_reports,
    accounts,
    former_members,
    member_contact,
    members,
    network_admin,
    outbox,
    topics,
)
from tests.support.database import migrated_from
from tests.support.factories import PASSWORD, active_member
from tests.support.locks import second_waits_for_first, someone_waits_for_a_lock, wait_until
from tests.support.mail import smtp_config
from tests.test_practice_review import proposal


@pytest.fixture
def app_config(smtp):
    return smtp_config(smtp)


@pytest.fixture
def ana(app):
    return active_member("Ana Petrova", "ana@example.bg")


@pytest.fixture
def lars(app):
    return active_member("Lars Holm", "lars@example.dk")


@pytest.fixture
def organiser(app, client, make_user, auth):
    """An organiser signed in who uses the site in Italian."""
    make_user("organiser")
    auth.login("organiser@example.org")
    client.post("/language", data={"language": "it", "next": "/"})  # signed in: kept
    return client


def signed_in_as(app, member):
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["network_member"] = members.open_session(member)
    return browser


def reports() -> list[AbuseReport]:
    db.session.expire_all()
    return db.session.scalars(select(AbuseReport).order_by(AbuseReport.id)).all()


def report_mails() -> list[OutboxMessage]:
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.ABUSE_REPORT)
    ).all()


def checked_subject(page: str) -> str | None:
    found = re.search(
        r'<input checked id="subject-\d+" name="subject" type="radio" value="([^"]+)"', page
    )
    return found and found[1]


def message_from(sender, recipient, text):
    """``sender`` writes to ``recipient`` and the message goes: the recipient's copy's id."""
    member_contact.send(sender, recipient, text)
    outbox.deliver_all()
    db.session.rollback()
    return db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.member_id == recipient.id)
        .where(OutboxMessage.kind == MessageKind.NETWORK_CONTACT)
        .order_by(OutboxMessage.id.desc())
    ).first()


def test_a_member_reports_a_profile_and_organisers_are_told_in_their_language(
    app, smtp, ana, lars, make_user, organiser
):
    make_user("admin", "admin@example.org")
    make_user("checkin", "door@example.org")  # manages no network: not told
    lars_browser = signed_in_as(app, lars)
    assert (
        "Report Ana Petrova to the organisers"
        in lars_browser.get(f"/network/members/{ana.id}").text
    )
    page = lars_browser.get(f"/network/members/{ana.id}/report").text
    assert checked_subject(page) == "profile"  # the profile is what there is to report
    response = lars_browser.post(
        f"/network/members/{ana.id}/report",
        data={"subject": "profile", "reason": "fake_profile", "note": "  Not a real council.  "},
    )
    assert response.headers["Location"] == f"/network/members/{ana.id}"
    assert "Thank you for your report" in lars_browser.get(f"/network/members/{ana.id}").text
    (found,) = reports()
    assert (found.reporter_id, found.reported_id, found.message_ref) == (lars.id, ana.id, None)
    assert found.note == "Not a real council." and found.status is ReportStatus.OPEN
    assert found.snapshot["name"] == "Ana Petrova" and found.snapshot["country"] == "BG"
    assert db.session.scalar(select(func.count()).select_from(ContactBlock)) == 0  # not ticked
    (made,) = lars_browser.get("/network/profile/data.json").get_json()["reports_made"]
    assert (made["about"], made["what"], made["reason"]) == (
        "Ana Petrova",
        "profile",
        "fake_profile",
    )
    assert signed_in_as(app, ana).get("/network/profile/data.json").get_json()["reports_made"] == []

    outbox.deliver_all()
    mails = smtp.inbox.wait_for(2)
    assert sorted(m["To"].addresses[0].addr_spec for m in mails) == [
        "admin@example.org",
        "organiser@example.org",
    ]
    by_address = {m["To"].addresses[0].addr_spec: m for m in mails}
    with app.test_request_context():
        with force_locale("it"):
            italian = gettext("A member has been reported in the network of practice")
            reason = gettext("Fake profile or impersonation")
        english = gettext("A member has been reported in the network of practice")
    assert by_address["organiser@example.org"]["Subject"] == italian != english
    assert by_address["admin@example.org"]["Subject"] == english  # never picked a language
    body = by_address["organiser@example.org"].get_body(("plain",)).get_content()
    assert reason in body and "http://eventreg.test/network/admin/reports" in body
    for mail in mails:  # the e-mail names nobody: the organiser area does
        text = mail.as_string()
        assert "Lars" not in text and "Ana" not in text and "lars@example.dk" not in text
    assert {tuple(sorted(m.params)) for m in report_mails()} == {("reason", "report_id")}

    page = organiser.get("/network/admin/reports").text
    assert "Ana Petrova" in page and "Lars Holm" in page and "Not a real council." in page
    listed = organiser.get("/admin/outbox").text  # in the organiser's Italian
    assert organiser.get(f"/admin/outbox/{report_mails()[0].id}").status_code == 200
    with app.test_request_context(), force_locale("it"):
        assert gettext("Network: a member reported") in listed


def test_a_message_received_is_reported_from_its_email_as_it_was(app, smtp, ana, lars, organiser):
    ref = message_from(lars, ana, "Buy cheap watches at example.com")
    (letter,) = smtp.inbox.wait_for(1)
    link = re.search(
        r"http://eventreg\.test(/network/members/\d+/report\?message=\d+)",
        letter.get_body(("plain",)).get_content(),
    )[1]
    assert link == f"/network/members/{lars.id}/report?message={ref}"
    html = letter.get_body(("html",)).get_content()
    with app.test_request_context(), force_locale("bg"):  # Ana reads Bulgarian
        assert gettext("Report this message to the organisers") in html

    ana_browser = signed_in_as(app, ana)
    page = ana_browser.get(link).text
    assert checked_subject(page) == f"message-{ref}" and "Buy cheap watches" in page
    response = ana_browser.post(
        link, data={"subject": f"message-{ref}", "reason": "spam", "block": "y"}
    )
    assert response.status_code == 302
    (found,) = reports()
    assert (
        found.message_ref == ref and found.snapshot["message"] == "Buy cheap watches at example.com"
    )
    assert found.note is None
    assert member_contact.has_blocked(ana, lars)  # the box ticked: his messages stop too

    lars.name, lars.bio = "L. H.", "Nothing to see"  # he edits his profile afterwards
    db.session.commit()
    page = organiser.get("/network/admin/reports").text
    assert "Buy cheap watches at example.com" in page and "Lars Holm" in page


def test_bad_reports_get_a_specific_error_and_change_nothing(app, ana, lars):
    lars_browser = signed_in_as(app, lars)
    path = f"/network/members/{ana.id}/report"
    eva = active_member("Eva Berg", "eva@example.se")
    not_his = message_from(ana, eva, "Hello Eva")  # Ana's message to Eva, not to Lars
    cases = {
        "Choose a reason.": ({"subject": "profile"}, "#reason-0"),
        "Use at most 1000 characters.": (
            {"subject": "profile", "reason": "spam", "note": "x" * 1001},
            "#note",
        ),
        "Choose what you are reporting.": (
            {"subject": f"message-{not_his}", "reason": "spam"},
            "#subject-0",
        ),
    }
    for error, (data, anchor) in cases.items():
        response = lars_browser.post(path, data=data | {"block": "y"})
        assert response.status_code == 422, error
        assert error in response.text
        assert f'href="{anchor}"' in response.text  # named in the error summary
    response = lars_browser.post(path, data={"subject": "profile", "reason": "rude"})
    assert response.status_code == 422 and "Choose a reason." in response.text
    assert (
        lars_browser.post("/network/members/999999/report", data={"reason": "spam"}).status_code
        == 404
    )
    assert lars_browser.get(f"/network/members/{lars.id}/report").status_code == 404  # himself
    pending = active_member("Eva Pending", "pending@example.se")
    pending.status = MemberStatus.PENDING
    db.session.commit()
    response = lars_browser.get(f"/network/members/{pending.id}/report")
    assert response.status_code == 404 and "Eva Pending" not in response.text
    stranger = app.test_client().post(path, data={"subject": "profile", "reason": "spam"})
    assert stranger.status_code == 302 and "/network/sign-in" in stranger.headers["Location"]
    assert reports() == [] and report_mails() == []
    assert db.session.scalar(select(func.count()).select_from(ContactBlock)) == 0


def test_reporting_the_same_thing_twice_is_thanked_once(app, ana, lars, make_user):
    make_user("organiser")
    lars_browser = signed_in_as(app, lars)
    path = f"/network/members/{ana.id}/report"
    lars_browser.post(path, data={"subject": "profile", "reason": "spam"})
    response = lars_browser.post(
        path,
        data={"subject": "profile", "reason": "harassment", "block": "y"},
        follow_redirects=True,
    )
    assert "You have reported this already" in response.text
    assert len(reports()) == 1 and len(report_mails()) == 1
    assert member_contact.has_blocked(lars, ana)  # the box ticked the second time still counts
    signed_in_as(app, active_member("Eva Berg", "eva@example.se")).post(
        path, data={"subject": "profile", "reason": "spam"}
    )
    assert len(reports()) == 2  # another member's report is its own


def test_reports_are_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_REPORT="2 per minute")
    limiter.reset()
    try:
        with app.app_context():
            ana, lars = active_member(), active_member("Lars Holm", "lars@example.dk")
            browser = signed_in_as(app, lars)
            path = f"/network/members/{ana.id}/report"
            for _ in range(2):
                assert browser.post(path, data={"subject": "profile"}).status_code == 422
            assert (
                browser.post(path, data={"subject": "profile", "reason": "spam"}).status_code == 429
            )
            assert browser.get(path).status_code == 200  # reading the form is free
            assert reports() == []
    finally:
        with app.app_context():
            limiter.reset()


def test_organisers_dismiss_or_hide_and_the_decision_is_audited(
    app, smtp, ana, lars, organiser, client, make_user
):
    eva = active_member("Eva Berg", "eva@example.se")
    signed_in_as(app, lars).post(
        f"/network/members/{ana.id}/report", data={"subject": "profile", "reason": "spam"}
    )
    signed_in_as(app, eva).post(
        f"/network/members/{ana.id}/report", data={"subject": "profile", "reason": "harassment"}
    )
    signed_in_as(app, ana).post(
        f"/network/members/{lars.id}/report", data={"subject": "profile", "reason": "other"}
    )
    about_ana, again_ana, about_lars = reports()

    response = organiser.post(f"/network/admin/reports/{about_lars.id}/dismiss")
    assert response.headers["Location"] == "/network/admin/reports"
    assert reports()[2].status is ReportStatus.DISMISSED
    assert db.session.get(Member, lars.id).is_active

    organiser.post(f"/network/admin/reports/{about_ana.id}/hide")
    statuses = [r.status for r in reports()]
    assert statuses == [ReportStatus.ACTED, ReportStatus.ACTED, ReportStatus.DISMISSED]
    assert db.session.get(Member, ana.id).is_hidden
    ana_browser = signed_in_as(app, ana)
    assert ana_browser.get(f"/network/members/{lars.id}/contact").status_code == 403
    assert (
        ana_browser.post(f"/network/members/{lars.id}/contact", data={"text": "Hi"}).status_code
        == 403
    )

    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.details) for e in entries] == [
        ("abuse_report_dismissed", {"abuse_report": about_lars.id}),
        ("abuse_report_acted", {"abuse_report": about_ana.id}),
        ("abuse_report_acted", {"abuse_report": again_ana.id}),
    ]
    assert {e.actor.email for e in entries} == {"organiser@example.org"}
    page = organiser.get("/network/admin/reports").text
    with app.test_request_context(), force_locale("it"):
        assert gettext("by %(email)s", email="organiser@example.org") in page
    with app.test_request_context(), force_locale("it"):
        label = history.action_label(entries[1])
        detail = history.details(entries[1], "Europe/Rome")
        assert (
            label
            == gettext("Network member hidden after a report")
            != "Network member hidden after a report"
        )
        assert detail == [(gettext("report number"), str(about_ana.id))]

    response = organiser.post(
        f"/network/admin/reports/{about_ana.id}/dismiss", follow_redirects=True
    )
    assert reports()[0].status is ReportStatus.ACTED  # decided already: unchanged
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 3
    assert organiser.post("/network/admin/reports/999999/hide").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 3

    # Decided before the sender's turn came: the e-mails about them are not sent.
    outbox.deliver_all()
    db.session.expire_all()
    skipped = {m.params["report_id"]: m.skip_reason for m in report_mails()}
    assert skipped == {r.id: SkipReason.REPORT_CLOSED for r in reports()}
    assert smtp.inbox.messages == []


@pytest.mark.parametrize("who", [None, "checkin"])
def test_only_organisers_see_and_decide_reports(app, ana, lars, make_user, auth, client, who):
    signed_in_as(app, lars).post(
        f"/network/members/{ana.id}/report", data={"subject": "profile", "reason": "spam"}
    )
    (found,) = reports()
    if who:
        make_user(who)
        auth.login(f"{who}@example.org")
    expected = 403 if who else 302
    assert client.get("/network/admin/reports").status_code == expected
    assert client.post(f"/network/admin/reports/{found.id}/hide").status_code == expected
    assert reports()[0].is_open and db.session.get(Member, ana.id).is_active


def test_leaving_takes_personal_data_off_reports(app, ana, lars, make_user):
    make_user("organiser")
    eva = active_member("Eva Berg", "eva@example.se")
    ref = message_from(ana, lars, "Rude words")
    signed_in_as(app, lars).post(
        f"/network/members/{ana.id}/report?message={ref}",
        data={
            "subject": f"message-{ref}",
            "reason": "harassment",
            "note": "I am Lars, her colleague",
        },
    )
    signed_in_as(app, lars).post(
        f"/network/members/{eva.id}/report",
        data={"subject": "profile", "reason": "spam", "note": "Lars here"},
    )
    signed_in_as(app, eva).post(
        f"/network/members/{lars.id}/report", data={"subject": "profile", "reason": "spam"}
    )
    assert len(reports()) == 3

    # The reporter leaves: what he reported stays for the organisers, his name and note go.
    signed_in_as(app, lars).post("/network/profile/leave", data={"confirm": "y"})
    left = reports()
    assert [(r.reported_id, r.reporter_id, r.note) for r in left] == [
        (ana.id, None, None),
        (eva.id, None, None),
        (None, eva.id, None),  # Eva's report about him waits, should he join again
    ]
    assert left[0].snapshot["message"] == "Rude words"  # evidence of Ana's message, hers

    # The member reported leaves: the report about her stays for the organisers (leaving is
    # no way out of a report), under a keyed digest of her address, never the address.
    signed_in_as(app, ana).post("/network/profile/leave", data={"confirm": "y"})
    # An organiser erasing Eva (data erasure, as a registrant's): the same.
    with write_transaction():
        members.forget(eva.email)
    kept = reports()
    assert [(r.reported_id, r.reporter_id, r.note) for r in kept] == [(None, None, None)] * 3
    assert [r.former_key for r in kept] == [
        former_members.former_key(address)
        for address in ("ana@example.bg", "eva@example.se", "lars@example.dk")
    ]
    assert all(re.fullmatch("[0-9a-f]{64}", r.former_key) for r in kept)
    assert kept[0].snapshot["message"] == "Rude words"
    assert all(set(m.params) == {"reason", "report_id"} for m in report_mails())
    outbox.deliver_all()  # still open: the organisers are told
    db.session.expire_all()
    assert {m.status for m in report_mails()} == {MessageStatus.SENT}


@pytest.mark.sqlite_only  # the pages are the same on both databases
def test_reporting_and_deciding_by_keyboard_at_320_px(
    app, new_context, live_server, ana, lars, make_user, tmp_path
):
    """In Chromium at 320 px, by labels and the keyboard only: Lars reports Ana, an organiser
    hides her. The screenshots are left in the test's folder to look at."""
    make_user("organiser")
    context = new_context()
    page = context.new_page()
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"{live_server}/network")
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    value = serializer.dumps({"network_member": members.open_session(lars)})
    context.add_cookies([{"name": "session", "value": value, "url": live_server}])

    page.goto(f"{live_server}/network/members/{ana.id}")
    page.get_by_role("link", name="Report Ana Petrova to the organisers").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/network/members/{ana.id}/report")
    page.get_by_label("Harassment or abusive language").focus()
    page.keyboard.press("Space")
    page.get_by_label("What happened? (optional)").fill("Rude replies to my questions.")
    page.screenshot(path=tmp_path / "report-form.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    with page.expect_navigation():
        page.get_by_role("button", name="Send the report").press("Enter")
    assert page.get_by_text("Thank you for your report.").is_visible()

    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail address").fill("organiser@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/")
    page.goto(f"{live_server}/network/admin/reports")
    assert page.get_by_text("Rude replies to my questions.").is_visible()
    page.screenshot(path=tmp_path / "reports.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.get_by_role("button", name="Hide Ana Petrova").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text("No report is waiting.").is_visible()
    db.session.expire_all()
    assert db.session.get(Member, ana.id).is_hidden


def test_staff_emails_follow_the_language_picked_on_the_site(app, client, make_user, auth):
    user = make_user("organiser")
    auth.login("organiser@example.org")
    db.session.expire_all()
    assert db.session.get(type(user), user.id).language is None  # nothing picked yet
    client.post("/language", data={"language": "es", "next": "/admin/"})
    db.session.expire_all()
    assert db.session.get(type(user), user.id).language == "es"
    app.test_client().post("/language", data={"language": "sv"})  # nobody logged in
    db.session.expire_all()
    assert db.session.get(type(user), user.id).language == "es"


def test_a_colleagues_language_pick_does_not_become_mine(app, client, make_user, auth):
    """The door phone: Maria picks Bulgarian and logs out; Jens logs in on the same phone and
    changes nothing: neither his pages nor his e-mails are in Bulgarian. Maria logs in again
    (on another phone): her Bulgarian comes back."""
    make_user("checkin", "maria@example.org")
    jens = make_user("checkin", "jens@example.org")
    auth.login("maria@example.org")
    client.post("/language", data={"language": "bg", "next": "/"})
    auth.logout()
    auth.login("jens@example.org")
    db.session.expire_all()
    assert db.session.get(User, jens.id).language is None
    assert '<html lang="en"' in client.get("/").text
    auth.logout()
    elsewhere = app.test_client()
    elsewhere.post("/login", data={"email": "maria@example.org", "password": PASSWORD})
    assert '<html lang="bg"' in elsewhere.get("/").text


def test_the_same_report_sent_at_once_is_recorded_once(app, ana, lars, make_user):
    """A double click, or two tabs: the reporter's row makes the reports wait in turn."""
    make_user("organiser")
    ana_id, lars_id = ana.id, lars.id
    start = threading.Barrier(4)
    made = []

    def send():
        with app.app_context():
            start.wait()
            reporter, other = db.session.get(Member, lars_id), db.session.get(Member, ana_id)
            made.append(abuse_reports.report(reporter, other, ReportReason.SPAM, None))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reports()) == 1 and len(report_mails()) == 1
    assert sum(found is not None for found in made) == 1


def test_two_organisers_deciding_at_once_decide_once(app, ana, lars, make_user):
    signed_in_as(app, lars).post(
        f"/network/members/{ana.id}/report", data={"subject": "profile", "reason": "spam"}
    )
    (found,) = reports()
    organisers = [make_user("organiser", f"o{n}@example.org").id for n in range(2)]
    start = threading.Barrier(2)
    results = []

    def decide(user_id, decision):
        with app.app_context():
            start.wait()
            results.append(decision(found.id, actor=db.session.get(User, user_id)))

    threads = [
        threading.Thread(target=decide, args=(organisers[0], network_admin.dismiss_report)),
        threading.Thread(target=decide, args=(organisers[1], network_admin.hide_reported)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result is not None for result in results) == 1
    decided = reports()[0]
    assert decided.status in (ReportStatus.DISMISSED, ReportStatus.ACTED)
    assert db.session.get(Member, ana.id).is_hidden == decided.is_acted
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1


def test_an_organiser_removing_a_reporter_takes_them_off_their_reports(app, ana, lars, organiser):
    signed_in_as(app, lars).post(
        f"/network/members/{ana.id}/report",
        data={"subject": "profile", "reason": "spam", "note": "Lars Holm, Nørrebro"},
    )
    organiser.post(f"/network/admin/members/{lars.id}/remove", data={"confirm": "y"})
    (kept,) = reports()
    assert (kept.reporter_id, kept.note, kept.reported_id) == (None, None, ana.id)
    page = organiser.get("/network/admin/reports").text
    assert "Nørrebro" not in page and "Lars Holm" not in page
    with app.test_request_context(), force_locale("it"):
        assert gettext("a member who has left the network") in page


def test_reports_and_decisions_need_the_forms_csrf_token(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        ana, lars = active_member(), active_member("Lars Holm", "lars@example.dk")
        browser = signed_in_as(app, lars)
        path = f"/network/members/{ana.id}/report"
        data = {"subject": "profile", "reason": "spam"}
        assert browser.post(path, data=data).status_code == 400  # a forged cross-site post
        token = re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"', browser.get(path).text
        )[1]
        assert browser.post(path, data=data | {"csrf_token": token}).status_code == 302
        (found,) = reports()
        make_user("organiser")
        staff = app.test_client()
        login = staff.get("/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login)[1]
        staff.post(
            "/login",
            data={"email": "organiser@example.org", "password": PASSWORD, "csrf_token": token},
        )
        assert staff.get("/network/admin/reports").status_code == 200  # logged in
        assert staff.post(f"/network/admin/reports/{found.id}/hide").status_code == 400
        assert reports()[0].is_open and db.session.get(Member, ana.id).is_active


def test_a_new_member_is_not_offered_a_former_members_messages(app, smtp, ana, lars):
    """Lars writes to Ana and leaves; Eva joins and may get his number back (SQLite reuses
    the highest rowid): his message is not hers, neither to offer nor to report."""
    ref = message_from(lars, ana, "Buy cheap watches from Lars")
    members.leave(lars)
    eva = active_member("Eva Berg", "eva@example.se")
    ana_browser = signed_in_as(app, ana)
    assert ana_browser.get(f"/network/members/{eva.id}/report?message={ref}").status_code == 404
    page = ana_browser.get(f"/network/members/{eva.id}/report").text
    assert "Buy cheap watches from Lars" not in page
    response = ana_browser.post(
        f"/network/members/{eva.id}/report",
        data={"subject": f"message-{ref}", "reason": "harassment", "block": "y"},
    )
    assert response.status_code == 422
    assert reports() == [] and not member_contact.has_blocked(ana, eva)


def test_the_emails_report_link_offers_that_message_however_many_came_since(app, smtp, ana, lars):
    eva = active_member("Eva Berg", "eva@example.se")
    ref = message_from(lars, ana, "Rude words from Lars")
    for n in range(abuse_reports.MESSAGES_SHOWN + 200):  # more than the form lists
        outbox.add_message(
            MessageKind.NETWORK_CONTACT,
            ana.email,
            {"sender_id": lars.id if n % 2 else eva.id, "sender_name": "x", "text": f"Hi {n}"},
            member=ana,
        )
    db.session.execute(
        OutboxMessage.__table__.update()
        .where(OutboxMessage.id > ref)
        .values(status=MessageStatus.SENT, sent_at=utcnow())
    )
    db.session.commit()
    link = f"/network/members/{lars.id}/report?message={ref}"
    ana_browser = signed_in_as(app, ana)
    page = ana_browser.get(link).text
    assert checked_subject(page) == f"message-{ref}" and "Rude words from Lars" in page
    assert f'action="{link}"' in page.replace("&amp;", "&")
    response = ana_browser.post(link, data={"subject": f"message-{ref}", "reason": "spam"})
    assert response.status_code == 302
    assert [r.snapshot["message"] for r in reports()] == ["Rude words from Lars"]


def test_a_member_the_organisers_hid_may_still_report_what_they_received(app, smtp, ana, lars):
    """Hidden, Ana sees no profiles, but the messages Lars sent her before stay hers to report."""
    eva = active_member("Eva Berg", "eva@example.se")
    ref = message_from(lars, ana, "Rude words from Lars")
    network_admin.set_hidden(ana, hidden=True)
    browser = signed_in_as(app, ana)
    assert browser.get(f"/network/members/{lars.id}").status_code == 404  # no profiles
    page = browser.get(f"/network/members/{lars.id}/report?message={ref}").text
    assert checked_subject(page) == f"message-{ref}" and "Rude words from Lars" in page
    assert 'value="profile"' not in page
    # Not a profile she cannot see, nor a member who never wrote to her (whose name stays his).
    profile = browser.post(
        f"/network/members/{lars.id}/report", data={"subject": "profile", "reason": "spam"}
    )
    assert profile.status_code == 422  # not among the choices offered
    assert browser.get(f"/network/members/{eva.id}/report").status_code == 404
    with pytest.raises(abuse_reports.NothingToReport):  # the service's own rule
        abuse_reports.report(ana, lars, ReportReason.SPAM, None)
    assert reports() == []

    sent = browser.post(
        f"/network/members/{lars.id}/report?message={ref}",
        data={"subject": f"message-{ref}", "reason": "harassment", "block": "y"},
    )
    assert sent.status_code == 302 and sent.headers["Location"] == "/network/profile"
    (made,) = reports()
    assert (made.reporter_id, made.reported_id, made.message_ref) == (ana.id, lars.id, ref)
    assert member_contact.has_blocked(ana, lars)


def test_the_form_offers_a_members_messages_however_many_others_wrote_since(app, smtp, ana, lars):
    eva = active_member("Eva Berg", "eva@example.se")
    first = message_from(lars, ana, "Rude words from Lars")
    for n in range(250):  # Eva writes a lot
        outbox.add_message(
            MessageKind.NETWORK_CONTACT,
            ana.email,
            {"sender_id": eva.id, "sender_name": "Eva Berg", "text": f"Hi {n}"},
            member=ana,
        )
    db.session.execute(
        OutboxMessage.__table__.update()
        .where(OutboxMessage.id > first)
        .values(status=MessageStatus.SENT, sent_at=utcnow())
    )
    db.session.commit()
    offered = abuse_reports.received_messages(ana, lars)
    assert [(m.ref, m.text) for m in offered] == [(first, "Rude words from Lars")]
    page = signed_in_as(app, ana).get(f"/network/members/{lars.id}/report").text
    assert "Rude words from Lars" in page and "Hi 1" not in page
    assert len(abuse_reports.received_messages(ana, eva)) == abuse_reports.MESSAGES_SHOWN


@pytest.mark.parametrize("ref", ["999999", "x", "²", "9" * 30])
def test_a_report_link_naming_no_message_of_theirs_is_not_found(app, smtp, ana, lars, ref):
    """Never the profile silently in the message's place."""
    eva = active_member("Eva Berg", "eva@example.se")
    other_ref = message_from(eva, ana, "From Eva")
    ana_browser = signed_in_as(app, ana)
    for named in (ref, other_ref):
        response = ana_browser.get(f"/network/members/{lars.id}/report?message={named}")
        assert response.status_code == 404 and "Lars Holm" not in response.text


@pytest.mark.postgresql_only  # SQLite's BEGIN IMMEDIATE runs the two one after the other
def test_two_organisers_hiding_through_two_reports_about_one_member(
    app, ana, lars, make_user, monkeypatch
):
    """Lars and Eva both report Ana; two organisers each press "Hide" on one of the reports
    at once: she is hidden, nobody gets a deadlock."""
    eva = active_member("Eva Berg", "eva@example.se")
    for reporter in (lars, eva):
        signed_in_as(app, reporter).post(
            f"/network/members/{ana.id}/report", data={"subject": "profile", "reason": "spam"}
        )
    first, second = reports()
    organisers = [make_user("organiser", f"o{n}@example.org").id for n in range(2)]
    both_there = threading.Barrier(2, timeout=3)
    original = network_admin.set_hidden

    def set_hidden_when_both_are_there(member, hidden):
        with contextlib.suppress(threading.BrokenBarrierError):
            both_there.wait()  # both deciding at once, if the locks let them (they should not)
        return original(member, hidden)

    monkeypatch.setattr(network_admin, "set_hidden", set_hidden_when_both_are_there)
    errors, decided = [], []

    def hide(user_id, report_id):
        with app.app_context():
            try:
                made = network_admin.hide_reported(report_id, actor=db.session.get(User, user_id))
                decided.append(made is not None)
            except Exception as exc:
                errors.append(repr(exc)[:200])

    threads = [
        threading.Thread(target=hide, args=(organisers[0], first.id)),
        threading.Thread(target=hide, args=(organisers[1], second.id)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(decided) == [False, True]
    db.session.expire_all()
    assert db.session.get(Member, ana.id).is_hidden
    assert {r.status for r in reports()} == {ReportStatus.ACTED}


@pytest.mark.postgresql_only
def test_an_organiser_hiding_while_the_member_reported_leaves(
    app, ana, lars, make_user, monkeypatch
):
    signed_in_as(app, lars).post(
        f"/network/members/{ana.id}/report", data={"subject": "profile", "reason": "spam"}
    )
    (found,) = reports()
    organiser_id, ana_id = make_user("organiser").id, ana.id
    deciding, go = threading.Event(), threading.Event()
    original = network_admin.set_hidden

    def set_hidden_later(member, hidden):
        deciding.set()
        go.wait(10)
        return original(member, hidden)

    monkeypatch.setattr(network_admin, "set_hidden", set_hidden_later)

    def hide():
        network_admin.hide_reported(found.id, actor=db.session.get(User, organiser_id))

    def leave():
        members.leave(db.session.get(Member, ana_id))

    # Her leaving waits for the organiser.
    assert second_waits_for_first(app, hide, leave, deciding, go) == []
    (kept,) = reports()  # she left hidden, the report decided: both wait for her return
    assert db.session.get(Member, ana_id) is None
    assert (kept.reported_id, kept.status) == (None, ReportStatus.ACTED)
    assert db.session.get(FormerMember, former_members.former_key("ana@example.bg")).hidden


@pytest.mark.postgresql_only
def test_a_report_sent_as_the_member_reported_leaves(app, ana, lars, make_user, monkeypatch):
    """Lars reports Ana the moment she deletes her profile: she leaves after his report is
    in (it waits for her, should she join again), not under it (a database error, 500)."""
    make_user("organiser")
    ana_id = ana.id
    original = abuse_reports._snapshot
    leaving = []

    def snapshot_as_she_leaves(other, message):
        leaver = threading.Thread(target=leave)
        leaving.append(leaver)
        leaver.start()
        wait_until(lambda: not leaver.is_alive() or someone_waits_for_a_lock())
        return original(other, message)

    def leave():
        with app.app_context():
            members.leave(db.session.get(Member, ana_id))

    monkeypatch.setattr(abuse_reports, "_snapshot", snapshot_as_she_leaves)
    response = signed_in_as(app, lars).post(
        f"/network/members/{ana.id}/report", data={"subject": "profile", "reason": "spam"}
    )
    leaving[0].join()
    assert response.status_code == 302
    (kept,) = reports()
    assert db.session.get(Member, ana_id) is None
    assert kept.reported_id is None
    assert kept.former_key == former_members.former_key("ana@example.bg")


def test_a_report_on_a_member_who_left_meanwhile_is_not_found(app, ana, lars):
    """She left between the form and the service's locks: nothing to report."""
    as_the_form_saw_her = SimpleNamespace(id=ana.id)
    members.leave(ana)
    with pytest.raises(abuse_reports.NothingToReport):
        abuse_reports.report(lars, as_the_form_saw_her, ReportReason.SPAM, None)
    assert reports() == []


@pytest.mark.parametrize("change", ["deactivated", "made check-in staff"])
def test_a_report_mail_waiting_for_an_organiser_who_no_longer_is_one_is_not_sent(
    app, smtp, ana, lars, make_user, change
):
    kept = make_user("organiser", "kept@example.org")
    gone = make_user("organiser", "gone@example.org")
    signed_in_as(app, lars).post(
        f"/network/members/{ana.id}/report", data={"subject": "profile", "reason": "spam"}
    )
    user = db.session.get(User, gone.id)
    if change == "deactivated":
        accounts.deactivate(user)
    else:
        accounts.change_role(user, "checkin")
    outbox.deliver_all()
    (letter,) = smtp.inbox.wait_for(1)
    assert letter["To"].addresses[0].addr_spec == kept.email
    db.session.expire_all()
    skipped = {
        m.recipient: m.skip_reason for m in report_mails() if m.status is MessageStatus.SKIPPED
    }
    assert skipped == {gone.email: SkipReason.NO_LONGER_ORGANISER}


def test_the_new_skip_reason_goes_up_and_down_with_its_migration(backend, tmp_path):
    def skipped(reason: str) -> None:
        db.session.execute(
            text(
                "INSERT INTO outbox_message (kind, recipient, params, status, skip_reason, "
                "message_id, attempts, created_at, next_attempt_at) VALUES ('abuse_report', "
                "'o@example.org', '{}', 'skipped', :reason, :mid, 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"reason": reason, "mid": f"<{reason}@example.org>"},
        )
        db.session.commit()

    with migrated_from("0025_mail_fixes", backend, tmp_path) as upgrade_rest:
        with pytest.raises(IntegrityError):
            skipped("no_longer_organiser")
        db.session.remove()
        upgrade_rest()
        skipped("no_longer_organiser")
        db.session.remove()
        downgrade(revision="0025_mail_fixes")
        db.session.remove()
        reasons = db.session.scalars(text("SELECT skip_reason FROM outbox_message")).all()
        assert reasons == ["report_closed"]
        db.session.remove()  # its read would hold the table against the migration's change
        upgrade_rest()
        db.session.remove()


def test_the_reported_topics_are_in_the_organisers_language(app, ana, lars, organiser):
    """Lars uses the site in Bulgarian when he reports Ana; the organiser reads Italian."""
    shipped = db.session.scalar(
        select(Topic).where(Topic.key == "employment-clauses")
    ) or topics.add("Employment clauses")  # PostgreSQL tests start from emptied tables
    own = topics.add("Public works in the Alps")
    ana.topics = [shipped, own]
    db.session.commit()
    lars_browser = signed_in_as(app, lars)
    lars_browser.post("/language", data={"language": "bg", "next": "/"})
    lars_browser.post(
        f"/network/members/{ana.id}/report", data={"subject": "profile", "reason": "spam"}
    )
    page = organiser.get("/network/admin/reports").text
    with app.test_request_context():
        with force_locale("it"):
            italian = gettext("Employment clauses")
        with force_locale("bg"):
            bulgarian = gettext("Employment clauses")
    assert bulgarian != italian and bulgarian not in page
    assert f"{italian}, Public works in the Alps" in page


@pytest.mark.sqlite_only  # the page is the same on both databases
def test_a_radio_groups_error_is_told_with_each_of_its_radios(app, ana, lars):
    """A screen reader on a radio of a group in error hears it is wrong and why."""
    page = (
        signed_in_as(app, lars)
        .post(f"/network/members/{ana.id}/report", data={"subject": "profile"})
        .text
    )
    assert '<p class="error-message" id="reason-error">Choose a reason.</p>' in page
    radios = re.findall(r'<input[^>]*name="reason"[^>]*>', page)
    assert radios and all(
        'aria-describedby="reason-error"' in radio and 'aria-invalid="true"' in radio
        for radio in radios
    )
    subject = re.findall(r'<input[^>]*name="subject"[^>]*>', page)
    assert subject and not any("aria-invalid" in radio for radio in subject)


def test_the_block_link_of_a_former_members_message_blocks_no_new_member(app, smtp, ana, lars):
    """The "no more messages from" link in Lars's message, once he left and Eva may have his
    number: it neither names nor blocks her."""
    message_from(lars, ana, "Buy cheap watches from Lars")
    (letter,) = smtp.inbox.wait_for(1)
    link = re.search(
        r"http://eventreg\.test(/network/block/\S+)", letter.get_body(("plain",)).get_content()
    )[1]
    assert "Lars Holm" in app.test_client().get(link).text
    members.leave(lars)
    eva = active_member("Eva Berg", "eva@example.se")
    browser = app.test_client()
    for response in (browser.get(link), browser.post(link)):
        assert response.status_code == 404 and "Eva Berg" not in response.text
    assert not member_contact.has_blocked(ana, eva)


def in_italian(text: str) -> str:
    with force_locale("it"):
        return gettext(text)


def test_the_organiser_pages_show_what_waits_for_a_decision(app, organiser, ana, lars):
    def badges(path: str) -> list[str]:
        page = organiser.get(path).text
        found = re.findall(r'class="badge badge-waiting">(.*?)</span></span>', page)
        return [re.sub(r"<[^>]+>", "", badge) for badge in found]

    assert badges("/admin/") == [] and badges("/network/admin") == []
    report = abuse_reports.report(ana, lars, ReportReason.SPAM, None)
    proposal(lars)
    with app.test_request_context():
        waiting = in_italian("waiting for a decision")
    assert badges("/admin/") == [f", 2 {waiting}"]  # on "Network of practice"
    assert badges("/network/admin") == [f", 1 {waiting}"] * 2  # reports, practices to review
    network_admin.dismiss_report(report.id, actor=db.session.scalar(select(User)))
    assert badges("/admin/") == badges("/network/admin") == [f", 1 {waiting}"]
