"""E-mail through a real SMTP server: invitations, tickets, updates, cancellations, the outbox."""

import email
import email.header
import email.policy
import io
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from icalendar import Calendar
from PIL import Image
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import (
    Event,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    Registration,
    SkipReason,
    TargetGroup,
    User,
    utcnow,
)
from eventreg.services import events, outbox, registrations
from eventreg.services.programme import SHIPPED_PROGRAMME, apply_update, load_programme
from eventreg.services.reminders import queue_reminders
from tests.support.factories import person
from tests.support.locks import second_waits_for_first
from tests.support.mail import smtp_config


@pytest.fixture
def app_config(smtp):
    return smtp_config(smtp)


def parts(message):
    """Every leaf MIME part by content type (the first of each)."""
    found = {}
    for part in message.walk():
        if not part.is_multipart():
            found.setdefault(part.get_content_type(), part)
    return found


def calendar_of(message):
    part = parts(message)["text/calendar"]
    return part, Calendar.from_ical(part.get_payload(decode=True))


def vevent(calendar):
    (event,) = calendar.walk("VEVENT")
    return event


def decode_qr(png: bytes) -> str:
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))[0].text


def deliver():
    report = outbox.deliver_all()
    db.session.rollback()
    return report


def test_confirmation_has_text_html_invitation_and_qr_ticket(smtp, make_event, sign_up):
    rome = ZoneInfo("Europe/Rome")
    event = make_event(
        title="Study mission to Bergamo",
        starts_at=datetime(2031, 3, 24, 9, 0, tzinfo=rome),
        ends_at=datetime(2031, 3, 26, 13, 0, tzinfo=rome),
    )
    registrant = sign_up(event, first_name="Иван", last_name="Петров", email="ivan@example.bg")
    assert deliver().sent == 1
    (message,) = smtp.inbox.wait_for(1)
    assert message["To"].addresses[0].display_name == "Иван Петров"
    assert message["To"].addresses[0].addr_spec == "ivan@example.bg"
    assert "Study mission to Bergamo" in message["Subject"]
    found = parts(message)
    text = found["text/plain"].get_content()
    assert "Иван" in text and registrant.registrations[0].reference in text
    assert "09:00 – 13:00 (Central European Standard Time)" in text
    assert "http://eventreg.test/manage/" in text
    assert 'src="cid:qr"' in found["text/html"].get_content()

    part, calendar = calendar_of(message)
    assert part.get_params()[1] == ("method", "REQUEST")  # the MIME header Outlook needs
    assert calendar["METHOD"] == "REQUEST"
    assert calendar.walk("VTIMEZONE")
    entry = vevent(calendar)
    assert entry["DTSTART"].dt == event.starts_at
    assert entry["DTSTART"].dt.astimezone(rome).hour == 9
    assert entry["DTSTART"].params["TZID"] == "Europe/Rome"
    assert "ivan@example.bg" in str(entry["ATTENDEE"])
    assert entry.walk("VALARM")
    assert int(entry["SEQUENCE"]) == registrant.registrations[0].calendar_sequence == 1

    qr = next(p for p in message.walk() if p.get("Content-ID") == "<qr>")
    secret = decode_qr(qr.get_payload(decode=True))
    assert db.session.scalar(
        select(Registration).where(Registration.ticket_secret == secret)
    ).id == (registrant.registrations[0].id)
    ticket = next(p for p in message.walk() if (p.get_filename() or "").startswith("ticket-"))
    assert decode_qr(ticket.get_payload(decode=True)) == secret


def test_waiting_list_mail_has_no_ticket_and_promotion_sends_the_confirmation(
    smtp, make_event, sign_up
):
    event = make_event(capacity=1)
    holder = sign_up(event)
    waiting = sign_up(event, email="wait@example.org")
    deliver()
    confirmation, queued = smtp.inbox.wait_for(2)
    assert "waiting list" in queued["Subject"]
    assert "text/calendar" not in parts(queued) and "image/png" not in parts(queued)

    registrations.cancel(holder.registrations[0])
    deliver()
    messages = smtp.inbox.wait_for(4)
    by_recipient = {m["To"].addresses[0].addr_spec: m for m in messages[2:]}
    cancelled = by_recipient[holder.email]
    promoted = by_recipient["wait@example.org"]
    assert calendar_of(cancelled)[1]["METHOD"] == "CANCEL"
    assert calendar_of(promoted)[1]["METHOD"] == "REQUEST"
    assert "image/png" in parts(promoted)

    uid = vevent(calendar_of(confirmation)[1])["UID"]
    assert vevent(calendar_of(cancelled)[1])["UID"] == uid
    assert int(vevent(calendar_of(cancelled)[1])["SEQUENCE"]) > int(
        vevent(calendar_of(confirmation)[1])["SEQUENCE"]
    )
    assert vevent(calendar_of(promoted)[1])["UID"] != uid
    db.session.refresh(waiting.registrations[0])
    assert waiting.registrations[0].is_confirmed


