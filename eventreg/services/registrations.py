"""Signing up, cancelling and the waiting list: the rules that keep events from overbooking."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, bindparam, func, select
from sqlalchemy.orm import lazyload, load_only

from ..database import (
    attach,
    for_update,
    in_write_transaction,
    lock,
    locked_rows,
    save_new,
    write_transaction,
)
from ..extensions import db
from ..models import (
    CancelReason,
    Event,
    EventStatus,
    MessageKind,
    Registrant,
    Registration,
    RegistrationStatus,
    SocialEconomyType,
    TargetGroup,
    User,
    utcnow,
)
from ..models.registration import new_secret
from . import audit, outbox
from .outbox import enqueue


class SignupError(Exception):
    """A sign-up that the rules refuse; nothing was written."""

    def __init__(self, event: Event):
        super().__init__(event.slug)
        self.event = event


class UnknownEvent(LookupError):
    """No event open to the public has that slug (a draft is unknown to the public)."""


class RegistrationClosed(SignupError):
    """The event's registration window is not open."""


class AlreadyRegistered(SignupError):
    """That e-mail address already holds an active registration for the event."""


class OutOfOrder(ValueError):
    """Others wait longer than this person: a seat out of turn needs the organiser's word."""

    def __init__(self, event: Event, waiting_longer: int):
        super().__init__(event.slug)
        self.waiting_longer = waiting_longer


class NotWaiting(SignupError):
    """Only a registration on the waiting list can be promoted."""


class EventHasEnded(Exception):
    """What only a coming event can have done to it (being called off) or to its registrations
    (cancelled, moved, given a seat) comes too late: once it has ended they are history."""

    def __init__(self, slug: str):
        super().__init__(slug)
        self.slug = slug


@dataclass
class PersonDetails:
    """What a person tells us about themselves when signing up."""

    first_name: str
    last_name: str
    email: str
    organisation: str
    country: str
    target_group: TargetGroup
    language: str
    job_title: str | None = None
    social_economy_type: SocialEconomyType | None = None
    needs: str | None = None
    network_opt_in: bool = False

    def values(self) -> dict[str, Any]:
        """Field by field (``asdict`` copies each value deeply: a rush's cost for plain text)."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


def sign_up(
    details: PersonDetails,
    events: Sequence[Event],
    privacy_notice_version: str,
    *,
    actor: User | None = None,
) -> Registrant:
    """Register a new person for one or more events: a seat where one is left, else the queue.

    An organiser (``actor``) may add people after registration has closed.
    """
    event_ids = [event.id for event in events]  # read before the transaction expires them
    with write_transaction():
        locked = _lock_events(event_ids)
        return _sign_up(details, locked, privacy_notice_version, actor)


def sign_up_by_slugs(
    details: PersonDetails, slugs: Sequence[str], privacy_notice_version: str
) -> Registrant:
    """Register a new person for the events with these slugs (the public form and the API).

    The events are found and locked in one statement; a draft is as unknown as a wrong slug.
    """
    with write_transaction():
        locked = _locked_events(_PUBLIC_EVENTS_BY_SLUG, {"slugs": sorted(set(slugs))})
        if len(locked) < len(set(slugs)):
            raise UnknownEvent(", ".join(sorted(set(slugs) - {e.slug for e in locked})))
        return _sign_up(details, locked, privacy_notice_version, None)


def _sign_up(
    details: PersonDetails, locked: list[Event], privacy_notice_version: str, actor: User | None
) -> Registrant:
    """The new person and a place at each locked event (the caller holds the locks)."""
    standing = _check_can_join(details.email, locked, enforce_window=actor is None)
    registrant = Registrant(
        **details.values(),
        consent_at=utcnow(),
        privacy_notice_version=privacy_notice_version,
        registrations=[],  # complete in memory: reading it later needs no SELECT
    )
    if all(event.is_online for event in locked):
        registrant.needs = None  # asked for in-person events only: keep no needless data
    save_new(registrant)
    for event in locked:
        _announce(*_join(registrant, event, standing[event.id]), actor, "signed_up")
    return registrant


def add_events(registrant: Registrant, events: Sequence[Event]) -> list[Registration]:
    """Register an existing registrant for more events without asking their details again."""
    event_ids = [event.id for event in events]
    with write_transaction():
        locked = _lock_events(event_ids)
        # Their address as it is now: another tab may have changed it since the page read it.
        registrant = lock(registrant)
        standing = _check_can_join(registrant.email, locked)
        joined = [_join(registrant, event, standing[event.id]) for event in locked]
        for registration, position in joined:
            _announce(registration, position, None, "signed_up")
    return [registration for registration, _ in joined]


def update_details(
    registrant: Registrant, details: PersonDetails, *, actor: User | None = None
) -> None:
    """Correct a registrant's details; a new e-mail must not collide at any of their events."""
    with write_transaction():
        (registrant,) = lock_people([registrant])
        locked = _lock_events(r.event_id for r in registrant.active_registrations)
        if details.email != registrant.email:
            _check_can_join(details.email, locked, enforce_window=False)
        changed = sorted(
            name for name, value in details.values().items() if getattr(registrant, name) != value
        )
        if "email" in changed:  # what still waits goes to the address as it is now
            ids = [registration.id for registration in registrant.registrations]
            outbox.readdress(ids, registrant.email, details.email)
        for name, value in details.values().items():
            setattr(registrant, name, value)
        _drop_needs_without_in_person_event(registrant)
        if not changed:
            return  # saving the form unchanged leaves no trace
        for registration in registrant.registrations:
            audit.record("details_updated", registration=registration, actor=actor, fields=changed)


