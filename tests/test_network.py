"""The network of practice: joining with double opt-in, one-time sign-in links, the profile,
the directory, contact through the service, stopping the e-mails in one click and leaving
(signed in, box ticked), with real e-mail."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select, text, update

from eventreg.database import write_transaction
from eventreg.extensions import db, limiter
from eventreg.models import (
    ContactBlock,
    ContactRequest,
    Member,
    MemberStatus,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    SkipReason,
    Topic,
    utcnow,
)
from eventreg.services import directory, member_contact, members, network_admin, outbox, topics
from eventreg.services.former_members import former_key
from tests.support.database import migrated_from
from tests.support.factories import PASSWORD, active_member
from tests.support.mail import smtp_config
from tests.test_transactions import another_worker


@pytest.fixture
def app_config(smtp):
    return smtp_config(smtp) | {"NETWORK_CONTACT_PER_DAY": 2}


def join_data(email, **overrides):
    return {
        "email": email,
        "name": "Ana Petrova",
        "organisation": "Община Габрово",
        "country": "BG",
        "target_group": "local_regional_authority",
        "role": "Procurement officer",
        "languages": ["bg", "en"],
        "bio": "Reserved contracts for social enterprises.",
        "language": "en",
        "accepts_contact": "y",
        "consent": "y",
    } | overrides


def shipped_topic(key, label):
    """A topic the migration ships (PostgreSQL tests start from emptied tables: add it again)."""
    found = db.session.scalar(select(Topic).where(Topic.key == key))
    return found or topics.add(label)


def deliver(smtp, count):
    outbox.deliver_all()
    db.session.rollback()
    messages = smtp.inbox.wait_for(count)
    assert len(messages) == count, [m["Subject"] for m in messages]
    return messages


def link_in(message, path):
    body = message.get_body(("plain",)).get_content()
    found = re.search(rf"http://eventreg\.test({re.escape(path)}\S+)", body)
    assert found, body
    return found.group(1)


def joined_member(client, smtp, email, inbox_count=1, **overrides):
    """Join through the page and confirm by the e-mailed link; the client is then signed in."""
    assert client.post("/network/join", data=join_data(email, **overrides)).status_code == 200
    message = deliver(smtp, inbox_count)[-1]
    client.post(link_in(message, "/network/confirm/"))
    return db.session.scalar(select(Member).where(Member.email == email))


def test_joining_needs_the_emailed_confirmation_before_anyone_sees_the_profile(client, app, smtp):
    response = client.post("/network/join", data=join_data("ana@example.bg"))
    assert "Check your e-mail" in response.text
    member = db.session.scalar(select(Member))
    assert member.is_pending
    assert client.get(f"/network/members/{member.id}").status_code == 404

    (message,) = deliver(smtp, 1)
    assert message["To"].addresses[0].addr_spec == "ana@example.bg"
    assert "confirm" in message["Subject"]
    unsubscribe = link_in(message, "/network/unsubscribe/")
    assert message["List-Unsubscribe"] == f"<http://eventreg.test{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    confirm = link_in(message, "/network/confirm/")
    assert client.get(confirm).status_code == 200  # a mail scanner opening it confirms nothing
    db.session.refresh(member)
    assert member.is_pending
    response = client.post(confirm)
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.is_active and member.confirmed_at is not None
    assert client.get("/network/profile").status_code == 200  # signed in by the confirmation

    other_browser = app.test_client()  # the link stays in the mailbox: it signs nobody in again
    response = other_browser.post(confirm)
    assert response.status_code == 410 and "This link no longer works" in response.text
    assert other_browser.get("/network/profile").status_code == 302


def test_join_refuses_bad_input_and_writes_nothing(client, app):
    response = client.post(
        "/network/join", data=join_data("not-an-address", consent="", country="XX")
    )
    assert response.status_code == 422
    assert "You can only join if you agree." in response.text
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_sign_up_opt_in_asks_for_confirmation_by_email(client, app, smtp, make_event):
    event = make_event()
    data = {
        "events": [event.slug],
        "first_name": "Lars",
        "last_name": "Holm",
        "email": "lars@example.dk",
        "organisation": "Odense Kommune",
        "country": "DK",
        "target_group": "local_regional_authority",
        "language": "da",
        "network_opt_in": "y",
        "consent": "y",
    }
    assert client.post("/register", data=data).status_code == 302
    member = db.session.scalar(select(Member))
    assert member.email == "lars@example.dk" and member.is_pending and member.language == "da"
    messages = deliver(smtp, 2)
    (confirmation,) = [m for m in messages if m["List-Unsubscribe"]]
    assert confirmation["Subject"] != "Please confirm that you are joining the network of practice"
    client.post(link_in(confirmation, "/network/confirm/"))
    db.session.refresh(member)
    assert member.is_active


def test_a_sign_in_link_works_once_and_expires(client, app, smtp):
    joined_member(client, smtp, "ana@example.bg")
    client.post("/network/sign-out")
    assert client.get("/network/profile").status_code == 302

    client.post("/network/sign-in", data={"email": "ANA@example.bg"})
    client.post("/network/sign-in", data={"email": "ana@example.bg"})  # within the pause
    message = deliver(smtp, 2)[-1]  # one link: the first still works
    path = link_in(message, "/network/sign-in/")
    sent = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "network_sign_in"))
    assert "nonce" not in sent.params  # sent: the outbox no longer holds what opens a session
    assert client.get(path).status_code == 200  # a mail scanner opening it uses nothing up
    assert client.post(path).status_code == 302
    assert client.get("/network/profile").status_code == 200
    client.post("/network/sign-out")
    assert client.post(path).status_code == 410  # used once already

    client.post("/network/sign-in", data={"email": "ana@example.bg"})  # the first one is used:
    path = link_in(deliver(smtp, 3)[-1], "/network/sign-in/")  # a new one at once, pause or not
    member = db.session.scalar(select(Member))
    member.sign_in_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.post(path).status_code == 410


def test_signing_out_ends_every_session_of_the_member(client, app, smtp):
    joined_member(client, smtp, "ana@example.bg")
    with client.session_transaction() as session:
        copied = dict(session)  # a second browser, or a cookie someone copied
    elsewhere = app.test_client()
    with elsewhere.session_transaction() as session:
        session.update(copied)
    assert elsewhere.get("/network/directory").status_code == 200
    client.post("/network/sign-out")
    response = elsewhere.get("/network/directory")
    assert response.status_code == 302 and "/network/sign-in" in response.headers["Location"]


def test_members_pages_are_kept_out_of_caches(client, app, smtp):
    ana = joined_member(client, smtp, "ana@example.bg")
    lars = joined_member(client, smtp, "lars@example.dk", inbox_count=2, name="Lars Holm")
    for path in (
        "/network/directory",
        "/network/profile",
        f"/network/members/{ana.id}",
        f"/network/members/{ana.id}/contact",
    ):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    assert "no-store" not in app.test_client().get(f"/network/members/{lars.id}").headers.get(
        "Cache-Control", ""
    )


def test_a_hidden_member_keeps_their_own_pages_but_not_the_directory(client, app, smtp, make_user):
    lars = joined_member(client, smtp, "lars@example.dk", name="Lars Holm")
    ana = joined_member(client, smtp, "ana@example.bg", inbox_count=2)
    make_user("organiser")
    organiser = app.test_client()
    organiser.post("/login", data={"email": "organiser@example.org", "password": PASSWORD})
    assert organiser.post(f"/network/admin/members/{ana.id}/hide").status_code == 302
    profile = client.get("/network/profile").text
    assert "hidden your profile" in profile
    assert 'href="/network/directory"' not in profile  # no menu entry to a closed page
    assert client.get("/network/profile/data.json").status_code == 200
    for path in ("/network/directory", "/practices/propose", f"/network/members/{lars.id}/contact"):
        response = client.get(path)  # a page that says why, not a sign-in she already did
        assert response.status_code == 403, path
        assert "Your profile is hidden" in response.text, path
        assert "The organisers have hidden your profile" in response.text, path
    assert client.get(f"/network/members/{lars.id}/contact").status_code == 403
    assert client.post(f"/network/members/{lars.id}/block").status_code == 403
    hidden = signed_in_as(app, lars).post(f"/network/members/{ana.id}/block")
    assert hidden.status_code == 404  # a hidden profile is as unknown to Lars as a wrong number
    db.session.execute(ContactBlock.__table__.insert().values(member_id=ana.id, blocked_id=lars.id))
    db.session.commit()  # a block Ana made before she was hidden: she can still undo it
    response = client.post(f"/network/members/{lars.id}/unblock", data={"back": "profile"})
    assert response.status_code == 302 and response.headers["Location"] == "/network/profile"
    assert client.post(f"/network/members/{lars.id}/contact", data={"text": "x"}).status_code == 403


def test_sign_in_for_an_unknown_address_sends_nothing_and_says_the_same(client, app, smtp):
    response = client.post("/network/sign-in", data={"email": "nobody@example.org"})
    assert "Check your e-mail" in response.text
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_directory_is_for_members_and_filters(client, app, smtp):
    topic = shipped_topic("reserved-contracts", "Reserved contracts")
    assert client.get("/network/directory").status_code == 302  # not signed in
    joined_member(client, smtp, "ana@example.bg", topics=[str(topic.id)])
    joined_member(
        client,
        smtp,
        "joao@example.pt",
        inbox_count=2,
        name="João Silva",
        organisation="Câmara Municipal de Torres Vedras",
        country="PT",
        languages=["pt"],
        bio="Employment clauses",
    )
    page = client.get("/network/directory").text
    assert "Ana Petrova" in page and "João Silva" in page
    page = client.get("/network/directory?country=BG").text
    assert "Ana Petrova" in page and "João Silva" not in page
    page = client.get(f"/network/directory?topic={topic.id}").text
    assert "Ana Petrova" in page and "João Silva" not in page
    page = client.get("/network/directory?language=pt").text
    assert "João Silva" in page and "Ana Petrova" not in page
    page = client.get("/network/directory?q=torres+vedras").text
    assert "João Silva" in page and "Ana Petrova" not in page
    page = client.get("/network/directory?q=CÂMARA").text  # beyond ASCII, on SQLite too
    assert "João Silva" in page and "Ana Petrova" not in page
    page = client.get("/network/directory?q=габрово").text  # "Община Габрово"
    assert "Ana Petrova" in page and "João Silva" not in page
    page = client.get("/network/directory?target_group=business").text
    assert "João Silva" not in page and "Ana Petrova" not in page


def test_the_directory_finds_names_typed_without_their_accents(client, app, smtp):
    joined_member(client, smtp, "ana@example.bg")
    soren = joined_member(
        client, smtp, "soren@example.dk", inbox_count=2, name="Søren Jørgensen", country="DK"
    )
    joined_member(
        client, smtp, "elodie@example.es", inbox_count=3, name="Élodie Núñez", country="ES"
    )
    for words, found in [
        ("jorgensen", "Søren Jørgensen"),
        ("SOREN", "Søren Jørgensen"),
        ("Jørgensen", "Søren Jørgensen"),
        ("Nunez", "Élodie Núñez"),
        ("elodie", "Élodie Núñez"),
        ("ÉLODIE núñez", "Élodie Núñez"),
    ]:
        page = client.get("/network/directory", query_string={"q": words}).text
        assert found in page, words
        assert "Ana Petrova" not in page, words
    page = client.get("/network/directory?q=100%25").text  # LIKE's wildcards are plain text
    assert "Søren Jørgensen" not in page and "Ana Petrova" not in page

    soren_browser = signed_in_as(app, soren)  # kept up to date on every change
    data = join_data(soren.email, name="Søren Ærø", organisation="Odense Kommune", country="DK")
    assert soren_browser.post("/network/profile", data=data).status_code == 302
    page = client.get("/network/directory?q=aero").text
    assert "Søren Ærø" in page
    assert "Søren" not in client.get("/network/directory?q=jorgensen").text
    db.session.refresh(soren)
    assert soren.search_text.startswith("soren aero\nodense kommune\n")


def test_the_public_page_counts_members_and_shows_only_public_fields(client, app, smtp):
    joined_member(client, smtp, "ana@example.bg", public_fields=["name", "country"])
    joined_member(client, smtp, "lars@example.dk", inbox_count=2, name="Lars Holm", country="DK")
    client.post("/network/sign-out")
    page = client.get("/network").text
    assert "2 members" in page
    assert "Bulgaria" in page and "Denmark" in page
    assert "Ana Petrova" in page and "Lars Holm" not in page
    ana = db.session.scalar(select(Member).where(Member.email == "ana@example.bg"))
    lars = db.session.scalar(select(Member).where(Member.email == "lars@example.dk"))
    profile = client.get(f"/network/members/{ana.id}").text
    assert "Bulgaria" in profile and "Община Габрово" not in profile
    assert "ana@example.bg" not in profile
    assert client.get(f"/network/members/{lars.id}").status_code == 404


def test_contact_goes_through_the_service_with_reply_to_and_a_daily_limit(client, app, smtp):
    ana = joined_member(client, smtp, "ana@example.bg")
    joined_member(client, smtp, "lars@example.dk", inbox_count=2, name="Lars Holm")
    page = client.get(f"/network/members/{ana.id}").text
    assert "ana@example.bg" not in page
    response = client.post(f"/network/members/{ana.id}/contact", data={"text": "Hej Ana!"})
    assert response.status_code == 302
    message = deliver(smtp, 3)[-1]
    assert message["To"].addresses[0].addr_spec == "ana@example.bg"
    assert message["Reply-To"].addresses[0].addr_spec == "lars@example.dk"
    assert "Hej Ana!" in message.get_body(("plain",)).get_content()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    client.post(f"/network/members/{ana.id}/contact", data={"text": "Second"})
    response = client.post(f"/network/members/{ana.id}/contact", data={"text": "Third"})
    assert response.status_code == 422
    assert "most messages allowed in 24 hours. You can write again in 1 day" in response.text
    assert db.session.scalar(select(func.count()).select_from(ContactRequest)) == 2

    # The limit counts the last 24 hours, not the calendar day ("try again tomorrow" was
    # wrong both ways): written 20 and 2 hours ago, the next may go in 4 hours.
    first, second = db.session.scalars(select(ContactRequest).order_by(ContactRequest.id)).all()
    first.created_at = utcnow() - timedelta(hours=20)
    second.created_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    response = client.post(f"/network/members/{ana.id}/contact", data={"text": "Third"})
    assert "You can write again in 4 hours." in response.text
    first.created_at = utcnow() - timedelta(hours=24, minutes=1)
    db.session.commit()
    response = client.post(f"/network/members/{ana.id}/contact", data={"text": "Third"})
    assert response.status_code == 302


def test_a_member_who_blocks_contact_gets_no_messages(client, app, smtp):
    ana = joined_member(client, smtp, "ana@example.bg", accepts_contact="")
    joined_member(client, smtp, "lars@example.dk", inbox_count=2, name="Lars Holm")
    response = client.post(f"/network/members/{ana.id}/contact", data={"text": "Hello"})
    assert response.status_code == 422
    assert "does not accept messages" in response.text
    assert db.session.scalar(select(func.count()).select_from(ContactRequest)) == 0


LEAVING = {"confirm": "y"}  # the ticked box "Yes, delete my profile"


def signed_in_as(app, member):
    """Another browser, signed in to the network as this member."""
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["network_member"] = members.open_session(member)
    return browser


def test_one_members_messages_stop_by_the_link_in_their_message(client, app, smtp, make_app):
    ana = joined_member(client, smtp, "ana@example.bg")
    lars = joined_member(client, smtp, "lars@example.dk", inbox_count=2, name="Lars Holm")
    assert (
        client.post(f"/network/members/{ana.id}/contact", data={"text": "Hej"}).status_code == 302
    )
    message = deliver(smtp, 3)[-1]
    link = link_in(message, "/network/block/")
    html = message.get_body(("html",)).get_content()
    assert f'<a href="http://eventreg.test{link}">Stop messages from Lars Holm</a>' in html

    mail_reader = make_app(WTF_CSRF_ENABLED=True).test_client()  # not signed in, real CSRF
    page = mail_reader.get(link)
    assert page.status_code == 200 and "Stop messages from Lars Holm" in page.text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)[1]
    assert mail_reader.post(link).status_code == 400  # a link scanner's POST without the form
    response = mail_reader.post(link, data={"csrf_token": token})
    assert "You will get no more messages from Lars Holm." in response.text
    assert mail_reader.post(link, data={"csrf_token": token}).status_code == 200  # twice: same

    response = client.post(f"/network/members/{ana.id}/contact", data={"text": "Again"})
    assert response.status_code == 422
    assert "This member does not accept messages." in response.text
    page = client.get(f"/network/members/{ana.id}").text
    assert "Write to Ana Petrova" not in page and "does not accept messages" in page
    assert db.session.scalar(select(func.count()).select_from(ContactRequest)) == 1

    eva = joined_member(client, smtp, "eva@example.se", inbox_count=4, name="Eva Berg")
    assert client.post(f"/network/members/{ana.id}/contact", data={"text": "Hi"}).status_code == 302
    assert deliver(smtp, 5)[-1]["Reply-To"].addresses[0].addr_spec == eva.email

    ana_browser = signed_in_as(app, ana)
    profile = ana_browser.get("/network/profile").text
    assert "Lars Holm" in profile and "Take messages from Lars Holm again" in profile
    response = ana_browser.post(f"/network/members/{lars.id}/unblock", data={"back": "profile"})
    assert response.headers["Location"] == "/network/profile"
    assert "Take messages from" not in ana_browser.get("/network/profile").text
    lars_browser = signed_in_as(app, lars)
    response = lars_browser.post(f"/network/members/{ana.id}/contact", data={"text": "Thanks"})
    assert response.status_code == 302


def test_a_member_stops_another_members_messages_from_their_page(client, app, smtp):
    ana = joined_member(client, smtp, "ana@example.bg")
    lars = joined_member(client, smtp, "lars@example.dk", inbox_count=2, name="Lars Holm")
    ana_browser = signed_in_as(app, ana)
    assert "Stop messages from Lars Holm" in ana_browser.get(f"/network/members/{lars.id}").text
    response = ana_browser.post(f"/network/members/{lars.id}/block")
    assert response.headers["Location"] == f"/network/members/{lars.id}"
    page = ana_browser.get(f"/network/members/{lars.id}").text
    assert "You will get no more messages from Lars Holm." in page  # the flash
    assert "Take messages from Lars Holm again" in page
    assert "Write to Lars Holm" in page  # Ana may still write to him herself
    assert client.post(f"/network/members/{ana.id}/contact", data={"text": "?"}).status_code == 422
    assert members.export_profile(ana.email)["messages_stopped_from"] == ["Lars Holm"]

    assert ana_browser.post(f"/network/members/{ana.id}/block").status_code == 404  # herself
    client.post("/network/join", data=join_data("eva@example.se", name="Eva Pending"))
    eva = db.session.scalar(select(Member).where(Member.email == "eva@example.se"))
    response = ana_browser.post(f"/network/members/{eva.id}/block")  # not confirmed: unseen
    assert response.status_code == 404 and "Eva Pending" not in response.text
    assert "Eva Pending" not in ana_browser.get("/network/profile").text
    assert ana_browser.post("/network/members/999999/block").status_code == 404
    assert app.test_client().post(f"/network/members/{lars.id}/block").status_code == 302  # sign in


def test_a_forged_or_stale_block_link_does_nothing(client, app, smtp):
    ana = joined_member(client, smtp, "ana@example.bg")
    lars_id = joined_member(client, smtp, "lars@example.dk", inbox_count=2, name="Lars Holm").id
    client.post(f"/network/members/{ana.id}/contact", data={"text": "Hej"})
    link = link_in(deliver(smtp, 3)[-1], "/network/block/")
    signed_in_as(app, ana).post(f"/network/members/{lars_id}/block")  # waits when Lars leaves
    assert db.session.scalar(select(func.count()).select_from(ContactBlock)) == 1
    assert client.get(link[:-2] + ("AA" if not link.endswith("AA") else "BB")).status_code == 404
    assert client.post(link.replace("/block/", "/block/x")).status_code == 404

    client.post("/network/profile/leave", data=LEAVING)  # Lars leaves: his row goes
    assert db.session.get(Member, lars_id) is None
    assert client.get(link).status_code == 404
    (block,) = db.session.scalars(select(ContactBlock))
    assert (block.blocked_id, block.former_key) == (None, former_key("lars@example.dk"))


def test_a_members_own_blocks_go_when_they_leave(client, app, smtp):
    """Her blocks go with her; Lars's block of her waits, should she join again
    (test_former_members.py)."""
    ana = joined_member(client, smtp, "ana@example.bg")
    lars = joined_member(client, smtp, "lars@example.dk", inbox_count=2, name="Lars Holm")
    signed_in_as(app, ana).post(f"/network/members/{lars.id}/block")
    client.post(f"/network/members/{ana.id}/block")
    assert db.session.scalar(select(func.count()).select_from(ContactBlock)) == 2
    signed_in_as(app, ana).post("/network/profile/leave", data=LEAVING)
    db.session.expire_all()
    (kept,) = db.session.scalars(select(ContactBlock))
    assert (kept.member_id, kept.blocked_id) == (lars.id, None)
    assert kept.former_key == former_key("ana@example.bg")


def test_leaving_needs_the_members_session_and_the_ticked_box(client, app, smtp):
    ana_id = joined_member(client, smtp, "ana@example.bg").id
    page = client.get("/network/profile").text
    assert "Yes, delete my profile" in page and "Leave the network and delete my profile" in page
    assert 'class="link-button">Sign out</button>' in page  # the nav only ends the session
    stranger = app.test_client()  # not signed in: nothing to leave
    response = stranger.post("/network/profile/leave", data=LEAVING)
    assert response.status_code == 302 and "/network/sign-in" in response.headers["Location"]
    assert db.session.get(Member, ana_id) is not None

    response = client.post("/network/profile/leave")  # the button alone, box not ticked
    assert response.status_code == 422
    assert "Tick the box to confirm that your profile is deleted." in response.text
    assert 'href="#confirm"' in response.text  # named in the error summary
    assert db.session.get(Member, ana_id) is not None

    response = client.post("/network/profile/leave", data=LEAVING)
    assert "You have left the network" in response.text
    assert db.session.get(Member, ana_id) is None
    assert client.get("/network/profile").status_code == 302


def test_the_link_in_every_network_email_only_stops_the_emails(client, app, smtp, make_app):
    """Replies quote the e-mail, so the sender of a member's message holds its footer link: it
    stops the e-mails (reversible) and never deletes the profile."""
    ana = joined_member(client, smtp, "ana@example.bg")
    lars = joined_member(client, smtp, "lars@example.dk", inbox_count=2, name="Lars Holm")
    client.post(f"/network/members/{ana.id}/contact", data={"text": "Hej Ana!"})
    letter = deliver(smtp, 3)[-1]
    body = letter.get_body(("plain",)).get_content()
    link = link_in(letter, "/network/unsubscribe/")
    assert letter["List-Unsubscribe"] == f"<http://eventreg.test{link}>"
    assert "/network/leave/" not in body and "Leave the network" not in body
    assert f'href="http://eventreg.test{link}"' in letter.get_body(("html",)).get_content()

    mail_client = make_app(WTF_CSRF_ENABLED=True).test_client()  # Lars, or a mail client
    page = mail_client.get(link)  # a link scanner's GET: a page with a button, nothing done
    assert page.status_code == 200 and "Stop the network's e-mails" in page.text
    db.session.refresh(ana)
    assert ana.receives_mail
    response = mail_client.post(link, data={"List-Unsubscribe": "One-Click"})  # RFC 8058
    assert response.status_code == 200
    assert "The network will send you no more e-mails" in response.text
    db.session.refresh(ana)
    assert ana.email == "ana@example.bg" and not ana.receives_mail  # still a member
    assert mail_client.post(link.replace("/unsubscribe/", "/unsubscribe/x")).status_code == 404

    page = client.get(f"/network/members/{ana.id}").text  # Lars sees she takes no messages
    assert "does not accept messages" in page and "Write to Ana Petrova" not in page
    response = client.post(f"/network/members/{ana.id}/contact", data={"text": "Again"})
    assert response.status_code == 422 and "does not accept messages" in response.text
    assert network_admin.announce("News", "Text") == 1  # Lars only
    announced = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "network_announcement")
    ).all()
    assert [message.recipient for message in announced] == [lars.email]

    ana_browser = signed_in_as(app, ana)  # she turns them back on from her profile
    profile = ana_browser.get("/network/profile").text
    assert "You receive no e-mails from the network" in profile
    response = ana_browser.post("/network/profile/emails/resume")
    assert response.headers["Location"] == "/network/profile"
    db.session.refresh(ana)
    assert ana.receives_mail
    response = client.post(f"/network/members/{ana.id}/contact", data={"text": "Hi again"})
    assert response.status_code == 302
    ana_browser.post("/network/profile/emails/stop")
    db.session.refresh(ana)
    assert not ana.receives_mail
    assert members.export_profile(ana.email)["receives_network_emails"] is False


def test_links_sent_before_to_leave_now_only_stop_the_emails(client, app, smtp, make_app):
    """The links in e-mails sent before deleted the profile; in mailboxes and quoted replies
    they now do what the new link does."""
    ana = joined_member(client, smtp, "ana@example.bg")
    token = link_in(smtp.inbox.messages[0], "/network/unsubscribe/").rsplit("/", 1)[1]
    stranger = make_app(WTF_CSRF_ENABLED=True).test_client()
    response = stranger.post(f"/network/leave/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.refresh(ana)
    assert not ana.receives_mail and db.session.get(Member, ana.id) is not None
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_the_profile_page_saves_changes_and_visibility(client, app, smtp):
    ana = joined_member(client, smtp, "ana@example.bg")
    data = join_data("ana@example.bg", name="Ana P. Petrova", public_fields=["name", "bio"])
    response = client.post("/network/profile", data=data)
    assert response.status_code == 302
    db.session.refresh(ana)
    assert ana.name == "Ana P. Petrova" and ana.public_fields == ["name", "bio"]
    response = client.post("/network/profile", data=data | {"name": ""})
    assert response.status_code == 422
    db.session.refresh(ana)
    assert ana.name == "Ana P. Petrova"


def test_a_registration_in_a_members_name_reaches_nothing_of_the_network(
    client, app, smtp, make_event
):
    """Anyone can sign up with any address: its manage link must not read or erase the
    network profile of the member who owns the address."""
    ana_id = joined_member(client, smtp, "ana@example.bg").id
    stranger = app.test_client()
    event = make_event()
    form = {
        "events": event.slug,
        "first_name": "Not",
        "last_name": "Ana",
        "email": "ana@example.bg",
        "organisation": "Nobody",
        "country": "BG",
        "target_group": "business",
        "language": "en",
        "consent": "y",
    }
    response = stranger.post("/register", data=form)
    assert response.status_code == 302, response.text
    manage = response.headers["Location"].removesuffix("/confirmed")
    data = stranger.get(f"{manage}/data.json").get_json()
    assert data["person"]["email"] == "ana@example.bg"
    assert "network_profile" not in data and "Reserved contracts" not in str(data)
    assert stranger.post(f"{manage}/erase", data={"confirm": "y"}).status_code == 200
    assert db.session.get(Member, ana_id) is not None


def test_organisers_export_and_erase_the_network_profile_on_request(
    client, app, smtp, sign_up, make_event, make_user, auth
):
    registrant = sign_up(make_event(), email="ana@example.bg")
    ana_id = joined_member(client, smtp, "ana@example.bg", inbox_count=2).id
    reference = registrant.registrations[0].reference
    make_user("organiser")
    auth.login("organiser@example.org")
    exported = client.get(f"/admin/registrations/{reference}/data.json").get_json()
    assert exported["network_profile"]["name"] == "Ana Petrova"
    assert exported["network_profile"]["languages"] == ["bg", "en"]
    client.post(f"/admin/registrations/{reference}/erase", data={"confirm": "y"})
    assert db.session.get(Member, ana_id) is None


def test_members_download_their_own_profile(client, app, smtp):
    ana = joined_member(client, smtp, "ana@example.bg")
    assert "/network/profile/data.json" in client.get("/network/profile").text
    response = client.get("/network/profile/data.json")
    assert response.headers["Content-Disposition"].startswith("attachment")
    data = response.get_json()
    assert data["email"] == "ana@example.bg" and data["status"] == MemberStatus.ACTIVE.value
    assert data["bio"] == "Reserved contracts for social enterprises."
    anonymous = app.test_client().get("/network/profile/data.json")
    assert anonymous.status_code == 302 and "/network/sign-in" in anonymous.headers["Location"]
    assert ana.email not in anonymous.text


def test_organisers_cannot_read_sign_in_links_or_members_letters(
    client, app, smtp, make_user, auth
):
    ana = joined_member(client, smtp, "ana@example.bg")
    joined_member(client, smtp, "lars@example.dk", inbox_count=2, name="Lars Holm")
    client.post(f"/network/members/{ana.id}/contact", data={"text": "Private words"})
    client.post("/network/sign-out")
    client.post("/network/sign-in", data={"email": "ana@example.bg"})
    make_user("organiser")
    auth.login("organiser@example.org")
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    kinds = [m.kind.value for m in messages]
    assert kinds == ["network_confirm", "network_confirm", "network_contact", "network_sign_in"]
    for message in messages:  # a confirmation link signs in once: only its recipient sees it
        assert client.get(f"/admin/outbox/{message.id}").status_code == 404
        assert client.get(f"/admin/outbox/{message.id}.eml").status_code == 404
    assert "Private words" not in client.get("/admin/outbox").text


@pytest.mark.parametrize("language", ["en", "bg", "it", "pt", "da", "sv", "es"])
def test_network_emails_are_in_the_members_language(client, app, smtp, language):
    client.post("/network/join", data=join_data("ana@example.org", language=language))
    (message,) = deliver(smtp, 1)
    with app.test_request_context(), force_locale(language):
        subject = gettext("Please confirm that you are joining the network of practice")
        footer = gettext("Stop the network's e-mails")
    assert message["Subject"] == subject
    assert footer in message.get_body(("plain",)).get_content()
    assert f'lang="{language}"' in message.get_body(("html",)).get_content()


def test_asking_for_sign_in_links_is_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGNUP="2 per minute")
    client = app.test_client()
    limiter.reset()
    try:
        for _ in range(2):
            response = client.post("/network/sign-in", data={"email": "x@example.org"})
            assert response.status_code == 200
        response = client.post("/network/sign-in", data={"email": "x@example.org"})
        assert response.status_code == 429
        assert client.get("/network/sign-in").status_code == 200  # reading the page is free
    finally:
        with app.app_context():
            limiter.reset()


def test_asking_again_and_again_sends_one_link_per_pause(client, app, smtp):
    """Whoever asks, from any address: a mailbox gets one confirmation or sign-in link per
    RESEND_LINK_PAUSE_MINUTES."""
    for _ in range(3):
        client.post("/network/join", data=join_data("ana@example.bg"))
    deliver(smtp, 1)
    client.post(link_in(smtp.inbox.messages[0], "/network/confirm/"))
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        stranger = app.test_client()
        stranger.post(
            "/network/sign-in",
            data={"email": "ana@example.bg"},
            environ_base={"REMOTE_ADDR": address},
        )
    deliver(smtp, 2)
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert [kind.value for kind in kinds] == ["network_confirm", "network_sign_in"]


def test_a_pending_profile_written_by_someone_else_is_never_confirmed_by_the_owners_link(
    client, app, smtp
):
    """Anyone can type Ana's address into the join form before she confirms: the link she was
    sent then stops working, and the new one shows her what it would publish."""
    client.post("/network/join", data=join_data("ana@example.bg"))
    (first,) = deliver(smtp, 1)
    stranger = app.test_client()
    defaced = join_data("ana@example.bg", name="Not Ana", bio="Buy cheap watches.")
    stranger.post("/network/join", data=defaced, environ_base={"REMOTE_ADDR": "10.0.0.9"})

    old_link = link_in(first, "/network/confirm/")
    assert client.get(old_link).status_code == 410
    response = client.post(old_link)
    assert response.status_code == 410 and "This link no longer works" in response.text
    member = db.session.scalar(select(Member))
    assert member.is_pending

    second = deliver(smtp, 2)[-1]  # a link for the profile as it is now, to Ana's mailbox
    page = client.get(link_in(second, "/network/confirm/")).text
    assert "Not Ana" in page and "Buy cheap watches." in page and "Confirm only if" in page
    assert "Nothing: only members see the profile." in page

    client.post("/network/join", data=join_data("ana@example.bg"))  # she writes it again
    third = deliver(smtp, 3)[-1]
    assert client.post(link_in(second, "/network/confirm/")).status_code == 410
    assert client.post(link_in(third, "/network/confirm/")).status_code == 302
    db.session.refresh(member)
    assert member.is_active and member.name == "Ana Petrova"
    assert member.bio == "Reserved contracts for social enterprises."


def test_a_confirmation_still_queued_when_the_profile_is_rewritten_is_not_sent(client, app, smtp):
    """Its link is made when it is sent, from the key as it is then: it would confirm the
    rewritten profile under a greeting to the name Ana wrote."""
    client.post("/network/join", data=join_data("ana@example.bg"))
    stranger = app.test_client()
    defaced = join_data("ana@example.bg", name="Not Ana", bio="Buy cheap watches.")
    stranger.post("/network/join", data=defaced, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    (only,) = deliver(smtp, 1)
    assert "Not Ana" in only.get_body(("plain",)).get_content()
    first = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
    assert (first.status, first.skip_reason) == (MessageStatus.SKIPPED, SkipReason.REPLACED)


def test_the_confirmation_page_says_who_would_see_the_profile_and_write_to_them(client, app, smtp):
    """The same text, made public by someone else: a change confirming would publish."""
    client.post("/network/join", data=join_data("ana@example.bg", accepts_contact=""))
    deliver(smtp, 1)
    widened = join_data("ana@example.bg", public_fields=["organisation", "bio"])
    app.test_client().post("/network/join", data=widened, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    page = client.get(link_in(deliver(smtp, 2)[-1], "/network/confirm/")).text
    public = re.search(r"Show to everyone, not only to members</dt><dd>([^<]*)</dd>", page)
    assert public.group(1) == "Organisation, About me"
    contact = re.search(r"Other members may write to me through the service</dt><dd>(\w+)", page)
    assert contact.group(1) == "Yes"


def test_rewriting_a_pending_profile_again_and_again_sends_a_few_links_per_pause(client, app, smtp):
    """Each rewrite replaces the link before it; once CONFIRMATIONS_PER_PAUSE went, the profile
    stays as the newest link shows it until the pause is over."""
    for n in range(6):
        client.post("/network/join", data=join_data("ana@example.bg", role=f"Role {n}"))
    (newest,) = deliver(smtp, 1)
    sent = (
        select(OutboxMessage.skip_reason)
        .where(OutboxMessage.kind == MessageKind.NETWORK_CONFIRM)
        .order_by(OutboxMessage.id)
    )
    assert db.session.scalars(sent).all() == [SkipReason.REPLACED, SkipReason.REPLACED, None]
    assert app.config["CONFIRMATIONS_PER_PAUSE"] == 3
    page = client.get(link_in(newest, "/network/confirm/")).text
    assert "Role 2" in page
    assert client.post(link_in(newest, "/network/confirm/")).status_code == 302
    assert db.session.scalar(select(Member.role)) == "Role 2"


def test_signing_in_leads_back_to_the_page_the_member_was_going_to(client, app, smtp):
    joined_member(client, smtp, "ana@example.bg")
    client.post("/network/sign-out")
    response = client.get("/practices/propose")
    assert response.headers["Location"] == "/network/sign-in?next=/practices/propose"
    page = client.get(response.headers["Location"]).text
    assert 'name="next" type="hidden" value="/practices/propose"' in page
    client.post("/network/sign-in", data={"email": "ana@example.bg", "next": "/practices/propose"})
    link = link_in(deliver(smtp, 2)[-1], "/network/sign-in/")
    assert link.endswith("?next=/practices/propose")
    assert client.get(link).status_code == 200  # the button posts back to the same address
    response = client.post(link)
    assert response.status_code == 302 and response.headers["Location"] == "/practices/propose"
    assert client.get("/practices/propose").status_code == 200
    client.post("/network/sign-out")
    response = client.get("/network/directory?q=petrova")  # the search is kept too
    wanted = parse_qs(urlsplit(response.headers["Location"]).query)["next"]
    assert wanted == ["/network/directory?q=petrova"]


@pytest.mark.parametrize(
    "elsewhere", ["https://evil.example/x", "//evil.example/x", "/\\evil.example/x", "javascript:x"]
)
def test_signing_in_never_leads_to_another_site(client, app, smtp, elsewhere):
    joined_member(client, smtp, "ana@example.bg")
    client.post("/network/sign-out")
    page = client.get("/network/sign-in", query_string={"next": elsewhere}).text
    assert 'name="next" type="hidden" value=""' in page  # not carried on
    client.post("/network/sign-in", data={"email": "ana@example.bg", "next": elsewhere})
    link = link_in(deliver(smtp, 2)[-1], "/network/sign-in/")
    assert "next=" not in link  # refused when the link was made
    forged = link + "?" + urlencode({"next": elsewhere})  # and when it is used
    response = client.post(forged)
    assert response.status_code == 302
    assert response.headers["Location"] == "/network/directory"


def test_joining_from_a_deep_page_leads_there_once_the_address_is_confirmed(client, app, smtp):
    response = client.get("/practices/propose")
    sign_in_page = client.get(response.headers["Location"]).text
    assert 'href="/network/join?next=/practices/propose"' in sign_in_page  # not yet a member
    page = client.get("/network/join", query_string={"next": "/practices/propose"}).text
    assert 'name="next" type="hidden" value="/practices/propose"' in page
    data = join_data("ana@example.bg", next="/practices/propose")
    assert client.post("/network/join", data=data).status_code == 200
    link = link_in(deliver(smtp, 1)[0], "/network/confirm/")
    assert link.endswith("?next=/practices/propose")
    assert client.get(link).status_code == 200  # the button posts back to the same address
    response = client.post(link)
    assert response.status_code == 302 and response.headers["Location"] == "/practices/propose"
    assert client.get("/practices/propose").status_code == 200
    assert db.session.scalar(select(Member)).is_active


def test_a_member_joining_again_from_a_deep_page_gets_a_sign_in_link_leading_there(
    client, app, smtp
):
    joined_member(client, smtp, "ana@example.bg")
    client.post("/network/sign-out")
    data = join_data("ana@example.bg", next="/network/directory?q=petrova")
    assert client.post("/network/join", data=data).status_code == 200
    link = link_in(deliver(smtp, 2)[-1], "/network/sign-in/")
    assert parse_qs(urlsplit(link).query)["next"] == ["/network/directory?q=petrova"]


@pytest.mark.parametrize(
    "elsewhere", ["https://evil.example/x", "//evil.example/x", "/\\evil.example/x", "javascript:x"]
)
def test_confirming_the_address_never_leads_to_another_site(client, app, smtp, elsewhere):
    sign_in_page = client.get("/network/sign-in", query_string={"next": elsewhere}).text
    assert "/network/join?next" not in sign_in_page
    page = client.get("/network/join", query_string={"next": elsewhere}).text
    assert 'name="next" type="hidden" value=""' in page  # not carried on
    client.post("/network/join", data=join_data("ana@example.bg", next=elsewhere))
    link = link_in(deliver(smtp, 1)[0], "/network/confirm/")
    assert "next=" not in link  # refused when the link was made
    forged = link + "?" + urlencode({"next": elsewhere})  # and when it is used
    response = client.post(forged)
    assert response.status_code == 302
    assert response.headers["Location"] == "/network/profile"
    assert db.session.scalar(select(Member)).is_active


def test_the_join_error_summary_follows_the_page(client, app):
    response = client.post("/network/join", data=join_data("not-an-address", name="", consent=""))
    assert response.status_code == 422
    summary = response.text.split('id="error-summary"', 1)[1].split("</ul>", 1)[0]
    links = re.findall(r'href="#([\w-]+)"', summary)
    assert links == ["email", "name", "consent"]


@pytest.mark.parametrize("language", ["en", "bg", "it", "pt", "da", "sv", "es"])
def test_signing_out_reads_nothing_like_leaving(app, language):
    """The nav's sign-out and the profile's leaving share no word ("Uscire dalla rete" and
    "Lasciare la rete" read alike to a hurried member)."""
    with app.test_request_context(), force_locale(language):
        sign_out, leave = gettext("Sign out"), gettext("Leave the network")
        leave_button = gettext("Leave the network and delete my profile")

    def words(text):
        return {word.casefold() for word in re.findall(r"\w{3,}", text)}

    assert sign_out != "Sign out" or language == "en"
    assert not words(sign_out) & words(leave), (sign_out, leave)
    assert not words(sign_out) & words(leave_button), (sign_out, leave_button)


def test_the_upgrade_folds_members_already_in_the_network(backend, tmp_path):
    """Migration 0018 fills the folded search text of the members who joined before it, and
    every one of them keeps receiving the network's e-mails."""
    with migrated_from("0016_folded_names", backend, tmp_path) as upgrade_rest:
        db.session.execute(
            text(
                "INSERT INTO member (email, name, organisation, country, target_group, role,"
                " languages, bio, public_fields, language, status, accepts_contact, key,"
                " consent_at, created_at) VALUES ('s@example.dk', 'Søren Jørgensen', 'Køge',"
                " 'DK', 'business', NULL, '[]', 'Ærø', '[]', 'da', 'active', :yes, 'k',"
                " :now, :now)"
            ),
            {"yes": True, "now": utcnow()},
        )
        db.session.commit()
        upgrade_rest()
        folded, receives = db.session.execute(
            text("SELECT search_text, receives_mail FROM member")
        ).one()
        found = directory.search(directory.DirectoryFilter(words="jorgensen koge aero"))
    assert folded == "soren jorgensen\nkoge\naero"
    assert receives is True or receives == 1
    assert [member.email for member in found] == ["s@example.dk"]


