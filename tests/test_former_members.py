"""Leaving the network and joining again sheds nothing that holds against a member: the
reports about them, other members' blocks of their messages, organisers having hidden them.
Only a keyed digest of the address waits for them (services/former_members.py), for
RETENTION_DAYS."""

import contextlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventreg.database import write_transaction
from eventreg.extensions import db
from eventreg.models import (
    AbuseReport,
    ContactBlock,
    FormerMember,
    Member,
    MemberStatus,
    Registrant,
    ReportReason,
    ReportStatus,
    User,
    utcnow,
)
from eventreg.services import (
    abuse_reports,
    former_members,
    member_contact,
    members,
    network_admin,
    privacy,
    registrations,
)
from tests.support.database import migrated_from
from tests.support.factories import active_member, details
from tests.support.locks import as_another_request, someone_waits_for_a_lock, wait_until
from tests.support.mail import smtp_config
from tests.test_network import LEAVING, deliver, join_data, joined_member, link_in, signed_in_as

ANA = "ana@example.bg"


@pytest.fixture
def app_config(smtp):
    return smtp_config(smtp)


@pytest.fixture
def staff(client, make_user, auth):
    """An organiser signed in, in a browser of their own."""
    make_user("organiser")
    auth.login("organiser@example.org")
    return client


def member(address: str) -> Member | None:
    db.session.expire_all()
    return db.session.scalar(select(Member).where(Member.email == address))


def reports() -> list[AbuseReport]:
    db.session.expire_all()
    return db.session.scalars(select(AbuseReport).order_by(AbuseReport.id)).all()


def rejoin(app, smtp, address: str, inbox_count: int) -> Member:
    """Join again through the page, in a browser of one's own, and confirm by the link."""
    browser = app.test_client()
    assert browser.post("/network/join", data=join_data(address)).status_code == 200
    browser.post(link_in(deliver(smtp, inbox_count)[-1], "/network/confirm/"))
    return member(address)


def report(app, reporter: Member, other: Member) -> None:
    response = signed_in_as(app, reporter).post(
        f"/network/members/{other.id}/report", data={"subject": "profile", "reason": "harassment"}
    )
    assert response.status_code == 302


def test_a_member_hidden_by_the_organisers_is_hidden_again_after_leaving_and_rejoining(
    app, client, smtp, staff
):
    ana = joined_member(app.test_client(), smtp, ANA)
    ana_id = ana.id
    network_admin.set_hidden(ana, hidden=True)
    signed_in_as(app, ana).post("/network/profile/leave", data=LEAVING)
    assert member(ANA) is None
    (kept,) = db.session.scalars(select(FormerMember))
    assert kept.hidden and kept.former_key == former_members.former_key(ANA)

    again = rejoin(app, smtp, ANA, inbox_count=2)
    assert again.id != ana_id or again.status is MemberStatus.HIDDEN  # SQLite may reuse ids
    assert again.is_hidden
    assert db.session.scalar(select(func.count()).select_from(FormerMember)) == 0
    browser = signed_in_as(app, again)
    assert browser.get("/network/directory").status_code == 403
    assert "Ana Petrova" not in app.test_client().get("/network").text
    # The organisers can put her back, as any hidden member.
    staff.post(f"/network/admin/members/{again.id}/show")
    assert member(ANA).is_active


def test_the_same_address_typed_otherwise_is_the_same_former_member(app, smtp):
    ana = joined_member(app.test_client(), smtp, ANA)
    network_admin.set_hidden(ana, hidden=True)
    members.leave(ana)
    assert rejoin(app, smtp, " Ana@Example.BG ", inbox_count=2) is None  # stored canonical
    assert member(ANA).is_hidden


def test_another_address_and_an_unconfirmed_join_get_nothing(app, smtp):
    ana = joined_member(app.test_client(), smtp, ANA)
    network_admin.set_hidden(ana, hidden=True)
    members.leave(ana)
    assert rejoin(app, smtp, "eva@example.se", inbox_count=2).is_active
    # Ana asks to join again but does not confirm: nothing is hers yet, and nothing is used up.
    app.test_client().post("/network/join", data=join_data(ANA))
    deliver(smtp, 3)
    assert member(ANA).is_pending
    assert db.session.scalar(select(func.count()).select_from(FormerMember)) == 1