def cancel(registration: Registration, *, actor: User | None = None) -> Registration | None:
    """Cancel a registration; a freed seat goes to the first in the queue, who is returned.

    EventHasEnded once its event is over."""
    with write_transaction():
        (event,) = _lock_events([registration.event_id])
        registration = lock(registration)
        if not registration.is_active:
            return None
        _refuse_ended(event)
        promoted = _leave(registration, event, actor, CancelReason.WITHDRAWN)
    return promoted[0] if promoted else None


def cancel_coming(
    registrant: Registrant, reason: CancelReason, *, actor: User | None = None, notify: bool = True
) -> None:
    """Cancel a person's active registrations for events that have not ended (e.g. before
    erasing their data); those of ended events stay as they were, with their attendance."""
    with write_transaction():
        locked = {e.id: e for e in _lock_events(r.event_id for r in registrant.registrations)}
        now = utcnow()
        for registration in registrant.registrations:
            event = locked[registration.event_id]
            registration = lock(registration)
            if registration.is_active and not event.has_ended(now):
                _leave(registration, event, actor, reason, notify=notify)


def promote(registration: Registration, *, actor: User, ahead_of_queue: bool = False) -> None:
    """An organiser gives a waiting person a seat now: the event gains that one seat.

    Someone waiting longer goes first unless the organiser confirmed ``ahead_of_queue``;
    EventHasEnded once the event is over.
    """
    with write_transaction():
        (event,) = _lock_events([registration.event_id])
        registration = lock(registration)
        if not registration.is_waitlisted:
            raise NotWaiting(event)
        _refuse_ended(event)
        position = waitlist_position(registration)
        if position > 1 and not ahead_of_queue:
            raise OutOfOrder(event, position - 1)
        if not _has_free_seat(event):
            event.capacity += 1
            audit.record("capacity_raised", event=event, actor=actor, capacity=event.capacity)
        registration.confirm()
        _announce(registration, None, actor, "promoted")


def move(registration: Registration, target: Event, *, actor: User) -> Registration:
    """Move a registration to another event: the old seat is freed, the new one taken or queued.

    EventHasEnded when either event is over: an ended event's registrations are history."""
    with write_transaction():
        source, destination = registration.event, target
        locked = {event.id: event for event in _lock_events([source.id, destination.id])}
        registration = lock(registration)
        registrant = lock(registration.registrant)  # their address as it is now
        if not registration.is_active:
            raise SignupError(source)
        _refuse_ended(locked[source.id])
        _refuse_ended(locked[destination.id])
        _check_can_join(registrant.email, [locked[destination.id]], enforce_window=False)
        _leave(
            registration, locked[source.id], actor, CancelReason.MOVED, moved_to=destination.slug
        )
        moved, position = _join(registrant, locked[destination.id])
        _announce(moved, position, actor, "moved_here", moved_from=source.slug)
    return moved


def fill_from_waitlist(event: Event, *, actor: User | None = None) -> list[Registration]:
    """Promote waiting registrations while the event has free seats (after capacity grows)."""
    with write_transaction():
        (locked,) = _lock_events([event.id])
        promoted = _promote(locked, actor)
    return promoted


def waitlist_position(registration: Registration) -> int | None:
    """1 for the first in the queue; None when the registration is not waiting."""
    if not registration.is_waitlisted:
        return None
    ahead = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == registration.event_id)
        .where(Registration.status == RegistrationStatus.WAITLISTED)
        .where(
            (Registration.created_at < registration.created_at)
            | (
                (Registration.created_at == registration.created_at)
                & (Registration.id < registration.id)
            )
        )
    )
    return ahead + 1


def _refuse_ended(event: Event) -> None:
    """EventHasEnded if the (locked) event is over."""
    if event.has_ended(utcnow()):
        raise EventHasEnded(event.slug)


