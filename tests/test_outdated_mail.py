"""A queued e-mail that no longer tells the truth when its turn comes is not sent, and says why.

Through a real SMTP server: a confirmation whose registration was cancelled meanwhile, a
waiting-list notice for someone who got a seat, a reminder for an event that began while the
sender was stopped; an organiser's retry of such a message is refused, in their language.
"""

import asyncio
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from eventreg.extensions import db
from eventreg.models import (
    AgendaDay,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    SkipReason,
    utcnow,
)
from eventreg.services import events, materials, outbox, registrations
from eventreg.services.reminders import queue_reminders
from tests.support.locks import as_another_request, wait_until
from tests.support.mail import smtp_config


@pytest.fixture
def app_config(smtp):
    return smtp_config(smtp)


def deliver():
    report = outbox.deliver_all()
    db.session.rollback()
    return report


def message_of(kind: MessageKind, registration) -> OutboxMessage:
    return db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == kind, OutboxMessage.registration_id == registration.id
        )
    ).one()


def subjects(smtp) -> list[str]:
    return [str(m["Subject"]) for m in smtp.inbox.messages]


def test_a_confirmation_still_queued_when_the_person_cancels_is_not_sent(smtp, make_event, sign_up):
    event = make_event(title="Webinar on clauses")
    registration = sign_up(event, email="ana@example.org").registrations[0]
    registrations.cancel(registration)  # before the sender came round to the confirmation
    report = deliver()
    assert (report.sent, report.skipped) == (1, 1)
    assert subjects(smtp) == ["Cancelled: Webinar on clauses"]
    confirmation = message_of(MessageKind.CONFIRMATION, registration)
    assert confirmation.is_skipped and not confirmation.sent_at
    assert confirmation.skip_reason is SkipReason.REGISTRATION_CANCELLED
    assert confirmation.claimed_until is None
    assert deliver().claimed == 0  # it stays unsent


def test_the_registrations_history_says_why_its_confirmation_was_not_sent(
    smtp, client, auth, make_user, make_event, sign_up
):
    registration = sign_up(make_event(), email="ana@example.org").registrations[0]
    registrations.cancel(registration)
    deliver()
    make_user("organiser")
    auth.login("organiser@example.org")
    headers = {"Accept-Language": "es"}
    page = client.get(f"/admin/registrations/{registration.reference}", headers=headers).text
    assert "(ana@example.org; no enviado: Se ha cancelado la inscripción.)" in page


def test_a_waiting_list_notice_for_someone_who_got_a_seat_meanwhile_is_not_sent(
    smtp, make_event, sign_up
):
    event = make_event(capacity=1, title="Mission to Odense")
    holder = sign_up(event, email="holder@example.org")
    waiting = sign_up(event, email="waiting@example.org").registrations[0]
    registrations.cancel(holder.registrations[0])  # the waiting person moves up
    deliver()
    received = {(m["To"].addresses[0].addr_spec, str(m["Subject"])) for m in smtp.inbox.messages}
    assert received == {
        ("holder@example.org", "Cancelled: Mission to Odense"),  # their confirmation is moot
        ("waiting@example.org", "Your place at Mission to Odense"),
    }
    notice = message_of(MessageKind.WAITLISTED, waiting)
    assert notice.is_skipped and notice.skip_reason is SkipReason.NO_LONGER_WAITLISTED


def test_mail_about_an_event_called_off_meanwhile_gives_way_to_the_calling_off(
    smtp, make_event, sign_up, make_user
):
    event = make_event(title="Mission to Gabrovo")
    registration = sign_up(event, email="ana@example.org").registrations[0]
    events.cancel_event(event, actor=make_user("organiser"))
    deliver()
    assert subjects(smtp) == ["Called off: Mission to Gabrovo"]
    confirmation = message_of(MessageKind.CONFIRMATION, registration)
    assert confirmation.skip_reason is SkipReason.EVENT_CANCELLED


def started_with_a_reminder_queued(make_event, sign_up, smtp):
    """An event starting tomorrow whose reminder was queued; then the sender stopped (or the
    server refused) until the event had begun."""
    event = make_event(
        title="Webinar on social clauses",
        starts_at=utcnow() + timedelta(hours=20),
        ends_at=utcnow() + timedelta(hours=22),
        registration_closes_at=utcnow() + timedelta(hours=10),
    )
    registration = sign_up(event, email="ana@example.org").registrations[0]
    deliver()
    smtp.inbox.wait_for(1)
    assert queue_reminders() == 1
    event.starts_at = utcnow() - timedelta(minutes=5)  # the hours went by
    event.ends_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    return registration