def test_a_block_holds_against_the_member_who_left_and_joined_again(app, client, smtp):
    ana = joined_member(app.test_client(), smtp, ANA)
    lars = joined_member(client, smtp, "lars@example.dk", inbox_count=2, name="Lars Holm")
    client.post(f"/network/members/{ana.id}/block")  # Lars no longer hears from Ana
    members.leave(member(ANA))
    again = rejoin(app, smtp, ANA, inbox_count=3)
    assert again.is_active  # a block is one member's choice, not the organisers'
    response = signed_in_as(app, again).post(
        f"/network/members/{lars.id}/contact", data={"text": "Remember me?"}
    )
    assert "This member does not accept messages." in response.text
    db.session.expire_all()
    (block,) = db.session.scalars(select(ContactBlock))
    assert (block.member_id, block.blocked_id, block.former_key) == (lars.id, again.id, None)
    assert "Ana Petrova" in client.get("/network/profile").text  # his list names her again


def test_reports_about_a_member_who_left_wait_for_the_organisers(app, smtp, staff):
    ana = joined_member(app.test_client(), smtp, ANA)
    lars = joined_member(app.test_client(), smtp, "lars@example.dk", 2, name="Lars Holm")
    report(app, lars, ana)
    members.leave(member(ANA))
    page = staff.get("/network/admin/reports").text
    assert "has left the network" in page
    assert "Hide Ana Petrova if they join again" in page

    (found,) = reports()
    response = staff.post(f"/network/admin/reports/{found.id}/hide", follow_redirects=True)
    assert "Should they join again, they are hidden." in response.text
    (decided,) = reports()
    assert (decided.status, decided.reported_id) == (ReportStatus.ACTED, None)
    assert db.session.get(FormerMember, former_members.former_key(ANA)).hidden

    again = rejoin(app, smtp, ANA, inbox_count=3)
    assert again.is_hidden
    (theirs,) = reports()
    assert (theirs.reported_id, theirs.former_key) == (again.id, None)
    assert "Member hidden" in staff.get("/network/admin/reports").text


def test_a_member_hidden_who_left_is_shown_hidden_on_the_reports_about_them(app, smtp, staff):
    """Hidden by an organiser's own choice (not by a report), then gone: the open report says
    they are hidden, and offers no button to hide them again."""
    ana = joined_member(app.test_client(), smtp, ANA)
    lars = joined_member(app.test_client(), smtp, "lars@example.dk", 2, name="Lars Holm")
    report(app, lars, ana)
    network_admin.set_hidden(member(ANA), hidden=True)
    members.leave(member(ANA))
    page = staff.get("/network/admin/reports").text
    assert "has left the network · Hidden" in page
    assert "if they join again" not in page
    assert "Dismiss" in page  # the report itself is still to be decided


def test_a_member_hidden_before_leaving_is_told_so_on_joining_again(app, smtp):
    joined_member(app.test_client(), smtp, ANA)
    network_admin.set_hidden(member(ANA), hidden=True)
    members.leave(member(ANA))
    browser = app.test_client()
    assert browser.post("/network/join", data=join_data(ANA)).status_code == 200
    confirmed = browser.post(
        link_in(deliver(smtp, 2)[-1], "/network/confirm/"), follow_redirects=True
    )
    assert member(ANA).is_hidden
    assert "visible to members" not in confirmed.text
    assert "The organisers have hidden your profile" in confirmed.text


def test_a_report_about_a_member_who_left_can_be_dismissed(app, smtp, staff):
    ana = joined_member(app.test_client(), smtp, ANA)
    lars = joined_member(app.test_client(), smtp, "lars@example.dk", 2, name="Lars Holm")
    report(app, lars, ana)
    members.leave(member(ANA))
    (found,) = reports()
    staff.post(f"/network/admin/reports/{found.id}/dismiss")
    assert reports()[0].status is ReportStatus.DISMISSED
    assert not db.session.get(FormerMember, former_members.former_key(ANA)).hidden
    assert rejoin(app, smtp, ANA, inbox_count=3).is_active
    assert reports()[0].reported_id == member(ANA).id


@pytest.mark.parametrize("how", ["removed by an organiser", "erased"])
def test_removal_and_erasure_keep_what_holds_against_the_member(app, smtp, staff, how):
    ana = joined_member(app.test_client(), smtp, ANA)
    lars = joined_member(app.test_client(), smtp, "lars@example.dk", 2, name="Lars Holm")
    report(app, lars, ana)
    network_admin.set_hidden(member(ANA), hidden=True)
    if how == "erased":
        with write_transaction():
            members.forget(ANA)
    else:
        staff.post(f"/network/admin/members/{ana.id}/remove", data={"confirm": "y"})
    assert member(ANA) is None
    assert reports()[0].former_key == former_members.former_key(ANA)
    assert rejoin(app, smtp, ANA, inbox_count=4).is_hidden  # the report was mailed too