def test_a_waiting_place_cancelled_says_nothing_of_a_calendar_file_it_does_not_carry(
    smtp, make_event, sign_up, make_user
):
    """Only a seat had a calendar entry: the waiting list's cancellations carry no .ics, and
    their text does not point at one; a seat's cancellation still does."""
    event = make_event(capacity=1)
    holder = sign_up(event)
    waiting = sign_up(event, email="wait@example.org")
    other = make_event(capacity=1, slug="other")
    sign_up(other, email="seated@example.org")
    sign_up(other, email="queued@example.org")
    registrations.cancel(waiting.registrations[0])
    events.cancel_event(other, actor=make_user("organiser"))
    db.session.commit()
    deliver()
    by_address = {}
    for message in smtp.inbox.wait_for(8):
        by_address.setdefault(message["To"].addresses[0].addr_spec, []).append(message)
    for address, sentence in (
        ("wait@example.org", "The attached file removes the event from your calendar."),
        ("queued@example.org", "The attached file removes it from your calendar."),
    ):
        last = by_address[address][-1]
        assert "text/calendar" not in parts(last)
        assert sentence not in parts(last)["text/plain"].get_content()
        assert "attached" not in parts(last)["text/html"].get_content()
    seated = by_address["seated@example.org"][-1]
    assert calendar_of(seated)[1]["METHOD"] == "CANCEL"
    assert (
        "The attached file removes it from your calendar."
        in parts(seated)["text/plain"].get_content()
    )
    assert holder.registrations[0].is_confirmed


def test_changed_time_sends_an_update_with_the_same_uid_and_a_higher_sequence(
    smtp, tmp_path, sign_up
):
    load_programme()
    mission = db.session.scalar(select(Event).where(Event.slug == "mission-torres-vedras"))
    registrant = sign_up(mission)
    deliver()
    (first,) = smtp.inbox.wait_for(1)
    edited = tmp_path / "programme.toml"
    edited.write_text(
        SHIPPED_PROGRAMME.read_text("utf-8").replace(
            "starts_at = 2027-04-21T09:30:00", "starts_at = 2027-04-21T10:30:00"
        ),
        "utf-8",
    )
    apply_update(edited)
    deliver()
    _, update = smtp.inbox.wait_for(2)
    assert update["To"].addresses[0].addr_spec == registrant.email
    before, after = vevent(calendar_of(first)[1]), vevent(calendar_of(update)[1])
    assert calendar_of(update)[1]["METHOD"] == "REQUEST"
    assert after["UID"] == before["UID"]
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert (
        after["DTSTART"].dt.astimezone(ZoneInfo("Europe/Lisbon")).time().isoformat() == "10:30:00"
    )


def test_the_waiting_list_is_told_when_the_event_moves_without_a_calendar_entry(
    smtp, make_event, sign_up, make_user
):
    event = make_event(capacity=1)
    sign_up(event, email="seat@example.org")
    sign_up(event, email="waiting@example.org")
    deliver()
    smtp.inbox.wait_for(2)
    smtp.inbox.envelopes.clear()
    moved = {"starts_at": event.starts_at + timedelta(hours=1)}
    events.update_event(event, moved, actor=make_user("organiser"))
    deliver()
    by_address = {m["To"].addresses[0].addr_spec: m for m in smtp.inbox.wait_for(2)}
    assert set(by_address) == {"seat@example.org", "waiting@example.org"}
    waiting = by_address["waiting@example.org"]
    assert "you are still on its waiting list" in parts(waiting)["text/plain"].get_content()
    assert "text/calendar" not in parts(waiting) and "image/png" not in parts(waiting)
    assert "text/calendar" in parts(by_address["seat@example.org"])