def test_a_reminder_is_not_sent_once_the_event_has_started(smtp, make_event, sign_up):
    registration = started_with_a_reminder_queued(make_event, sign_up, smtp)
    report = deliver()
    assert (report.sent, report.skipped) == (0, 1)
    assert subjects(smtp) == ["Your place at Webinar on social clauses"]  # no reminder
    reminder = message_of(MessageKind.REMINDER, registration)
    assert reminder.status is MessageStatus.SKIPPED
    assert reminder.skip_reason is SkipReason.EVENT_STARTED


@pytest.mark.parametrize(
    ("language", "status", "reason"),
    [
        ("en", "Not sent", "The event had already started."),
        ("it", "Non inviato", "L'evento era già iniziato."),
    ],
)
def test_the_outbox_shows_why_a_message_was_not_sent_in_the_organisers_language(
    smtp, client, auth, make_user, make_event, sign_up, language, status, reason
):
    registration = started_with_a_reminder_queued(make_event, sign_up, smtp)
    deliver()
    make_user("organiser")
    auth.login("organiser@example.org")
    headers = {"Accept-Language": language}
    page = client.get("/admin/outbox", headers=headers).text
    assert f"{status} (1)" in page  # the filter by status
    row = page[page.index(f"{status}<br>") :]
    assert row.startswith(f"{status}<br>{reason}")
    reminder = message_of(MessageKind.REMINDER, registration)
    detail = client.get(f"/admin/outbox/{reminder.id}", headers=headers).text
    assert reason in detail


def failed_confirmation_then_cancelled(app, smtp, make_event, sign_up) -> int:
    """A confirmation the server refused until the sender gave up; then the person cancelled,
    and their cancellation went out."""
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    smtp.stop()
    registration = sign_up(make_event(title="Mission to Cádiz")).registrations[0]
    deliver()
    confirmation = message_of(MessageKind.CONFIRMATION, registration)
    assert confirmation.is_failed
    smtp.start()
    registrations.cancel(registration)
    deliver()
    assert subjects(smtp) == ["Cancelled: Mission to Cádiz"]
    return confirmation.id


@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        (
            "en",
            "Not queued again: this message is out of date. The registration has been cancelled.",
        ),
        (
            "it",
            "Non rimesso in coda: questo messaggio non è più attuale. "
            "L&#39;iscrizione è stata annullata.",
        ),
    ],
)
def test_retrying_a_failed_confirmation_after_the_person_cancelled_is_refused(
    app, smtp, client, auth, make_user, make_event, sign_up, language, refusal
):
    message_id = failed_confirmation_then_cancelled(app, smtp, make_event, sign_up)
    make_user("organiser")
    auth.login("organiser@example.org")
    headers = {"Accept-Language": language}
    response = client.post(f"/admin/outbox/{message_id}/retry", headers=headers)
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers=headers).text
    assert refusal in page
    message = db.session.get(OutboxMessage, message_id)
    assert message.is_failed and message.can_retry  # unchanged
    assert deliver().claimed == 0
    assert subjects(smtp) == ["Cancelled: Mission to Cádiz"]  # no "your place" after it


def test_retrying_a_failed_message_still_true_queues_it(
    app, smtp, client, auth, make_user, make_event, sign_up
):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    smtp.stop()
    registration = sign_up(make_event(title="Mission to Cádiz")).registrations[0]
    deliver()
    message = message_of(MessageKind.CONFIRMATION, registration)
    assert message.is_failed
    smtp.start()
    make_user("organiser")
    auth.login("organiser@example.org")
    response = client.post(f"/admin/outbox/{message.id}/retry")
    assert "The message is queued again." in client.get(response.headers["Location"]).text
    assert deliver().sent == 1
    assert subjects(smtp) == ["Your place at Mission to Cádiz"]


def the_days_go_by(event, *, ended: bool = True):
    """The sender was stopped (or the mail server refused) until the event began, or ended."""
    event.starts_at = utcnow() - timedelta(days=2)
    event.ends_at = utcnow() - timedelta(hours=1) if ended else utcnow() + timedelta(hours=1)
    db.session.commit()