def test_nothing_is_kept_of_a_member_with_nothing_against_them(app, smtp):
    members.leave(joined_member(app.test_client(), smtp, ANA))
    assert db.session.scalar(select(func.count()).select_from(FormerMember)) == 0


def test_what_waits_for_a_former_member_goes_after_the_retention_period(app, smtp):
    ana = joined_member(app.test_client(), smtp, ANA)
    lars = joined_member(app.test_client(), smtp, "lars@example.dk", 2, name="Lars Holm")
    eva = joined_member(app.test_client(), smtp, "eva@example.se", 3, name="Eva Berg")
    report(app, lars, ana)
    report(app, lars, eva)
    member_contact_block = signed_in_as(app, lars).post(f"/network/members/{ana.id}/block")
    assert member_contact_block.status_code == 302
    members.leave(member(ANA))
    members.leave(member("eva@example.se"))
    days = app.config["RETENTION_DAYS"]
    with write_transaction():  # Ana left long ago; Eva just now
        db.session.get(FormerMember, former_members.former_key(ANA)).left_at = utcnow() - (
            timedelta(days=days + 1)
        )
    privacy.purge()
    assert [r.former_key for r in reports()] == [former_members.former_key("eva@example.se")]
    assert db.session.scalar(select(func.count()).select_from(ContactBlock)) == 0
    assert db.session.scalars(select(FormerMember.former_key)).all() == [
        former_members.former_key("eva@example.se")
    ]


def test_the_key_needs_the_secret(app, make_app):
    """A copy of the database does not tell whose address a digest is without SECRET_KEY."""
    key = former_members.former_key(ANA)
    assert len(key) == 64 and ANA not in key
    with make_app(SECRET_KEY="another secret of enough length").app_context():
        assert former_members.former_key(ANA) != key


@pytest.mark.postgresql_only
@pytest.mark.parametrize("first", ["organiser", "member"])
def test_an_organiser_hiding_a_former_member_as_she_confirms_her_return(
    app, smtp, make_user, monkeypatch, first
):
    """One or the other waits on PostgreSQL: she is hidden again, or the organiser is told the
    report has moved on (to her new profile, which they can hide). Never an active member with
    the report decided against her."""
    ana = joined_member(app.test_client(), smtp, ANA)
    lars = joined_member(app.test_client(), smtp, "lars@example.dk", 2, name="Lars Holm")
    report(app, lars, ana)
    members.leave(member(ANA))
    (found,) = reports()
    organiser_id = make_user("organiser").id
    browser = app.test_client()
    browser.post("/network/join", data=join_data(ANA))
    confirm_link = link_in(deliver(smtp, 3)[-1], "/network/confirm/")
    inside, go = threading.Event(), threading.Event()
    paused = former_members.hide if first == "organiser" else former_members.restore

    def pausing(*args, **kwargs):
        inside.set()
        go.wait(10)
        return paused(*args, **kwargs)

    monkeypatch.setattr(former_members, paused.__name__, pausing)
    decided, errors = [], []

    def organiser():
        with app.app_context():
            try:
                actor = db.session.get(User, organiser_id)
                decided.append(network_admin.hide_reported(found.id, actor=actor))
            except Exception as exc:
                errors.append(repr(exc)[:200])

    def her():
        with app.app_context():
            try:
                assert browser.post(confirm_link).status_code in (200, 302)
            except Exception as exc:
                errors.append(repr(exc)[:200])

    threads = [threading.Thread(target=organiser), threading.Thread(target=her)]
    if first == "member":
        threads.reverse()
    threads[0].start()
    assert inside.wait(10)
    threads[1].start()
    wait_until(lambda: someone_waits_for_a_lock() or not threads[1].is_alive())
    go.set()
    for thread in threads:
        thread.join()
    assert errors == []
    again = member(ANA)
    (theirs,) = reports()
    assert theirs.reported_id == again.id
    if decided[0] is not None:
        assert again.is_hidden and theirs.status is ReportStatus.ACTED
    else:
        assert again.is_active and theirs.is_open
    assert db.session.scalar(select(func.count()).select_from(FormerMember)) == 0