def lock_people(people: Sequence[Registrant]) -> list[Registrant]:
    """Lock these people, read again, and the events they hold registrations for, for a use
    case that decides on all their registrations (an erasure, a new address): the events
    first, as every use case takes them, then the people. Inside the caller's use case.

    A registration another tab added meanwhile (``add_events`` locks the person too) shows
    once the people are locked. Its event, locked only then, would be taken out of order (a
    deadlock with a sign-up holding it, or a second click waiting for the person): everything
    is let go and taken again, in order, the new event with the others."""
    if not in_write_transaction():  # its own block would commit, and the locks go with it
        raise RuntimeError("lock_people() runs inside the caller's write_transaction()")
    while True:
        try:
            with write_transaction():  # inside the use case: a savepoint, whose locks go with it
                held = {r.event_id for person in people for r in person.registrations}
                _lock_events(held)
                locked = [lock(person) for person in people]
                for person in locked:
                    db.session.expire(person, ["registrations"])
                if {r.event_id for person in locked for r in person.registrations} <= held:
                    return locked
                raise _EventsAdded
        except _EventsAdded:
            people = locked


class _EventsAdded(Exception):
    """A person's registrations changed while their events were being locked."""


def lock_events_of(people: Iterable[Registrant]) -> None:
    """Lock every event these people hold registrations for, at once and in id order, for a
    use case that then changes several of them: locked one person at a time, the order is no
    longer the one every other use case follows, and PostgreSQL can deadlock."""
    _lock_events(r.event_id for person in people for r in person.registrations)


def _lock_events(event_ids: Iterable[int]) -> list[Event]:
    """Reload the events with a row lock, in id order so that two sign-ups never deadlock."""
    return _locked_events(_EVENTS_BY_ID, {"ids": sorted(set(event_ids))})


def _locked_events(statement: Select, params: dict[str, Any]) -> list[Event]:
    return list(locked_rows(statement, params))


def _events_for_rules(which: ColumnElement[bool]) -> Select:
    """The events, in id order, with what the rules decide on: whether the event takes
    sign-ups, its seats, online or not. Other columns, and a multi-day event's days, load
    only if a use case looks at them. Built once: building a statement costs more than
    running it."""
    rules = (
        Event.slug,
        Event.status,
        Event.mode,
        Event.capacity,
        Event.ends_at,
        Event.registration_opens_at,
        Event.registration_closes_at,
    )
    return for_update(
        select(Event)
        .where(which)
        .order_by(Event.id)
        .options(load_only(*rules), lazyload(Event.days))
    )


_EVENTS_BY_ID = _events_for_rules(Event.id.in_(bindparam("ids", expanding=True)))
_PUBLIC_EVENTS_BY_SLUG = _events_for_rules(
    Event.slug.in_(bindparam("slugs", expanding=True)) & (Event.status != EventStatus.DRAFT)
)


@dataclass(frozen=True)
class Standing:
    """An event's seats taken and queue, and whether one address already holds a place."""

    confirmed: int = 0
    waiting: int = 0
    taken: bool = False


def _check_can_join(
    email: str, events: Sequence[Event], *, enforce_window: bool = True
) -> dict[int, Standing]:
    """Refuse closed events and an address already registered; else each event's standing."""
    now = utcnow()
    for event in events:
        if event.is_cancelled or (enforce_window and not event.is_registration_open(now)):
            raise RegistrationClosed(event)
    standing = _standing(events, email)
    taken = next((event for event in events if standing[event.id].taken), None)
    if taken is not None:
        raise AlreadyRegistered(taken)
    return standing


def _standing(events: Sequence[Event], email: str) -> dict[int, Standing]:
    """Every event's standing for this address, counted in one statement."""
    rows = db.session.execute(_STANDING, {"ids": [event.id for event in events], "email": email})
    counted = {
        event_id: Standing(confirmed, waiting, taken > 0)
        for event_id, confirmed, waiting, taken in rows
    }
    return {event.id: counted[event.id] for event in events}


def _standing_statement() -> Select:
    """Per event: seats taken and the queue, each counted from the (event, status) index, and
    the address's active registrations, found through its person (never a scan of the event)."""

    def registrations_where(*conditions) -> ScalarSelect:
        return (
            select(func.count())
            .select_from(Registration)
            .where(Registration.event_id == Event.id, *conditions)
            .scalar_subquery()
        )

    people = select(Registrant.id).where(Registrant.email == bindparam("email"))
    return select(
        Event.id,
        registrations_where(Registration.status == RegistrationStatus.CONFIRMED),
        registrations_where(Registration.status == RegistrationStatus.WAITLISTED),
        registrations_where(
            Registration.registrant_id.in_(people),
            Registration.status != RegistrationStatus.CANCELLED,
        ),
    ).where(Event.id.in_(bindparam("ids", expanding=True)))


_STANDING = _standing_statement()


def _confirmed_count(event: Event) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == event.id)
        .where(Registration.status == RegistrationStatus.CONFIRMED)
    )