def test_a_confirmation_queued_until_the_event_has_ended_is_not_sent(smtp, make_event, sign_up):
    event = make_event(title="Mission to Aarhus")
    registration = sign_up(event, email="ana@example.org").registrations[0]
    the_days_go_by(event)
    report = deliver()
    assert (report.sent, report.skipped) == (0, 1)
    assert subjects(smtp) == []  # no invitation and ticket for a day gone by
    confirmation = message_of(MessageKind.CONFIRMATION, registration)
    assert confirmation.is_skipped and not confirmation.sent_at
    assert confirmation.skip_reason is SkipReason.EVENT_ENDED


def test_a_confirmation_for_an_event_under_way_is_still_sent(smtp, make_event, sign_up):
    event = make_event(title="Webinar on care services", mode="online", city=None, venue=None)
    sign_up(event, email="ana@example.org")
    the_days_go_by(event, ended=False)  # the person may still join
    assert deliver().sent == 1
    assert subjects(smtp) == ["Your place at Webinar on care services"]


def test_a_seat_from_the_waiting_list_told_after_the_event_ended_is_not_sent(
    smtp, make_event, sign_up
):
    event = make_event(capacity=1, title="Mission to Odense")
    holder = sign_up(event, email="holder@example.org")
    waiting = sign_up(event, email="waiting@example.org").registrations[0]
    deliver()
    smtp.inbox.wait_for(2)
    registrations.cancel(holder.registrations[0])  # "your place is confirmed" is queued
    the_days_go_by(event)
    deliver()
    assert subjects(smtp)[2:] == ["Cancelled: Mission to Odense"]  # still true: it is sent
    confirmations = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == MessageKind.CONFIRMATION,
            OutboxMessage.registration_id == waiting.id,
        )
    ).all()
    assert [m.skip_reason for m in confirmations] == [SkipReason.EVENT_ENDED]


def test_a_change_of_time_or_place_told_after_the_event_ended_is_not_sent(
    smtp, make_event, sign_up, make_user
):
    event = make_event(title="Mission to Bergamo")
    registration = sign_up(event, email="ana@example.org").registrations[0]
    deliver()
    smtp.inbox.wait_for(1)
    events.update_event(event, {"venue": "Sala Viscontea"}, actor=make_user("organiser"))
    the_days_go_by(event)
    report = deliver()
    assert (report.sent, report.skipped) == (0, 1)
    assert subjects(smtp) == ["Your place at Mission to Bergamo"]
    change = message_of(MessageKind.EVENT_CHANGED, registration)
    assert change.skip_reason is SkipReason.EVENT_ENDED


def test_what_follows_an_event_is_still_sent_after_it_ended(smtp, make_event, sign_up):
    event = make_event(title="Mission to Bergamo")
    sign_up(event, email="ana@example.org")
    deliver()
    smtp.inbox.wait_for(1)
    the_days_go_by(event)
    assert materials.announce(event) == 1
    assert deliver().sent == 1
    assert subjects(smtp)[1:] == ["Materials from Mission to Bergamo are available"]


@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        ("en", "Not queued again: this message is out of date. The event had already ended."),
        ("da", "Ikke sat i kø igen: beskeden er forældet. Arrangementet var allerede afsluttet."),
    ],
)
def test_retrying_a_confirmation_after_the_event_ended_is_refused_with_the_reason(
    app, smtp, client, auth, make_user, make_event, sign_up, language, refusal
):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    smtp.stop()
    event = make_event(title="Mission to Cádiz")
    registration = sign_up(event).registrations[0]
    deliver()
    message = message_of(MessageKind.CONFIRMATION, registration)
    assert message.is_failed
    smtp.start()
    the_days_go_by(event)
    make_user("organiser")
    auth.login("organiser@example.org")
    headers = {"Accept-Language": language}
    response = client.post(f"/admin/outbox/{message.id}/retry", headers=headers)
    assert refusal in client.get(response.headers["Location"], headers=headers).text
    db.session.refresh(message)
    assert message.is_failed and deliver().claimed == 0
    assert subjects(smtp) == []


@pytest.mark.parametrize(
    ("language", "reason"),
    [("en", "The event had already ended."), ("sv", "Evenemanget hade redan avslutats.")],
)
def test_the_outbox_says_a_confirmation_came_after_the_end_in_the_organisers_language(
    smtp, client, auth, make_user, make_event, sign_up, language, reason
):
    event = make_event()
    registration = sign_up(event, email="ana@example.org").registrations[0]
    the_days_go_by(event)
    deliver()
    make_user("organiser")
    auth.login("organiser@example.org")
    headers = {"Accept-Language": language}
    message = message_of(MessageKind.CONFIRMATION, registration)
    assert reason in client.get(f"/admin/outbox/{message.id}", headers=headers).text
    history = client.get(f"/admin/registrations/{registration.reference}", headers=headers).text
    assert reason in history