def test_the_migration_keeps_reports_and_blocks_when_a_member_leaves(backend, tmp_path):
    """Upgraded from 0028, the database keeps a report and a block about a member who leaves
    (the foreign keys were ON DELETE CASCADE); downgraded, what waited for her goes."""
    from flask_migrate import downgrade
    from sqlalchemy import text

    def count(table):
        return db.session.scalar(text(f"SELECT count(*) FROM {table}"))

    with migrated_from("0028_network_mail_outdated", backend, tmp_path) as upgrade_rest:
        for number, address in ((1, ANA), (2, "lars@example.dk")):
            db.session.execute(
                text(
                    "INSERT INTO member (id, email, name, organisation, country, target_group,"
                    " languages, public_fields, language, status, accepts_contact, receives_mail,"
                    " search_text, key, consent_at, created_at) VALUES (:id, :email, 'A', '',"
                    " 'BG', 'business', '[]', '[]', 'en', 'active', true, true, '', :key,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": number, "email": address, "key": f"key{number}"},
            )
        db.session.execute(
            text(
                "INSERT INTO abuse_report (reporter_id, reported_id, reason, snapshot, status,"
                " created_at) VALUES (2, 1, 'spam', '{}', 'open', CURRENT_TIMESTAMP)"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO contact_block (member_id, blocked_id, created_at)"
                " VALUES (2, 1, CURRENT_TIMESTAMP)"
            )
        )
        db.session.commit()
        db.session.remove()
        upgrade_rest()
        members.leave(db.session.get(Member, 1))
        assert (count("abuse_report"), count("contact_block"), count("former_member")) == (1, 1, 1)
        db.session.remove()
        downgrade(revision="0028_network_mail_outdated")
        db.session.remove()
        assert (count("abuse_report"), count("contact_block")) == (0, 0)
        db.session.remove()
        upgrade_rest()
        db.session.remove()


@pytest.mark.postgresql_only
@pytest.mark.parametrize("each_other", ["blocked", "reported"])
def test_two_members_who_blocked_or_reported_each_other_leave_at_once(app, monkeypatch, each_other):
    """Each leaving changes rows that are the other's too: neither waits for the other in a
    circle (a deadlock, 500 for one of them)."""
    ana = active_member("Ana Petrova", ANA)
    lars = active_member("Lars Holm", "lars@example.dk")
    for one, other in ((ana, lars), (lars, ana)):
        if each_other == "blocked":
            member_contact.block(one, other.id)
        else:
            abuse_reports.report(one, other, ReportReason.SPAM, None)
    ids = [ana.id, lars.id]
    both_kept = threading.Barrier(2, timeout=2)
    original = former_members.keep

    def keep_then_meet(member):
        original(member)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_kept.wait()  # the two leave at the same moment

    monkeypatch.setattr(former_members, "keep", keep_then_meet)
    errors = []

    def leave(member_id):
        with app.app_context():
            try:
                members.leave(db.session.get(Member, member_id))
            except Exception as exc:
                errors.append(repr(exc)[:1500])

    threads = [threading.Thread(target=leave, args=(member_id,)) for member_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0
    if each_other == "blocked":  # their own blocks went with each
        assert db.session.scalar(select(func.count()).select_from(ContactBlock)) == 0
    else:  # the reports about each wait, without their reporters
        assert [(r.reporter_id, r.reported_id) for r in reports()] == [(None, None)] * 2


@pytest.mark.postgresql_only
def test_an_erasure_and_a_sign_up_that_joins_for_one_address_at_once(
    app, monkeypatch, make_event, sign_up
):
    """An erasure on request (with the network profile) and the same address signing up again
    and ticking the network box take the event and the member: both in one order, so neither
    waits for the other in a circle (a deadlock, a 500 for one of them)."""
    event = make_event()
    registrant = sign_up(event, email=ANA)
    registrations.cancel(registrant.registrations[0])  # then signs up for it again
    active_member("Ana Petrova", ANA)
    registrant_id, slug = registrant.id, event.slug
    both_hold_one = threading.Barrier(2, timeout=2)

    def then_meet(original):
        def holding(*args, **kwargs):
            result = original(*args, **kwargs)
            with contextlib.suppress(threading.BrokenBarrierError):
                both_hold_one.wait()  # each holds its first lock at the same moment
            return result

        return holding

    monkeypatch.setattr(members, "forget", then_meet(members.forget))
    monkeypatch.setattr(
        registrations, "sign_up_by_slugs", then_meet(registrations.sign_up_by_slugs)
    )
    errors = []

    def erase():
        privacy.erase(db.session.get(Registrant, registrant_id), network_profile=True)

    def sign_up_and_join():
        again = details(email=ANA, first_name="Ana", network_opt_in=True)
        members.sign_up_and_join(again, [slug], "test")

    threads = [as_another_request(app, work, errors) for work in (erase, sign_up_and_join)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    emails = db.session.scalars(select(Registrant.email).order_by(Registrant.id)).all()
    assert len(emails) == 2 and ANA in emails  # one erased, one signed up again
