"""Whether a queued e-mail still tells its reader the truth when its turn comes to be sent.

A message is written when something happens and rendered when it is sent; meanwhile the
registration or the event may have moved on (a confirmation whose registration was cancelled,
a reminder whose event began while the sender was stopped). Such a message is not sent.
"""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import (
    AbuseReport,
    Certificate,
    ContactBlock,
    FeedbackResponse,
    Member,
    MessageKind,
    OutboxMessage,
    Practice,
    PracticeStatus,
    Registration,
    SkipReason,
    User,
)
from .schedules import differs, schedule_of

Check = Callable[[Registration, datetime], SkipReason | None]


def outdated_because(message: OutboxMessage, now: datetime) -> SkipReason | None:
    """Why the message would now say something no longer true, or None when it may be sent."""
    if message.member is not None and message.kind in _STOPPABLE:
        if not message.member.receives_mail:
            return SkipReason.MAIL_STOPPED
        if message.kind is MessageKind.NETWORK_CONTACT:
            return _sender_gone(message)
        if message.kind in _SAYS_IN_LIBRARY:
            return _practice_moved_on(message)
        return None
    if message.kind is MessageKind.ABUSE_REPORT:
        return _no_longer_organiser(message.user_id) or _report_closed(message.params["report_id"])
    if message.registration is None:
        return None
    for check in _CHECKS.get(message.kind, ()):
        if reason := check(message.registration, now):
            return reason
    if message.kind is MessageKind.EVENT_CHANGED:
        return _change_undone(message)
    if message.kind is MessageKind.FEEDBACK_REQUEST:
        return _feedback_withdrawn(message)
    return None


def _feedback_withdrawn(message: OutboxMessage) -> SkipReason | None:
    """The questionnaire the link opens is gone: the check-in was undone (a later check-in
    invites the person again, with a new link in an e-mail of its own)."""
    token = db.session.scalar(
        select(FeedbackResponse.token).where(
            FeedbackResponse.registration_id == message.registration_id
        )
    )
    return None if token == message.params.get("token") else SkipReason.FEEDBACK_WITHDRAWN


def _change_undone(message: OutboxMessage) -> SkipReason | None:
    """The event is back where the e-mail's "old" says it was: it would report "A → A". (A
    newer change replaces an e-mail not sent yet; this one was on its way then, and came back
    to the queue: the server refused it for now, or its sender stopped.)"""
    previous = message.params.get("previous")
    if previous is None:  # queued before e-mails said old → new: nothing to go by
        return None
    now = schedule_of(message.registration.event)
    if any(differs(aspect, previous, now) for aspect in message.params.get("changed", ())):
        return None
    return SkipReason.CHANGE_UNDONE


def _no_longer_organiser(user_id: int | None) -> SkipReason | None:
    """The organiser it was written to was deactivated, or is check-in staff now."""
    user = db.session.get(User, user_id, populate_existing=True) if user_id else None
    ok = user is not None and user.is_active and user.is_organiser
    return None if ok else SkipReason.NO_LONGER_ORGANISER


def _report_closed(report_id: int) -> SkipReason | None:
    """An organiser decided on the report already, or it went with the member reported."""
    report = db.session.get(AbuseReport, report_id, populate_existing=True)
    return None if report is not None and report.is_open else SkipReason.REPORT_CLOSED


def _sender_gone(message: OutboxMessage) -> SkipReason | None:
    """The organisers hid the sender's profile after the message was written, or the sender
    left the network (their name and address would go out after they were erased), or the
    recipient stopped the sender's messages, or all messages, since."""
    sender_id = message.params.get("sender_id")
    if sender_id is None:
        return None  # written before messages named their sender: nothing to go by
    sender = db.session.get(Member, sender_id, populate_existing=True)
    ok = sender is not None and message.written_by(sender) and not sender.is_hidden
    if not ok:
        return SkipReason.SENDER_GONE
    return None if _still_accepted(message.member, sender) else SkipReason.CONTACT_STOPPED


def _still_accepted(recipient: Member, sender: Member) -> bool:
    """Whether the recipient still takes messages, and this sender's (as
    ``member_contact.accepts_messages``, which imports the outbox this module serves)."""
    blocked = select(ContactBlock.member_id).where(
        ContactBlock.member_id == recipient.id, ContactBlock.blocked_id == sender.id
    )
    return recipient.accepts_messages and db.session.scalar(blocked) is None