def changes_told(smtp) -> list[tuple[str, str, int | None]]:
    """Each "event changed" e-mail delivered: to whom, its "What changed" lines, the invitation's
    SEQUENCE (None without one)."""
    told = []
    for message in smtp.inbox.messages:
        body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        if "What changed" not in body:
            continue
        lines = body.split("What changed:")[1].strip().split("\n\n")[0]
        ics = [part for part in message.walk() if part.get_filename() == "invite.ics"]
        sequence = Calendar.from_ical(ics[0].get_payload(decode=True)) if ics else None
        told.append(
            (
                message["To"].addresses[0].addr_spec,
                lines,
                sequence and int(sequence.walk("VEVENT")[0]["SEQUENCE"]),
            )
        )
    return told


@pytest.fixture
def told_once(smtp, make_event, sign_up, make_user):
    """Ana holds the one seat, Ben waits; both were told so. Returns the event and organiser."""
    event = make_event(title="Mission to Bergamo", capacity=1, venue="Palazzo Frizzoni")
    sign_up(event, email="ana@example.org")
    sign_up(event, email="ben@example.org")
    deliver()
    smtp.inbox.wait_for(2)
    return event, make_user("organiser")


def test_changes_made_one_after_another_are_told_once_from_what_people_last_heard(smtp, told_once):
    event, organiser = told_once
    events.update_event(event, {"venue": "Sala Viscontea"}, actor=organiser)
    later = event.starts_at + timedelta(hours=2), event.ends_at + timedelta(hours=2)
    events.update_event(event, {"starts_at": later[0], "ends_at": later[1]}, actor=organiser)
    events.update_event(event, {"venue": "Sala dei Giuristi"}, actor=organiser)
    assert deliver().sent == 2
    told = changes_told(smtp.inbox.wait_for(4) and smtp)
    assert [(to, sequence) for to, _, sequence in told] == [
        ("ana@example.org", 4),  # the confirmation's invitation was 1; 2 and 3 never left
        ("ben@example.org", None),  # the waiting list holds no calendar entry
    ]
    for _, lines, _ in told:
        assert "Where: Palazzo Frizzoni, Bergamo → Sala dei Giuristi, Bergamo" in lines
        assert "When:" in lines and "Sala Viscontea" not in lines
    replaced = db.session.scalars(
        select(OutboxMessage.skip_reason).where(OutboxMessage.status == MessageStatus.SKIPPED)
    ).all()
    assert replaced == [SkipReason.REPLACED] * 4


def test_a_change_undone_before_its_email_left_sends_nothing(smtp, told_once):
    event, organiser = told_once
    events.update_event(event, {"venue": "Sala Viscontea"}, actor=organiser)
    events.update_event(event, {"venue": "Palazzo Frizzoni"}, actor=organiser)
    assert (deliver().sent, len(smtp.inbox.messages)) == (0, 2)
    assert changes_told(smtp) == []


def test_a_change_already_told_is_the_start_of_the_next_one(smtp, told_once):
    event, organiser = told_once
    events.update_event(event, {"venue": "Sala Viscontea"}, actor=organiser)
    deliver()
    events.update_event(event, {"venue": "Palazzo Frizzoni"}, actor=organiser)
    deliver()
    told = [lines for _, lines, _ in changes_told(smtp.inbox.wait_for(6) and smtp)]
    assert told == [
        "- Where: Palazzo Frizzoni, Bergamo → Sala Viscontea, Bergamo",
        "- Where: Palazzo Frizzoni, Bergamo → Sala Viscontea, Bergamo",
        "- Where: Sala Viscontea, Bergamo → Palazzo Frizzoni, Bergamo",
        "- Where: Sala Viscontea, Bergamo → Palazzo Frizzoni, Bergamo",
    ]


def test_a_change_undone_while_a_sender_works_through_its_batch(smtp, told_once):
    """A sender claims a batch and sends its messages one by one: those it has not reached
    when the venue goes back are taken back from it, and nobody is told "A → A"."""
    event, organiser = told_once
    events.update_event(event, {"venue": "Sala Viscontea"}, actor=organiser)
    asked = []

    def undo_after_the_first():
        asked.append(True)
        if len(asked) == 2:  # Ana's e-mail has left; Ben's waits in the sender's batch
            events.update_event(event, {"venue": "Palazzo Frizzoni"}, actor=organiser)
        return False

    outbox.deliver_due(stop=undo_after_the_first)
    deliver()
    ana_told_of_the_return_and_ben_of_nothing(smtp)


