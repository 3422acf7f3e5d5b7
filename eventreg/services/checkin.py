"""Check-in at the door: scanned tickets and people found by hand, each admitted once."""

import enum
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from ..database import locking, write_transaction
from ..extensions import db
from ..models import Event, Registrant, Registration, RegistrationStatus, User, utcnow
from . import audit

# Ticket secrets are URL-safe base64 (models.registration.new_secret); anything else is no ticket.
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")
# A scan queued offline keeps the device's time if it falls between the evening before the
# event's first day and now; a device clock outside that range is wrong, so arrival time counts.
SCAN_TIME_MARGIN = timedelta(hours=12)
SEARCH_LIMIT = 20


class CheckinResult(enum.StrEnum):
    OK = "ok"
    ALREADY_CHECKED_IN = "already_checked_in"
    CANCELLED = "cancelled"
    WAITLISTED = "waitlisted"
    WRONG_EVENT = "wrong_event"
    NOT_TODAY = "not_today"  # the event does not run on this day; staff may confirm
    INVALID = "invalid"


@dataclass(frozen=True)
class CheckIn:
    """What the door learns from one scan; ``registration`` is None for an invalid code."""

    result: CheckinResult
    registration: Registration | None = None


@dataclass(frozen=True)
class DoorCount:
    checked_in: int
    confirmed: int


def check_in_ticket(
    event: Event,
    secret: str,
    *,
    staff: User,
    scanned_at: datetime | None = None,
    any_day: bool = False,
) -> CheckIn:
    """Admit the holder of a scanned ticket, or say why not; a ticket is checked in once only.

    On a day the event does not run the answer is NOT_TODAY, unless staff confirm (``any_day``).
    """
    secret = secret.strip()
    if not _SECRET_SHAPE.fullmatch(secret):
        return CheckIn(CheckinResult.INVALID)
    with write_transaction():
        registration = _locked(Registration.ticket_secret == secret)
        return _admit(event, registration, staff, scanned_at, how="scan", any_day=any_day)


def check_in(
    registration: Registration,
    *,
    staff: User,
    scanned_at: datetime | None = None,
    any_day: bool = False,
) -> CheckIn:
    """Admit a person found by hand, by the same rules as a scan."""
    with write_transaction():
        locked = _locked(Registration.id == registration.id)
        return _admit(registration.event, locked, staff, scanned_at, how="manual", any_day=any_day)


def undo_check_in(registration: Registration, *, staff: User) -> bool:
    """Take back a check-in made by mistake; False when there was none."""
    with write_transaction():
        locked = _locked(Registration.id == registration.id)
        if locked.checked_in_at is None:
            return False
        audit.record(
            "check_in_undone",
            registration=locked,
            actor=staff,
            checked_in_at=locked.checked_in_at.isoformat(),
        )
        locked.checked_in_at = None
        locked.checked_in_by_id = None
    return True


def scan_time(event: Event, scanned_at: datetime | None, now: datetime | None = None) -> datetime:
    """When a scan really happened: the device's time when plausible, else now."""
    now = now or utcnow()
    if scanned_at is None or not earliest_scan_time(event) <= scanned_at <= now:
        return now
    return scanned_at


def earliest_scan_time(event: Event) -> datetime:
    """The earliest moment a check-in for the event can plausibly have happened."""
    first_day = datetime.combine(event.local_starts_at.date(), time(), tzinfo=event.zone)
    return first_day - SCAN_TIME_MARGIN


def door_count(event: Event) -> DoorCount:
    """Confirmed registrations and how many of them are checked in, as every device shows it."""
    confirmed, checked_in = db.session.execute(
        select(func.count(), func.count(Registration.checked_in_at))
        .where(Registration.event_id == event.id)
        .where(Registration.status == RegistrationStatus.CONFIRMED)
    ).one()
    return DoorCount(checked_in=checked_in, confirmed=confirmed)


def find_registrations(event: Event, text: str) -> list[Registration]:
    """The event's registrations whose name or reference contain every word typed.

    An e-mail address matches only when typed in full: matching parts of it would let anyone
    at the door recover addresses one character at a time.
    """
    words = text.split()[:5]
    if len("".join(words)) < 2:
        return []
    query = (
        select(Registration)
        .join(Registration.registrant)
        .where(Registration.event_id == event.id)
        .options(contains_eager(Registration.registrant))
    )
    for word in words:
        query = query.where(
            or_(
                Registrant.first_name.icontains(word, autoescape=True),
                Registrant.last_name.icontains(word, autoescape=True),
                Registrant.email == word.lower(),
                Registration.reference.icontains(word, autoescape=True),
            )
        )
    order = (Registrant.last_name, Registrant.first_name, Registration.id)
    return list(db.session.scalars(query.order_by(*order).limit(SEARCH_LIMIT)))


def registration_at(event: Event, reference: str) -> Registration | None:
    """The event's registration with this reference."""
    return db.session.scalar(
        select(Registration)
        .where(Registration.event_id == event.id)
        .where(Registration.reference == reference)
    )


def _locked(condition: ColumnElement[bool]) -> Registration | None:
    """Load a registration with its row locked, freshly read, so concurrent scans queue here.

    The person and whoever checked them in come in the same statement: every answer shows
    them, and lazy loads were a fifth of a scan's time. Only the registration row is locked.
    """
    return db.session.scalar(
        locking(
            select(Registration)
            .where(condition)
            .options(
                joinedload(Registration.registrant, innerjoin=True),
                joinedload(Registration.checked_in_by),
            ),
            of=Registration,
        )
    )


def _admit(
    event: Event,
    registration: Registration | None,
    staff: User,
    scanned_at: datetime | None,
    *,
    how: str,
    any_day: bool = False,
) -> CheckIn:
    """Decide under the caller's lock; check the person in only when every rule allows."""
    if registration is None:
        return CheckIn(CheckinResult.INVALID)
    if registration.event_id != event.id:
        return CheckIn(CheckinResult.WRONG_EVENT, registration)
    if registration.status is RegistrationStatus.CANCELLED:
        return CheckIn(CheckinResult.CANCELLED, registration)
    if registration.status is RegistrationStatus.WAITLISTED:
        return CheckIn(CheckinResult.WAITLISTED, registration)
    if registration.checked_in_at is not None:
        return CheckIn(CheckinResult.ALREADY_CHECKED_IN, registration)
    when = scan_time(event, scanned_at)
    if not any_day and not event.runs_on(when):
        return CheckIn(CheckinResult.NOT_TODAY, registration)
    registration.checked_in_at = when
    registration.checked_in_by_id = staff.id
    audit.record(
        "checked_in",
        registration=registration,
        actor=staff,
        how=how,
        checked_in_at=registration.checked_in_at.isoformat(),
        device_time=scanned_at.isoformat() if scanned_at else None,
        **({"confirmed_off_day": True} if not event.runs_on(when) else {}),
    )
    return CheckIn(CheckinResult.OK, registration)
