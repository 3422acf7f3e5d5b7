"""Personal data: what we hold about a person, erasing it on request, purging it after events."""

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select

from ..database import write_transaction
from ..extensions import db
from ..models import (
    AuditEntry,
    CancelReason,
    Event,
    FeedbackResponse,
    MessageStatus,
    OutboxMessage,
    Registrant,
    Registration,
    User,
    utcnow,
)
from ..models.registration import new_person_key, new_secret
from . import audit, certificates, feedback, former_members, members
from .mail_transport import remove_saved_copies
from .registrations import cancel_coming, lock_people


def export_data(registrant: Registrant, *, network_profile: bool = False) -> dict[str, Any]:
    """Everything held about the person, as JSON-ready data (GDPR article 15 and 20).

    ``network_profile``: also the person's other sign-ups (each separate submission made a
    registrant of its own) and the network profile with the same e-mail address. Only for an
    organiser answering a request whose sender they checked: a registration's own link proves
    nothing about the address (anyone can sign up with any), so a manage link never reaches the
    others; members download their profile from the network (``members.export_profile``)."""
    people = same_address(registrant) if network_profile else [registrant]
    registrations = [registration for person in people for registration in person.registrations]
    ids = [r.id for r in registrations]
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.registration_id.in_(ids))
        .order_by(OutboxMessage.id)
    ).all()
    history = db.session.scalars(
        select(AuditEntry).where(AuditEntry.registration_id.in_(ids)).order_by(AuditEntry.id)
    ).all()
    others = [person for person in people if person is not registrant]
    return {
        **_person(registrant),
        "registrations": [
            {
                "reference": r.reference,
                "event": r.event.slug,
                "event_title": r.event.text_in("title", registrant.language),
                "status": r.status.value,
                "registered_at": r.created_at.isoformat(),
                "confirmed_at": _iso(r.confirmed_at),
                "cancelled_at": _iso(r.cancelled_at),
                "checked_in_at": _iso(r.checked_in_at),
                "checked_in_on_days": [_iso(c.checked_in_at) for c in r.day_check_ins],
                "joined_online_at": _iso(r.joined_online_at),
            }
            for r in registrations
        ],
        "emails": [
            {
                "kind": m.kind.value,
                "to": m.recipient,
                "status": m.status.value,
                "queued_at": m.created_at.isoformat(),
                "sent_at": _iso(m.sent_at),
            }
            for m in messages
        ],
        "history": [
            {"action": e.action, "at": e.created_at.isoformat(), "details": e.details}
            for e in history
        ],
        "feedback": feedback.export_of(registrations),
        "certificates": certificates.export_of(registrations),
    } | (
        {
            "other_sign_ups": [_person(person) for person in others],
            "network_profile": members.export_profile(registrant.email),
        }
        if network_profile
        else {}
    )


def same_address(registrant: Registrant) -> list[Registrant]:
    """The registrant and the others, not anonymised, with the same stored (canonical) address:
    each separate sign-up of a person made one."""
    if registrant.is_purged:
        return [registrant]
    return list(
        db.session.scalars(
            select(Registrant)
            .where(Registrant.email == registrant.email, Registrant.purged_at.is_(None))
            .order_by(Registrant.id)
        )
    )


def erase(
    registrant: Registrant, *, actor: User | None = None, network_profile: bool = False
) -> None:
    """Anonymise the person; their registrations for coming events are cancelled (seats go to
    the waiting lists), those of ended events stay as they were, anonymous, in the figures.

    With ``network_profile`` (see ``export_data``) also their other sign-ups and network
    profile. The sign-ups erased together stay one person in the figures (``person_key``)."""
    with write_transaction():
        people = same_address(registrant) if network_profile else [registrant]
        # Events before the member, as a sign-up that joins the network takes them: in the
        # other order the two wait for each other on PostgreSQL. The people too: an event
        # added in another tab meanwhile is cancelled with the rest.
        people = lock_people(people)
        if network_profile:
            members.forget(registrant.email)
        # Erased already (a second click, a second organiser): done, and recorded, once.
        people = [person for person in people if not person.is_purged]
        person_key = new_person_key()
        for person in people:
            cancel_coming(person, CancelReason.ERASED, actor=actor, notify=False)
            _anonymise(person, person_key)
            for registration in person.registrations:
                audit.record("erased", registration=registration, actor=actor)


def retention_cutoff(now: datetime | None = None) -> datetime:
    """What ended, or left, before this moment is kept no longer (RETENTION_DAYS)."""
    return (now or utcnow()) - timedelta(days=current_app.config["RETENTION_DAYS"])


def expired(now: datetime | None = None) -> list[Registrant]:
    """People whose every event ended more than RETENTION_DAYS ago and who are not purged yet."""
    cutoff = retention_cutoff(now)
    last_event_end = (
        select(Registration.registrant_id, func.max(Event.ends_at).label("last_end"))
        .join(Registration.event)
        .group_by(Registration.registrant_id)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(Registrant)
            .join(last_event_end, last_event_end.c.registrant_id == Registrant.id)
            .where(last_event_end.c.last_end < cutoff)
            .where(Registrant.purged_at.is_(None))
            .order_by(Registrant.id)
        )
    )


def purge(now: datetime | None = None) -> int:
    """Anonymise everyone past the retention period; returns how many people."""
    with write_transaction():
        people = expired(now)  # read in the transaction that anonymises them
        members.drop_unconfirmed(now)  # joins nobody confirmed are not kept either
        former_members.forget_left_before(retention_cutoff(now))  # nor of those who left
        keys: dict[str, str] = {}  # sign-ups with one address, purged together: one person
        for registrant in people:
            _anonymise(registrant, keys.setdefault(registrant.email, new_person_key()))
            for registration in registrant.registrations:
                audit.record("purged", registration=registration)
    return len(people)


def _anonymise(registrant: Registrant, person_key: str) -> None:
    """Anonymise inside the caller's transaction, with the mail still owed to the person.

    Saved copies of their e-mail go too; should the transaction fail after that, the person
    is still listed for erasure and the files, copies only, are not missed.
    """
    ids = [r.id for r in registrant.registrations]
    remove_saved_copies(
        list(
            db.session.scalars(
                select(OutboxMessage.message_id).where(OutboxMessage.registration_id.in_(ids))
            )
        )
    )
    db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.registration_id.in_(ids))
        .where(OutboxMessage.status != MessageStatus.SENT)
    )
    for message in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.registration_id.in_(ids))
    ):
        message.recipient = ""
        message.params = {key: value for key, value in message.params.items() if key == "sequence"}
    # The questionnaire link dies too; the answers stay, anonymous, in the results.
    for response in db.session.scalars(
        select(FeedbackResponse).where(FeedbackResponse.registration_id.in_(ids))
    ):
        response.token = new_secret()
    registrant.anonymise(person_key)


def _person(registrant: Registrant) -> dict[str, Any]:
    """What the person told us at one sign-up, and the consent they gave."""
    return {
        "person": {
            name: getattr(registrant, name)
            for name in (
                "first_name",
                "last_name",
                "email",
                "organisation",
                "job_title",
                "country",
                "language",
                "needs",
                "network_opt_in",
            )
        }
        | {
            "target_group": registrant.target_group.value,
            "social_economy_type": _value(registrant.social_economy_type),
        },
        "consent": {
            "given_at": registrant.consent_at.isoformat(),
            "privacy_notice_version": registrant.privacy_notice_version,
        },
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _value(member) -> str | None:
    return member.value if member is not None else None