@pytest.mark.parametrize("gone", ["hidden", "left"])
def test_a_message_whose_sender_was_hidden_or_left_before_it_went_is_not_sent(
    client, app, smtp, gone
):
    """A member's message waiting in the outbox still went out, with the sender's name and
    address, after the organisers hid the sender or the sender left the network."""
    ana = joined_member(client, smtp, "ana@example.bg")
    lars = joined_member(client, smtp, "lars@example.dk", inbox_count=2, name="Lars Holm")
    client.post(f"/network/members/{ana.id}/contact", data={"text": "Hej Ana!"})
    if gone == "hidden":
        network_admin.set_hidden(lars, True)
    else:
        members.leave(lars)
    outbox.deliver_all()
    db.session.rollback()
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == "network_contact")
    )
    assert (message.status.value, message.skip_reason.value) == ("skipped", "sender_gone")
    delivered = smtp.inbox.wait_for(2)
    assert len(delivered) == 2  # the two confirmations only
    assert all("Hej Ana!" not in m.get_body(("plain",)).get_content() for m in delivered)


def test_a_message_from_a_member_shown_again_is_sent(client, app, smtp):
    ana = joined_member(client, smtp, "ana@example.bg")
    lars = joined_member(client, smtp, "lars@example.dk", inbox_count=2, name="Lars Holm")
    client.post(f"/network/members/{ana.id}/contact", data={"text": "Hej Ana!"})
    network_admin.set_hidden(lars, True)
    network_admin.set_hidden(lars, False)
    outbox.deliver_all()
    delivered = smtp.inbox.wait_for(3)
    assert "Hej Ana!" in delivered[2].get_body(("plain",)).get_content()