def _has_free_seat(event: Event, confirmed: int | None = None) -> bool:
    """Whether the event has a seat left (``confirmed``: the caller has counted them already)."""
    if event.capacity is None:
        return True
    return (_confirmed_count(event) if confirmed is None else confirmed) < event.capacity


def _join(
    registrant: Registrant, event: Event, standing: Standing | None = None
) -> tuple[Registration, int | None]:
    """Give the registrant a seat at the event, or a place at the end of its queue.

    Returns the registration and, when it waits, its place in the queue: it comes last, behind
    everyone the locked event's queue held (``standing``: counted by the caller under the
    lock, else here). Nothing is flushed here.
    """
    if standing is None:
        standing = _standing([event], registrant.email)[event.id]
    has_seat = _has_free_seat(event, standing.confirmed)
    # A person has a handful of registrations at most; a new person's list is already in memory.
    registration = next((r for r in registrant.registrations if r.event_id == event.id), None)
    if registration is None:  # written by _announce, once its e-mail's sequence is known
        registration = Registration(registrant_id=registrant.id, event_id=event.id)
        attach(registration, "registrant", registrant)
        attach(registration, "event", event)
    else:  # coming back after cancelling: a fresh place at the back of the queue
        registration.created_at = utcnow()
        registration.cancelled_at = None
        registration.cancel_reason = None
        registration.confirmed_at = None
        registration.reminder_sent_at = None  # reminded before, or not: reminded for coming
        registration.ticket_secret = new_secret()  # the cancelled ticket stays void
    if has_seat:
        registration.confirm()
        return registration, None
    registration.status = RegistrationStatus.WAITLISTED
    return registration, standing.waiting + 1


def _save_new(registration: Registration) -> None:
    """Write a new registration with one INSERT and add it to its person's registrations."""
    save_new(registration)
    held = registration.registrant.registrations
    if registration not in held:
        attach(registration.registrant, "registrations", [*held, registration])


def _announce(
    registration: Registration,
    position: int | None,
    actor: User | None,
    action: str,
    **details: Any,
) -> None:
    """Record what happened and queue the e-mail telling the person where they stand.

    ``position`` is a waiting registration's place in the queue when the caller knows it.
    """
    if registration.is_confirmed:  # taken before a new registration is written: one INSERT
        kind, params = MessageKind.CONFIRMATION, {"sequence": registration.next_calendar_sequence()}
    else:
        position = waitlist_position(registration) if position is None else position
        kind, params = MessageKind.WAITLISTED, {"position": position}
    if registration.id is None:  # a new registration: written in full, in one statement
        _save_new(registration)
    audit.record(
        action, registration=registration, actor=actor, status=registration.status.value, **details
    )
    enqueue(kind, registration, **params)


def _leave(
    registration: Registration,
    event: Event,
    actor: User | None,
    reason: CancelReason,
    notify: bool = True,
    **details: Any,
) -> list[Registration]:
    """Cancel under the caller's lock, tell the person, and give a freed seat to the queue."""
    freed_seat = cancel_and_tell(
        registration, actor, MessageKind.CANCELLED if notify else None, reason, **details
    )
    db.session.flush()
    return _promote(event, actor) if freed_seat else []


def cancel_and_tell(
    registration: Registration,
    actor: User | None,
    kind: MessageKind | None,
    reason: CancelReason,
    **details: Any,
) -> bool:
    """Cancel one registration for ``reason`` inside the caller's transaction, record it, queue
    the e-mail ``kind`` (none when None); returns whether it held a seat."""
    had_seat = registration.is_confirmed
    registration.cancel(reason)
    audit.record("cancelled", registration=registration, actor=actor, **details)
    if kind is not None:
        # A seat had a calendar entry: a CANCEL with the same UID removes it.
        calendar = {"sequence": registration.next_calendar_sequence()} if had_seat else {}
        enqueue(kind, registration, **calendar)
    return had_seat


def _promote(event: Event, actor: User | None = None) -> list[Registration]:
    """Seats left go to the queue in order; an ended event's queue stays as it was."""
    promoted = []
    if event.has_ended(utcnow()):
        return promoted
    while _has_free_seat(event):
        first_waiting = db.session.scalar(
            select(Registration)
            .where(Registration.event_id == event.id)
            .where(Registration.status == RegistrationStatus.WAITLISTED)
            .order_by(Registration.created_at, Registration.id)
            .limit(1)
        )
        if first_waiting is None:
            break
        first_waiting.confirm()
        _announce(first_waiting, None, actor, "promoted")
        db.session.flush()
        promoted.append(first_waiting)
    return promoted


def _drop_needs_without_in_person_event(registrant: Registrant) -> None:
    """Needs are asked for in-person events only; we keep no health data we have no use for."""
    if not any(not r.event.is_online for r in registrant.active_registrations):
        registrant.needs = None