@pytest.mark.parametrize(
    ("zone", "start", "end"),
    [
        ("Europe/Rome", datetime(2031, 3, 29, 1, 30), datetime(2031, 3, 30, 12, 0)),
        ("Europe/Lisbon", datetime(2031, 10, 25, 18, 0), datetime(2031, 10, 26, 11, 0)),
        ("Europe/Copenhagen", datetime(2031, 10, 26, 9, 0), datetime(2031, 10, 27, 13, 0)),
    ],
)
def test_invitations_keep_local_times_across_a_daylight_saving_change(
    smtp, make_event, sign_up, zone, start, end
):
    tz = ZoneInfo(zone)
    event = make_event(
        timezone=zone, starts_at=start.replace(tzinfo=tz), ends_at=end.replace(tzinfo=tz)
    )
    sign_up(event)
    deliver()
    (message,) = smtp.inbox.wait_for(1)
    entry = vevent(calendar_of(message)[1])
    assert entry["DTSTART"].dt.astimezone(tz).replace(tzinfo=None) == start
    assert entry["DTEND"].dt.astimezone(tz).replace(tzinfo=None) == end
    assert entry["DTEND"].dt - entry["DTSTART"].dt == end.replace(tzinfo=tz) - start.replace(
        tzinfo=tz
    )


def test_online_event_mail_has_a_personal_join_link_and_no_public_url(
    smtp, client, make_event, sign_up
):
    event = make_event(  # about to start: the personal link leads in
        mode="online",
        city=None,
        venue=None,
        online_url="https://meet.example.org/secret-room",
        starts_at=utcnow() + timedelta(minutes=10),
        ends_at=utcnow() + timedelta(hours=2),
    )
    registrant = sign_up(event)
    deliver()
    (message,) = smtp.inbox.wait_for(1)
    text = parts(message)["text/plain"].get_content()
    assert "secret-room" not in text
    join = next(line for line in text.splitlines() if "/j/" in line).split(": ", 1)[1]
    response = client.get(join.replace("http://eventreg.test", ""))
    assert response.status_code == 302
    assert response.headers["Location"] == "https://meet.example.org/secret-room"
    db.session.refresh(registrant.registrations[0])
    assert registrant.registrations[0].joined_online_at is not None
    assert "secret-room" not in client.get(f"/events/{event.slug}").text
    assert "secret-room" not in client.get(f"/events/{event.slug}.ics").text


def test_join_links_cannot_be_forged_and_stop_working_after_cancelling(
    smtp, client, make_event, sign_up
):
    from eventreg.services.join_links import join_url

    event = make_event(
        mode="online", city=None, venue=None, online_url="https://meet.example.org/x"
    )
    registration = sign_up(event).registrations[0]
    with client.application.test_request_context():
        link = join_url(registration).replace("http://eventreg.test", "")
    assert client.get(link[:-3] + "abc").status_code == 404
    registrations.cancel(registration)
    assert client.get(link).status_code == 404


def test_reminders_go_once_to_confirmed_registrants_a_day_before(smtp, make_event, sign_up):
    soon = make_event(
        starts_at=utcnow() + timedelta(hours=20),
        ends_at=utcnow() + timedelta(hours=26),
        registration_closes_at=utcnow() + timedelta(hours=10),
        capacity=1,
    )
    later = make_event()
    sign_up(soon, email="coming@example.org")
    sign_up(soon, email="waiting@example.org")
    sign_up(later)
    deliver()
    smtp.inbox.wait_for(3)
    assert queue_reminders() == 1
    assert queue_reminders() == 0
    deliver()
    messages = smtp.inbox.wait_for(4)
    assert len(messages) == 4
    reminder = messages[3]
    assert reminder["To"].addresses[0].addr_spec == "coming@example.org"
    assert "Reminder" in reminder["Subject"]


def test_sign_ups_succeed_while_smtp_is_down_and_every_message_arrives_once_later(
    smtp, client, make_event
):
    smtp.stop()
    event = make_event(capacity=3)
    for n in range(5):
        body = person(email=f"down{n}@example.org") | {"consent": True}
        response = client.post(f"/api/v1/events/{event.slug}/registrations", json=body)
        assert response.status_code == 201
    report = deliver()
    assert report.sent == 0 and report.failed == 5
    pending = db.session.scalars(select(OutboxMessage)).all()
    assert all(m.status is MessageStatus.PENDING and "SMTP" in m.last_error for m in pending)

    smtp.start()
    assert deliver().sent == 5
    # Each message was acknowledged (250 after DATA) before deliver() returned: all are here.
    messages = smtp.inbox.messages
    assert len(messages) == 5
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == [
        f"down{n}@example.org" for n in range(5)
    ]
    assert deliver().claimed == 0