def ana_told_of_the_return_and_ben_of_nothing(smtp):
    """Ana heard of the new venue before it was undone: she hears of the return. Ben's e-mail
    had not left: he hears of neither."""
    told = [(to, lines) for to, lines, _ in changes_told(smtp.inbox.wait_for(4) and smtp)]
    assert told == [
        ("ana@example.org", "- Where: Palazzo Frizzoni, Bergamo → Sala Viscontea, Bergamo"),
        ("ana@example.org", "- Where: Sala Viscontea, Bergamo → Palazzo Frizzoni, Bergamo"),
    ]
    bens = db.session.scalars(
        select(OutboxMessage.skip_reason)
        .where(OutboxMessage.recipient == "ben@example.org")
        .where(OutboxMessage.kind == MessageKind.EVENT_CHANGED)
    ).all()
    assert bens == [SkipReason.CHANGE_UNDONE]


def test_a_change_whose_email_failed_is_told_with_the_next_one(smtp, told_once):
    """A message given up on never reached the person: the next change's e-mail starts from
    what they heard before it, and the failed one can no longer be retried over it."""
    event, organiser = told_once
    events.update_event(event, {"venue": "Sala Viscontea"}, actor=organiser)
    failed = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.EVENT_CHANGED)
    ).all()
    for message in failed:  # as the sender leaves it after OUTBOX_MAX_ATTEMPTS
        message.status, message.last_error = MessageStatus.FAILED, "550 mailbox unavailable"
    db.session.commit()
    events.update_event(event, {"venue": "Sala dei Giuristi"}, actor=organiser)
    deliver()
    told = [lines for _, lines, _ in changes_told(smtp.inbox.wait_for(4) and smtp)]
    assert told == ["- Where: Palazzo Frizzoni, Bergamo → Sala dei Giuristi, Bergamo"] * 2
    for message in failed:
        db.session.refresh(message)
        assert message.skip_reason is SkipReason.REPLACED and not message.can_retry


def test_a_change_undone_while_its_email_is_being_handed_to_the_mail_server(app, smtp, told_once):
    """Ana's e-mail is on its way (the server takes its time to accept it) when the venue
    goes back: it cannot be taken back, so she is told of the return too; Ben's, still in the
    sender's batch, is taken back and nobody tells him of a change undone."""
    event, organiser = told_once
    events.update_event(event, {"venue": "Sala Viscontea"}, actor=organiser)
    smtp.inbox.reply_delay = 1.0
    errors, before = [], smtp.inbox.receiving
    sending = as_another_request(app, outbox.deliver_all, errors)
    sending.start()
    wait_until(lambda: smtp.inbox.receiving == before + 1)  # Ana's e-mail is with the server
    events.update_event(event, {"venue": "Palazzo Frizzoni"}, actor=organiser)
    sending.join()
    smtp.inbox.reply_delay = 0
    deliver()
    assert errors == []
    ana_told_of_the_return_and_ben_of_nothing(smtp)


def test_a_change_refused_by_the_server_and_undone_meanwhile_never_says_a_to_a(
    app, smtp, told_once
):
    """The server answers 451 to Ana's e-mail (it goes back to the queue) while the venue goes
    back: retried, it would report "Palazzo Frizzoni → Palazzo Frizzoni"."""
    event, organiser = told_once
    events.update_event(event, {"venue": "Sala Viscontea"}, actor=organiser)
    inbox, release, answered = smtp.inbox, threading.Event(), []
    accept = inbox.handle_DATA

    async def refuse_the_first(server, session, envelope):
        if answered:
            return await accept(server, session, envelope)
        answered.append(True)
        inbox.receiving += 1
        while not release.is_set():
            await asyncio.sleep(0.02)
        return "451 Try again later"

    inbox.handle_DATA = refuse_the_first
    errors, before = [], inbox.receiving
    sending = as_another_request(app, outbox.deliver_due, errors)
    sending.start()
    wait_until(lambda: inbox.receiving == before + 1)  # Ana's e-mail is with the server
    events.update_event(event, {"venue": "Palazzo Frizzoni"}, actor=organiser)
    release.set()
    sending.join()
    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))  # retry now
    db.session.commit()
    deliver()
    assert errors == []
    told = [lines for _, lines, _ in changes_told(smtp)]
    assert "- Where: Palazzo Frizzoni, Bergamo → Palazzo Frizzoni, Bergamo" not in told
    refused = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == "ana@example.org")
        .where(OutboxMessage.kind == MessageKind.EVENT_CHANGED)
        .order_by(OutboxMessage.id)
    ).first()
    assert (refused.attempts, refused.skip_reason) == (1, SkipReason.CHANGE_UNDONE)