@pytest.mark.parametrize("gone", ["hidden", "left"])
def test_a_message_to_a_member_hidden_or_gone_after_the_page_read_them_is_refused(app, gone):
    # The page read both members before the service ran; meanwhile an organiser hid the
    # recipient (the message was still queued) or removed them (a foreign-key error, a 500).
    sender = active_member("Sara Rossi", "sara@example.it")
    recipient = active_member("Anna Berg", "anna@example.se")
    with app.test_request_context("/network/members/1/contact", method="POST"):
        with another_worker(app):
            changed = db.session.get(Member, recipient.id)
            if gone == "hidden":
                network_admin.set_hidden(changed, True)
            else:
                network_admin.remove(changed)
        with pytest.raises(member_contact.ContactRefused):
            member_contact.send(sender, recipient, "Hello Anna")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_blocking_a_member_who_left_after_the_page_read_them_blocks_nobody(app):
    member = active_member("Sara Rossi", "sara@example.it")
    other = active_member("Anna Berg", "anna@example.se")
    with app.test_request_context():
        db.session.get(Member, other.id)  # read by the page
        with another_worker(app):
            network_admin.remove(db.session.get(Member, other.id))
        assert member_contact.block(member, other.id) is None
    assert db.session.scalar(select(func.count()).select_from(ContactBlock)) == 0