def test_mail_still_waiting_goes_to_the_address_as_corrected(make_app, smtp, make_event):
    """A typo in the address: the confirmation waiting in the outbox, and the one given up on
    and retried by an organiser, go to the corrected address, never to the mistyped one."""
    smtp.stop()
    app = make_app(**smtp_config(smtp) | {"OUTBOX_MAX_ATTEMPTS": 1})
    with app.app_context():
        first, second = make_event(slug="first"), make_event(slug="second")
        typo = registrations.sign_up(
            registrations.PersonDetails(**_details() | {"email": "ana@exmaple.org"}),
            [first],
            "test",
        )
        outbox.deliver_due()  # the server is down: given up at once
        registrations.add_events(typo, [second])  # this one still waits
        given_up = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
        assert given_up.status is MessageStatus.FAILED
        registrations.update_details(
            typo, registrations.PersonDetails(**_details() | {"email": "ana@example.org"})
        )
        smtp.start()
        outbox.retry(given_up)
        assert deliver().sent == 2
        messages = smtp.inbox.wait_for(2)
        assert [m["To"].addresses[0].addr_spec for m in messages] == ["ana@example.org"] * 2
        assert set(db.session.scalars(select(OutboxMessage.recipient))) == {"ana@example.org"}


def test_backoff_and_giving_up_then_an_organiser_retries(make_app, smtp, make_event):
    smtp.stop()
    app = make_app(**smtp_config(smtp) | {"OUTBOX_BACKOFF_SECONDS": 600, "OUTBOX_MAX_ATTEMPTS": 2})
    with app.app_context():
        registrations.sign_up(registrations.PersonDetails(**_details()), [make_event()], "test")
        outbox.deliver_due()
        message = db.session.scalar(select(OutboxMessage))
        assert message.attempts == 1 and message.next_attempt_at > utcnow() + timedelta(minutes=9)
        assert outbox.deliver_due().claimed == 0  # not due yet
        message.next_attempt_at = utcnow()
        db.session.commit()
        outbox.deliver_due()
        db.session.refresh(message)
        assert message.status is MessageStatus.FAILED
        smtp.start()
        outbox.retry(message)
        assert outbox.deliver_due().sent == 1
        smtp.inbox.wait_for(1)


def _details():
    values = person()
    values["target_group"] = TargetGroup(values["target_group"])
    return values


def test_a_sender_killed_mid_batch_sends_nothing_twice_and_loses_nothing(
    smtp, database_url, make_event, sign_up
):
    event = make_event(capacity=None)
    for n in range(6):
        sign_up(event, email=f"batch{n}@example.org")
    smtp.inbox.stall_at_message = 3  # the server hangs on the third message
    env = os.environ | {
        "EVENTREG_SECRET_KEY": "test-secret-key",
        "EVENTREG_SQLALCHEMY_DATABASE_URI": database_url,
        "EVENTREG_MAIL_SERVER": "127.0.0.1",
        "EVENTREG_MAIL_PORT": str(smtp.port),
        "EVENTREG_OUTBOX_LEASE_SECONDS": "1",
    }
    sender = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "eventreg", "mail", "send"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while smtp.inbox.mail_from_count < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert smtp.inbox.mail_from_count == 3
    finally:
        sender.kill()
        sender.wait()
    assert len(smtp.inbox.envelopes) == 2

    # The dead sender's lease (1 s) runs out: then its messages are claimed again.
    sent, deadline = 0, time.monotonic() + 10
    while sent < 4 and time.monotonic() < deadline:
        db.session.rollback()
        sent += deliver().sent
    assert sent == 4
    messages = smtp.inbox.wait_for(6)
    ids = [m["Message-ID"] for m in messages]
    assert len(ids) == 6 and len(set(ids)) == 6
    assert (
        db.session.scalar(select(func.count()).where(OutboxMessage.status == MessageStatus.SENT))
        == 6
    )


def test_names_with_line_breaks_cannot_inject_headers(smtp, make_event):
    """The form refuses CR/LF; even if one reaches the database, no header is injected."""
    registrations.sign_up(
        registrations.PersonDetails(
            **(_details() | {"first_name": "Eve\r\nBcc: victim@example.org", "last_name": "X"})
        ),
        [make_event()],
        "test",
    )
    deliver()
    (message,) = smtp.inbox.wait_for(1)
    assert message["Bcc"] is None
    assert smtp.inbox.envelopes[0].rcpt_tos == [db.session.scalar(select(OutboxMessage.recipient))]