def test_a_reminder_on_its_way_when_the_event_moves_to_another_day_stays_on_record(
    app, smtp, make_event, sign_up, make_user
):
    """Ana's reminder is with the mail server when the organiser postpones the event by two
    weeks: it has left, and stays recorded as sent (it was deleted, so the record lost an
    e-mail that went). Ben's, still in the sender's batch, is taken back; both get one for
    the new day."""
    starts = utcnow() + timedelta(hours=20)
    event = make_event(starts_at=starts, ends_at=starts + timedelta(hours=2))
    ana = sign_up(event, email="ana@example.org").registrations[0]
    ben = sign_up(event, email="ben@example.org").registrations[0]
    deliver()
    assert queue_reminders() == 2
    smtp.inbox.reply_delay = 1.0
    errors, before = [], smtp.inbox.receiving
    sending = as_another_request(app, outbox.deliver_all, errors)
    sending.start()
    wait_until(lambda: smtp.inbox.receiving == before + 1)  # Ana's reminder is with the server
    later = starts + timedelta(days=14)
    events.update_event(
        event,
        {"starts_at": later, "ends_at": later + timedelta(hours=2)},
        actor=make_user("organiser"),
    )
    sending.join()
    smtp.inbox.reply_delay = 0
    assert errors == []
    anas, bens = message_of(MessageKind.REMINDER, ana), message_of(MessageKind.REMINDER, ben)
    assert (anas.status, anas.skip_reason) == (MessageStatus.SENT, None)
    assert (bens.status, bens.skip_reason) == (MessageStatus.SKIPPED, SkipReason.REPLACED)
    assert queue_reminders(now=later - timedelta(hours=20)) == 2


def test_a_new_zone_with_the_same_hours_and_offsets_tells_nobody(smtp, told_once):
    """Berlin for Rome, the same hours: the moments and the clocks shown are the same, yet
    everyone got "When: 10:00 → 10:00" and a new invitation."""
    event, organiser = told_once
    event.timezone = "Europe/Berlin"
    db.session.commit()
    events.update_event(event, {"timezone": "Europe/Rome"}, actor=organiser)
    changed = select(OutboxMessage).where(OutboxMessage.kind == MessageKind.EVENT_CHANGED)
    assert db.session.scalars(changed).all() == []


def test_a_mission_moved_to_another_zone_at_the_same_hours_says_so(
    smtp, make_event, sign_up, make_user
):
    """Lisbon for Madrid, each day at the same local hours: the days' lines read the same,
    so the e-mail said "the event has changed" with nothing under "What changed"."""
    lisbon, madrid = ZoneInfo("Europe/Lisbon"), ZoneInfo("Europe/Madrid")

    def days(zone):
        return [
            AgendaDay(
                datetime(2031, 3, 24, 9, tzinfo=zone), datetime(2031, 3, 24, 17, tzinfo=zone)
            ),
            AgendaDay(
                datetime(2031, 3, 25, 9, tzinfo=zone), datetime(2031, 3, 25, 13, tzinfo=zone)
            ),
        ]

    mission = make_event(
        timezone="Europe/Lisbon",
        starts_at=days(lisbon)[0].starts_at,
        ends_at=days(lisbon)[-1].ends_at,
        agenda=days(lisbon),
    )
    sign_up(mission, email="ana@example.org")
    deliver()
    smtp.inbox.wait_for(1)
    moved = days(madrid)
    events.update_event(
        mission,
        {
            "timezone": "Europe/Madrid",
            "starts_at": moved[0].starts_at,
            "ends_at": moved[-1].ends_at,
            "agenda": moved,
        },
        actor=make_user("organiser"),
    )
    deliver()
    smtp.inbox.wait_for(2)
    ((_to, lines, _sequence),) = changes_told(smtp)
    assert "- Time zone: Western European Time → Central European Time" in lines