def test_mail_queued_before_a_member_stopped_the_emails_is_not_sent(client, app, smtp):
    """A member's message or an announcement waiting in the outbox when the member stopped the
    network's e-mails still went out."""
    ana = joined_member(client, smtp, "ana@example.bg")
    joined_member(client, smtp, "lars@example.dk", inbox_count=2, name="Lars Holm")
    client.post(f"/network/members/{ana.id}/contact", data={"text": "Hej Ana!"})
    assert network_admin.announce("News", "Text") == 2
    members.set_receives_mail(ana, False)
    outbox.deliver_all()
    db.session.rollback()
    to_ana = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == "ana@example.bg")
        .where(OutboxMessage.kind.in_(["network_contact", "network_announcement"]))
    ).all()
    assert len(to_ana) == 2
    assert {(m.status.value, m.skip_reason.value) for m in to_ana} == {("skipped", "mail_stopped")}
    delivered = smtp.inbox.wait_for(3)  # the two confirmations, and Lars's announcement only
    assert len(delivered) == 3
    assert delivered[2]["To"].addresses[0].addr_spec == "lars@example.dk"


def test_a_message_still_queued_when_its_reader_stops_the_sender_is_not_sent(client, app, smtp):
    """Lars wrote twice; Ana stopped his messages after the first arrived and before the
    second left: it went all the same."""
    ana = joined_member(client, smtp, "ana@example.bg")
    lars = joined_member(client, smtp, "lars@example.dk", inbox_count=2, name="Lars Holm")
    client.post(f"/network/members/{ana.id}/contact", data={"text": "Hej"})
    deliver(smtp, 3)
    client.post(f"/network/members/{ana.id}/contact", data={"text": "Hej igen"})
    member_contact.block(db.session.get(Member, ana.id), lars.id)
    outbox.deliver_all()
    db.session.rollback()
    second = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == MessageKind.NETWORK_CONTACT)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert second.skip_reason is SkipReason.CONTACT_STOPPED
    assert len(smtp.inbox.messages) == 3


def test_joining_again_gives_the_new_link_its_full_time(client, app, smtp):
    """The first e-mail was lost; asked again on day 29, the link died in the next day's
    clean-up, which went by the first join's date."""
    client.post("/network/join", data=join_data("ana@example.bg"))
    member = db.session.scalar(select(Member).where(Member.email == "ana@example.bg"))
    day_one = utcnow() - timedelta(days=29)
    member.created_at = member.consent_at = day_one
    db.session.execute(update(OutboxMessage).values(created_at=day_one))  # its link, then
    db.session.commit()
    client.post("/network/join", data=join_data("ana@example.bg"))
    with write_transaction():
        dropped = members.drop_unconfirmed(utcnow() + timedelta(days=2))
    assert dropped == 0
    assert db.session.scalar(select(Member).where(Member.email == "ana@example.bg")) is not None