def test_a_message_no_mail_can_carry_fails_alone_and_the_sender_goes_on(smtp, make_event, sign_up):
    """An address stored before the form refused it (letters outside ASCII before the @):
    building its message raises. It is recorded as failed; the others are sent."""
    event = make_event()
    first = sign_up(event, email="ana@example.org")
    sign_up(event, email="lars@example.org")
    first.email = "иван@example.bg"
    db.session.execute(
        OutboxMessage.__table__.update()
        .where(OutboxMessage.registration_id == first.registrations[0].id)
        .values(recipient="иван@example.bg")
    )
    db.session.commit()
    report = outbox.deliver_due()  # raised before, ending `flask mail worker` on every start
    db.session.rollback()
    assert (report.sent, report.failed) == (1, 1)
    assert [m["To"].addresses[0].addr_spec for m in smtp.inbox.wait_for(1)] == ["lars@example.org"]
    failed = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipient == "иван@example.bg")
    )
    assert failed.attempts == 1 and failed.last_error and failed.status is MessageStatus.PENDING


def test_long_non_latin_names_survive(smtp, make_event, sign_up):
    name = "Søren Æbelø-Kristiansen " * 3
    sign_up(make_event(), first_name=name.strip(), last_name="João Conceição Gonçalves")
    deliver()
    (message,) = smtp.inbox.wait_for(1)
    # A name this long takes several encoded words. RFC 2047 (6.2) drops the whitespace
    # between adjacent encoded words, as decode_header does; Python 3.11's header registry
    # keeps it, so it reads the name with extra spaces but still as one address.
    (to,) = message["To"].addresses
    assert to.addr_spec == smtp.inbox.envelopes[0].rcpt_tos[0]
    head = smtp.inbox.envelopes[0].content.split(b"\r\n\r\n")[0].decode("ascii")
    unfolded = head.replace("\r\n ", " ")
    to_line = next(line for line in unfolded.split("\r\n") if line.startswith("To: "))
    decoded = email.header.make_header(email.header.decode_header(to_line[4:]))
    assert str(decoded) == f"{name.strip()} João Conceição Gonçalves <{to.addr_spec}>"
    assert name.strip() in parts(message)["text/plain"].get_content()
    entry = vevent(calendar_of(message)[1])
    assert "João Conceição Gonçalves" in str(entry["ATTENDEE"].params.get("CN"))


def test_without_smtp_server_mail_is_saved_as_eml_files(make_app, make_event):
    app = make_app()  # no MAIL_SERVER
    with app.app_context():
        registrations.sign_up(registrations.PersonDetails(**_details()), [make_event()], "test")
        assert outbox.deliver_all().sent == 1
        files = list((Path(app.instance_path) / "mail").glob("*.eml"))
        assert len(files) == 1
        message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
        assert calendar_of(message)[1]["METHOD"] == "REQUEST"


def test_organisers_see_the_outbox_and_read_messages(
    smtp, client, auth, make_user, make_event, sign_up
):
    sign_up(make_event(title="Webinar on clauses"), email="reader@example.org")
    make_user("organiser")
    auth.login("organiser@example.org")
    page = client.get("/admin/outbox")
    assert page.status_code == 200
    assert "reader@example.org" in page.text and "Pending (1)" in page.text
    message_id = db.session.scalar(select(OutboxMessage.id))
    detail = client.get(f"/admin/outbox/{message_id}")
    assert "Your place at Webinar on clauses" in detail.text
    eml = client.get(f"/admin/outbox/{message_id}.eml")
    assert eml.mimetype == "message/rfc822"
    saved = email.message_from_bytes(eml.data, policy=email.policy.default)
    assert saved["To"].addresses[0].addr_spec == "reader@example.org"
    assert calendar_of(saved)[1]["METHOD"] == "REQUEST"


def test_programme_feed_and_event_download_parse(client, make_event):
    first, second = make_event(), make_event(mode="online", city=None, venue=None)
    feed = Calendar.from_ical(client.get("/calendar.ics").data)
    assert {str(e["UID"]) for e in feed.walk("VEVENT")} == {
        f"event-{first.slug}@eventreg",
        f"event-{second.slug}@eventreg",
    }
    single = Calendar.from_ical(client.get(f"/events/{first.slug}.ics").data)
    assert vevent(single)["DTSTART"].dt == first.starts_at.replace(microsecond=0)
    page = client.get(f"/events/{first.slug}").text
    assert "calendar.google.com" in page and "outlook.live.com" in page


