"""Attendance certificates: only for people who attended; verifiable, revocable, mailed once."""

from sqlalchemy import select

from ..database import lock, locking, write_transaction
from ..extensions import db
from ..models import (
    Certificate,
    Event,
    MessageKind,
    OutboxMessage,
    Registrant,
    Registration,
    SkipReason,
    utcnow,
)
from .events import EventNotEnded
from .outbox import enqueue


class NotAttended(Exception):
    """Nobody gets a certificate for an event they did not attend (nor once their data is
    erased: it would carry no name)."""


def _existing(registration: Registration) -> Certificate | None:
    return db.session.scalar(
        select(Certificate).where(Certificate.registration_id == registration.id)
    )


def find(code: str) -> Certificate | None:
    """The certificate with this code, or None."""
    if not code or len(code) > 32:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code.upper()))


def for_registration(registration: Registration) -> Certificate | None:
    """The registration's certificate if one was issued."""
    return _existing(registration)


def issue(registration: Registration) -> Certificate:
    """The registration's certificate, created on first use; NotAttended for anyone else (and
    for a revoked one: its PDF would vouch for what the verification page denies)."""
    with write_transaction():
        registration = lock(registration)
        if not is_available(registration):
            raise NotAttended(registration.reference)
        certificate = _existing(registration)
        if certificate is None:
            certificate = Certificate(registration=registration)
            db.session.add(certificate)
    return certificate


def revoke(certificate: Certificate) -> None:
    """Withdraw a certificate: its verification page says "not valid" from now on."""
    with write_transaction():
        certificate = lock(certificate)
        if certificate.revoked_at is None:
            certificate.revoked_at = utcnow()


def _attendees(event: Event):
    """The event's registrations that attended (the one definition: Registration.has_attended),
    of people whose data is not erased."""
    return (
        select(Registration)
        .join(Registration.registrant)
        .where(Registration.event_id == event.id, Registration.has_attended)
        .where(Registrant.purged_at.is_(None))
        .order_by(Registration.id)
    )


def attendees(event: Event) -> list[Registration]:
    """Registrations of the event that can have a certificate: attended, not erased."""
    return list(db.session.scalars(_attendees(event)))


def send_for_event(event: Event) -> int:
    """Issue and mail every attendee's certificate through the outbox, once each."""
    if not event.has_ended(utcnow()):
        raise EventNotEnded(event.slug)
    sent = 0
    with write_transaction():
        attendees = db.session.scalars(locking(_attendees(event), of=Registration)).all()
        mailed = _mailed(event)
        for registration in attendees:
            certificate = _existing(registration)
            if certificate is None:
                certificate = Certificate(registration=registration)
                db.session.add(certificate)
            if certificate.is_revoked or registration.id in mailed:
                continue
            certificate.sent_at = utcnow()
            enqueue(MessageKind.CERTIFICATE, registration)
            sent += 1
    return sent


def _mailed(event: Event) -> set[int]:
    """The event's registrations whose certificate e-mail went, waits or failed (an organiser
    may retry it); not one withdrawn before it left, its check-in undone, should the
    attendance come back."""
    return set(
        db.session.scalars(
            select(OutboxMessage.registration_id)
            .join(Registration, OutboxMessage.registration_id == Registration.id)
            .where(Registration.event_id == event.id, OutboxMessage.kind == MessageKind.CERTIFICATE)
            .where(OutboxMessage.skip_reason.is_distinct_from(SkipReason.CERTIFICATE_WITHDRAWN))
        )
    )


def is_available(registration: Registration) -> bool:
    """Whether the person may download a certificate: they attended an event that has ended,
    their data is not erased, and no organiser revoked theirs."""
    if not (registration.has_attended and registration.event.has_ended(utcnow())):
        return False
    if registration.registrant.is_purged:
        return False
    certificate = _existing(registration)
    return certificate is None or not certificate.is_revoked


def for_event(event: Event) -> list[tuple[Registration, Certificate | None]]:
    """Each attendee of the event with their certificate, if one was issued."""
    issued = {
        c.registration_id: c
        for c in db.session.scalars(
            select(Certificate)
            .join(Certificate.registration)
            .where(Registration.event_id == event.id)
        )
    }
    return [(registration, issued.get(registration.id)) for registration in attendees(event)]


def export_of(registrations: list[Registration]) -> list[dict]:
    """A person's certificates, for the copy of their data."""
    found = db.session.scalars(
        select(Certificate).where(Certificate.registration_id.in_([r.id for r in registrations]))
    ).all()
    return [
        {
            "registration": c.registration.reference,
            "code": c.code,
            "issued_at": c.issued_at.isoformat(),
            "sent_at": c.sent_at.isoformat() if c.sent_at else None,
            "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
        }
        for c in found
    ]