def _practice_moved_on(message: OutboxMessage) -> SkipReason | None:
    """The practice is no longer where the message says: republished before its "taken out"
    e-mail left, taken out again before its "published" one, or removed for good. SQLite gives
    a removed last practice's id to the next one: a practice newer than the message is another."""
    practice = db.session.get(Practice, message.params["practice_id"], populate_existing=True)
    if practice is not None and practice.created_at > message.created_at:
        practice = None
    in_library = practice is not None and practice.status is PracticeStatus.PUBLISHED
    return None if in_library == _SAYS_IN_LIBRARY[message.kind] else SkipReason.PRACTICE_MOVED_ON


def _event_called_off(registration: Registration, now: datetime) -> SkipReason | None:
    return SkipReason.EVENT_CANCELLED if registration.event.is_cancelled else None


def _registration_cancelled(registration: Registration, now: datetime) -> SkipReason | None:
    return None if registration.is_active else SkipReason.REGISTRATION_CANCELLED


def _no_longer_confirmed(registration: Registration, now: datetime) -> SkipReason | None:
    return None if registration.is_confirmed else SkipReason.NO_LONGER_CONFIRMED


def _no_longer_waitlisted(registration: Registration, now: datetime) -> SkipReason | None:
    return None if registration.is_waitlisted else SkipReason.NO_LONGER_WAITLISTED


def _certificate_withdrawn(registration: Registration, now: datetime) -> SkipReason | None:
    """An organiser revoked the certificate, or undid the check-in it vouches for."""
    certificate = db.session.scalar(
        select(Certificate)
        .where(Certificate.registration_id == registration.id)
        .execution_options(populate_existing=True)
    )
    ok = certificate is not None and certificate.is_valid
    return None if ok else SkipReason.CERTIFICATE_WITHDRAWN


def _event_started(registration: Registration, now: datetime) -> SkipReason | None:
    return SkipReason.EVENT_STARTED if registration.event.has_started(now) else None


def _event_ended(registration: Registration, now: datetime) -> SkipReason | None:
    return SkipReason.EVENT_ENDED if registration.event.has_ended(now) else None


# Per kind, what must still hold for the message to be sent, in the order the reason is told.
# A cancellation or calling-off is always worth telling; so is what follows an event (feedback,
# certificates) and what organisers write; materials go to those still holding a seat. A
# confirmation late for an event under way still helps (the person may come, or join online);
# once it has ended, an invitation, a ticket or a new time and place is wrong. A reminder or a
# place on the waiting list means nothing once the event has begun.
_CHECKS: dict[MessageKind, tuple[Check, ...]] = {
    MessageKind.CONFIRMATION: (
        _event_called_off,
        _registration_cancelled,
        _no_longer_confirmed,
        _event_ended,
    ),
    MessageKind.WAITLISTED: (
        _event_called_off,
        _registration_cancelled,
        _no_longer_waitlisted,
        _event_started,
    ),
    MessageKind.EVENT_CHANGED: (_event_called_off, _registration_cancelled, _event_ended),
    MessageKind.CERTIFICATE: (_certificate_withdrawn,),
    # Its link opens the materials only for someone who holds a seat (announced before the
    # event ended, the registration may still go).
    MessageKind.MATERIALS_AVAILABLE: (
        _event_called_off,
        _registration_cancelled,
        _no_longer_confirmed,
    ),
    MessageKind.REMINDER: (
        _event_called_off,
        _registration_cancelled,
        _no_longer_confirmed,
        _event_started,
    ),
}

# Whether a practice e-mail tells its proposer that the practice is in the library.
_SAYS_IN_LIBRARY = {
    MessageKind.NETWORK_PRACTICE_PUBLISHED: True,
    MessageKind.NETWORK_PRACTICE_REPUBLISHED: True,
    MessageKind.NETWORK_PRACTICE_UNPUBLISHED: False,
    MessageKind.NETWORK_PRACTICE_REJECTED: False,
}

# What a member stops by the link in the network's e-mails; a sign-in link they asked for goes.
_STOPPABLE = frozenset(
    {
        MessageKind.NETWORK_CONTACT,
        MessageKind.NETWORK_ANNOUNCEMENT,
        MessageKind.NETWORK_PRACTICE_PUBLISHED,
        MessageKind.NETWORK_PRACTICE_REJECTED,
        MessageKind.NETWORK_PRACTICE_UNPUBLISHED,
        MessageKind.NETWORK_PRACTICE_REPUBLISHED,
    }
)