def test_two_senders_at_once_send_each_message_once(app, smtp, make_event, sign_up):
    event = make_event(capacity=None)
    for n in range(30):
        sign_up(event, email=f"pair{n}@example.org")
    app.config["OUTBOX_BATCH_SIZE"] = 4
    start = threading.Barrier(2)
    sent = []

    def sender():
        with app.app_context():
            start.wait()
            sent.append(outbox.deliver_all().sent)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent) == 30
    messages = smtp.inbox.messages  # acknowledged before deliver_all() returned
    assert len(messages) == 30
    assert len({m["Message-ID"] for m in messages}) == 30


def test_an_event_moved_to_another_day_gets_a_reminder_for_the_new_day(
    app, make_event, sign_up, make_user
):
    """Postponed after its reminder went out, the event was never reminded of again."""

    def reminders():
        """The reminders still to go."""
        pending = OutboxMessage.status == MessageStatus.PENDING
        kinds = db.session.scalars(select(OutboxMessage.kind).where(pending))
        return list(kinds).count(MessageKind.REMINDER)

    starts = datetime(2031, 5, 5, 10, tzinfo=ZoneInfo("Europe/Rome"))
    event = make_event(starts_at=starts, ends_at=starts + timedelta(hours=2))
    sign_up(event)
    assert queue_reminders(now=starts - timedelta(hours=20)) == 1
    organiser = make_user("organiser")
    an_hour = starts + timedelta(hours=1)
    events.update_event(
        event, {"starts_at": an_hour, "ends_at": an_hour + timedelta(hours=2)}, actor=organiser
    )
    assert queue_reminders(now=starts - timedelta(hours=19)) == 0  # the same day: it holds
    assert reminders() == 1
    later = starts + timedelta(days=14)
    events.update_event(
        event, {"starts_at": later, "ends_at": later + timedelta(hours=2)}, actor=organiser
    )
    assert reminders() == 0  # unsent, it would have said "tomorrow" two weeks early
    withdrawn = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.REMINDER)
    )
    assert withdrawn.skip_reason is SkipReason.REPLACED  # kept in the record, not deleted
    assert queue_reminders(now=later - timedelta(hours=20)) == 1
    assert queue_reminders(now=later - timedelta(hours=19)) == 0


def test_someone_who_comes_back_after_cancelling_is_reminded(smtp, make_event, sign_up):
    """Reminded, then cancelled, then back through the manage link: the reminder mark stayed
    from the first time, so no reminder came before the event they now come to."""
    soon = make_event(
        starts_at=utcnow() + timedelta(hours=20), ends_at=utcnow() + timedelta(hours=26)
    )
    registration = sign_up(soon).registrations[0]
    assert queue_reminders() == 1
    registrations.cancel(registration)
    registrations.add_events(registration.registrant, [soon])
    assert queue_reminders() == 1


@pytest.mark.postgresql_only  # SQLite's BEGIN IMMEDIATE runs the two one after the other
def test_reminders_queued_while_the_event_moves_to_another_day_are_taken_back(
    app, make_event, sign_up, make_user, monkeypatch
):
    """The hourly reminder job ran while an organiser postponed tomorrow's event by a week:
    it queued "see you tomorrow" from the event as it was, and nobody was reminded later."""
    starts = utcnow() + timedelta(hours=20)
    event = make_event(starts_at=starts, ends_at=starts + timedelta(hours=2))
    sign_up(event)
    event_id, organiser_id = event.id, make_user("organiser").id
    changing, go_on = threading.Event(), threading.Event()
    tell_change = events._tell_change

    def telling_slowly(*args, **kwargs):
        changing.set()  # the event is locked, the change not yet saved
        assert go_on.wait(10)
        return tell_change(*args, **kwargs)

    monkeypatch.setattr(events, "_tell_change", telling_slowly)
    later = starts + timedelta(days=7)

    def postpone():
        events.update_event(
            db.session.get(Event, event_id),
            {"starts_at": later, "ends_at": later + timedelta(hours=2)},
            actor=db.session.get(User, organiser_id),
        )

    # The job waits for the event.
    assert second_waits_for_first(app, postpone, queue_reminders, changing, go_on) == []
    db.session.rollback()
    pending = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == MessageKind.REMINDER,
            OutboxMessage.status == MessageStatus.PENDING,
        )
    ).all()
    assert pending == []
    assert queue_reminders(now=later - timedelta(hours=20)) == 1
