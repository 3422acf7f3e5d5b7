"""Check-in at the door: scanned tickets and people found by hand, each admitted once a day.

A one-day event admits a ticket once (``Registration.checked_in_at``). An event with an agenda
of several days admits it once on each day (a ``DayCheckIn`` per day, models/registration.py).
"""

import enum
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from ..database import for_share, locking, write_transaction
from ..extensions import db
from ..folding import fold
from ..models import (
    DayCheckIn,
    Event,
    EventDay,
    Registrant,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from . import audit, feedback

# Ticket secrets are URL-safe base64 (models.registration.new_secret); anything else is no ticket.
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")
# A scan queued offline keeps the device's time if it falls between the evening before the
# event's first day and now; a device clock outside that range is wrong, so arrival time counts.
SCAN_TIME_MARGIN = timedelta(hours=12)
# A device clock this close to the server's is taken as right: a correction would only add the
# request's time on the network (a scan at 23:59:58 arriving at 00:00:01 is the first day's).
CLOCK_TOLERANCE = timedelta(minutes=2)
SEARCH_LIMIT = 20
# Without a day named, an undo takes back the latest check-in if it is today's or this recent.
UNDO_GRACE = timedelta(hours=1)


class CheckinResult(enum.StrEnum):
    OK = "ok"
    ALREADY_CHECKED_IN = "already_checked_in"
    CANCELLED = "cancelled"
    WAITLISTED = "waitlisted"
    WRONG_EVENT = "wrong_event"
    NOT_TODAY = "not_today"  # the event does not run on this day; staff may confirm
    INVALID = "invalid"


@dataclass(frozen=True)
class Holder:
    """A registration as the door sees it: what the rules decide on and what staff are shown."""

    id: int
    reference: str
    event_id: int
    status: RegistrationStatus
    checked_in_at: datetime | None  # at a multi-day event: on the day of the scan
    checked_in_by: str | None  # the e-mail address of the staff member who checked them in
    full_name: str
    organisation: str
    needs: str | None
    day: date | None = None  # at a multi-day event: the day of the scan, when checked in


@dataclass(frozen=True)
class CheckIn:
    """What the door learns from one scan; ``holder`` is None for an invalid code.

    ``ticket_event`` is the event a ticket is for, when that is not the event at this door.
    """

    result: CheckinResult
    holder: Holder | None = None
    ticket_event: Event | None = None


@dataclass(frozen=True)
class DayOfCheckIn:
    """A check-in as an undo names it: when it was made and the (local) date it counts for,
    as stored at a multi-day event (a later change of the event's zone does not move it)."""

    checked_in_at: datetime
    day: date


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
    sent_at: datetime | None = None,
    any_day: bool = False,
) -> CheckIn:
    """Admit the holder of a scanned ticket, or say why not; once only (once a day, see above).

    On a day the event does not run the answer is NOT_TODAY, unless staff confirm (``any_day``).
    ``scanned_at`` and ``sent_at``: the device's clock when it scanned and when it sent the
    scan (``DeviceTime``).
    """
    secret = secret.strip()
    if not _SECRET_SHAPE.fullmatch(secret):
        return CheckIn(CheckinResult.INVALID)
    device = DeviceTime(scanned_at, sent_at)
    return _admit(event, _BY_SECRET, secret, staff, device, how="scan", any_day=any_day)


def check_in(
    registration: Registration,
    *,
    staff: User,
    scanned_at: datetime | None = None,
    sent_at: datetime | None = None,
    any_day: bool = False,
) -> CheckIn:
    """Admit a person found by hand, by the same rules as a scan."""
    return _admit(
        registration.event,
        _BY_ID,
        registration.id,
        staff,
        DeviceTime(scanned_at, sent_at),
        how="manual",
        any_day=any_day,
    )


def undo_check_in(
    registration: Registration,
    *,
    staff: User,
    day: date | None = None,
    now: datetime | None = None,
) -> DayOfCheckIn | None:
    """Take back a check-in made by mistake; the one taken back, or None when there is none.

    At a multi-day event, the check-in of ``day``; without a day, the one the door shows
    (``undoable_check_in``). A named day at a one-day event must be the day of its check-in.
    """
    if registration.event.is_multi_day:
        return _undo_day_check_in(registration, day, staff, now or utcnow())
    with write_transaction():
        locked = _locked_at_event(registration)
        undone = locked.checked_in_at
        if undone is None or (day is not None and door_day(locked.event, undone) != day):
            return None
        audit.record(
            "check_in_undone",
            registration=locked,
            actor=staff,
            checked_in_at=undone.isoformat(),
        )
        locked.checked_in_at = None
        locked.checked_in_by_id = None
        feedback.withdraw_request(locked)
    return DayOfCheckIn(undone, door_day(registration.event, undone))


def undoable_check_in(
    registration: Registration, now: datetime | None = None
) -> DayOfCheckIn | None:
    """The check-in an undo without a day takes back, as the door shows it: at a multi-day
    event the person's latest, if it is today's or was made within UNDO_GRACE (a mistake at
    23:50 can be undone after midnight; yesterday's real attendance cannot, by accident)."""
    event = registration.event
    if not event.is_multi_day:
        moment = registration.checked_in_at
        return DayOfCheckIn(moment, door_day(event, moment)) if moment else None
    latest = max(registration.day_check_ins, key=_moment, default=None)
    if not _is_undoable(latest, event, now):
        return None
    return DayOfCheckIn(latest.checked_in_at, latest.day)


def _moment(check_in: DayCheckIn) -> datetime:
    return check_in.checked_in_at


def _is_undoable(check_in: DayCheckIn | None, event: Event, now: datetime | None) -> bool:
    now = now or utcnow()
    if check_in is None:
        return False
    return check_in.day == door_day(event, now) or check_in.checked_in_at >= now - UNDO_GRACE


def _undo_day_check_in(
    registration: Registration, day: date | None, staff: User, now: datetime
) -> DayOfCheckIn | None:
    """Take back one day's check-in; the first check-in becomes the earliest day left."""
    with write_transaction():
        locked = _locked_at_event(registration)
        query = select(DayCheckIn).where(DayCheckIn.registration_id == locked.id)
        if day is not None:
            undone = db.session.scalar(query.where(DayCheckIn.day == day))
        else:
            undone = db.session.scalar(query.order_by(DayCheckIn.checked_in_at.desc()).limit(1))
            if not _is_undoable(undone, locked.event, now):
                undone = None
        if undone is None:
            return None
        audit.record(
            "check_in_undone",
            registration=locked,
            actor=staff,
            checked_in_at=undone.checked_in_at.isoformat(),
        )
        taken_back = DayOfCheckIn(undone.checked_in_at, undone.day)
        db.session.delete(undone)
        db.session.flush()
        first = db.session.scalar(
            select(DayCheckIn)
            .where(DayCheckIn.registration_id == locked.id)
            .order_by(DayCheckIn.checked_in_at)
            .limit(1)
        )
        locked.checked_in_at = first.checked_in_at if first else None
        locked.checked_in_by_id = first.checked_in_by_id if first else None
        feedback.withdraw_request(locked)
    db.session.expire(registration, ["day_check_ins"])
    return taken_back


def door_day(event: Event, now: datetime | None = None) -> date:
    """The day whose check-ins the door shows: today, in the event's zone."""
    return (now or utcnow()).astimezone(event.zone).date()


def checked_in_at_door(registration: Registration, now: datetime | None = None) -> datetime | None:
    """When the person was checked in, as the door counts it: today, at a multi-day event."""
    event = registration.event
    if not event.is_multi_day:
        return registration.checked_in_at
    today = registration.check_in_on(door_day(event, now))
    return today.checked_in_at if today else None


@dataclass(frozen=True)
class DeviceTime:
    """When a door device says it scanned (``scanned_at``, for a scan it kept while offline)
    and, by the same clock, when it sent the scan (``sent_at``): by how much its clock is off."""

    scanned_at: datetime | None = None
    sent_at: datetime | None = None

    def on_server_clock(self, now: datetime) -> datetime | None:
        """The scan's moment on the server's clock: a phone set an hour or a day wrong still
        puts a scan it kept offline on the day it happened. Without ``sent_at`` (a scanner
        app that does not send it), or off by less than CLOCK_TOLERANCE, the device's time."""
        if self.scanned_at is None or self.sent_at is None:
            return self.scanned_at
        off_by = now - self.sent_at
        return self.scanned_at + off_by if abs(off_by) > CLOCK_TOLERANCE else self.scanned_at


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


def door_count(event: Event, now: datetime | None = None) -> DoorCount:
    """Confirmed registrations and how many of them are checked in, as every device shows it.

    At a multi-day event, how many are checked in today.
    """
    if event.is_multi_day:
        return _day_count(event, door_day(event, now))
    confirmed, checked_in = db.session.execute(
        select(func.count(), func.count(Registration.checked_in_at))
        .where(Registration.event_id == event.id)
        .where(Registration.status == RegistrationStatus.CONFIRMED)
    ).one()
    return DoorCount(checked_in=checked_in, confirmed=confirmed)


def _day_count(event: Event, day: date) -> DoorCount:
    today = and_(DayCheckIn.registration_id == Registration.id, DayCheckIn.day == day)
    confirmed, checked_in = db.session.execute(
        select(func.count(), func.count(DayCheckIn.id))
        .select_from(Registration)
        .outerjoin(DayCheckIn, today)
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
    if event.is_multi_day:
        query = query.options(selectinload(Registration.day_check_ins))
    for word in words:
        query = query.where(
            or_(
                Registrant.search_name.contains(fold(word), autoescape=True),
                Registrant.email == word.lower(),
                Registration.reference.icontains(word, autoescape=True),
            )
        )
    order = (Registrant.last_name, Registrant.first_name, Registration.id)
    return list(db.session.scalars(query.order_by(*order).limit(SEARCH_LIMIT)))


def ticket_at(event: Event, secret: str) -> Registration | None:
    """The event's registration holding this ticket (a scanner app's undo names the ticket)."""
    secret = secret.strip()
    if not _SECRET_SHAPE.fullmatch(secret):
        return None
    return db.session.scalar(
        select(Registration)
        .where(Registration.event_id == event.id)
        .where(Registration.ticket_secret == secret)
    )


def registration_at(event: Event, reference: str) -> Registration | None:
    """The event's registration with this reference."""
    return db.session.scalar(
        select(Registration)
        .where(Registration.event_id == event.id)
        .where(Registration.reference == reference)
    )


def _locked_at_event(registration: Registration) -> Registration:
    """The registration locked for an undo, its event's row shared first: every use case that
    changes registrations takes the event before them (a cancellation holds the event, then
    waits for the registration; the undo's history entry names the event)."""
    db.session.connection().execute(_EVENT_SHARED, {"event_id": registration.event_id})
    return _locked(Registration.id == registration.id)


def _locked(condition: ColumnElement[bool]) -> Registration | None:
    """Load a registration with its row locked, freshly read, so concurrent scans queue here.

    The person and whoever checked them in come in the same statement: the undo's answer shows
    them. Only the registration row is locked.
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


# Built once: composing a statement and its cache key cost more than running it (findings.md).
# What the door reads of a registration, by ticket secret or by id (``key``), with its person.
_checker = aliased(User)
_HOLDER = (
    select(
        Registration.id,
        Registration.reference,
        Registration.event_id,
        Registration.status,
        Registration.checked_in_at,
        _checker.email.label("checked_in_by"),
        Registrant.full_name,
        Registrant.organisation,
        Registrant.needs,
    )
    .join(Registration.registrant)
    .outerjoin(_checker, _checker.id == Registration.checked_in_by_id)
)
_BY_SECRET = _HOLDER.where(Registration.ticket_secret == bindparam("key"))
_BY_ID = _HOLDER.where(Registration.id == bindparam("key"))
# The same at a multi-day event, with the check-in of one day (``day``) instead of the first.
_day_checker = aliased(User)
_DAY_HOLDER = (
    select(
        Registration.id,
        Registration.reference,
        Registration.event_id,
        Registration.status,
        DayCheckIn.checked_in_at,
        _day_checker.email.label("checked_in_by"),
        Registrant.full_name,
        Registrant.organisation,
        Registrant.needs,
        DayCheckIn.day,
    )
    .join(Registration.registrant)
    .outerjoin(
        DayCheckIn,
        and_(DayCheckIn.registration_id == Registration.id, DayCheckIn.day == bindparam("day")),
    )
    .outerjoin(_day_checker, _day_checker.id == DayCheckIn.checked_in_by_id)
)
_DAY_BY_SECRET = _DAY_HOLDER.where(Registration.ticket_secret == bindparam("key"))
_DAY_BY_ID = _DAY_HOLDER.where(Registration.id == bindparam("key"))
# Each lookup's statement for a multi-day event (by identity: statements compare as SQL).
_ON_THE_DAY = {id(_BY_SECRET): _DAY_BY_SECRET, id(_BY_ID): _DAY_BY_ID}
# An admission reads the event's schedule again with its row shared: an organiser's change of
# the days (which locks the row) waits for the admission, or the admission for the change. Only
# what decides the day, through Core: the event itself is read again only when it changed.
_EVENT_SHARED = for_share(
    select(Event.timezone, Event.starts_at, Event.ends_at).where(Event.id == bindparam("event_id"))
)
_DAYS_OF_EVENT = select(EventDay.starts_at, EventDay.ends_at).where(
    EventDay.event_id == bindparam("event_id")
)
_EVENT_AGAIN = (
    select(Event)
    .where(Event.id == bindparam("event_id"))
    .options(joinedload(Event.days))
    .execution_options(populate_existing=True)
)
# Admits only while every rule that depends on the row still holds: of concurrent scans of one
# ticket, one updates the row and the others find it checked in.
_MARK_CHECKED_IN = (
    update(Registration)
    .where(Registration.id == bindparam("registration_id"))
    .where(Registration.status == RegistrationStatus.CONFIRMED)
    .where(Registration.checked_in_at.is_(None))
    .values(checked_in_at=bindparam("when"), checked_in_by_id=bindparam("staff_id"))
)


# A multi-day admission first takes the registration's row, if still confirmed: concurrent scans
# of one ticket queue here, whatever the day. The day's check-in is then added unless one
# exists, read after the row was taken, so never missed; and the first check-in is set if this
# one is earlier (a scan queued offline the day before may arrive after today's).
_TAKE_FOR_THE_DAY = (
    update(Registration)
    .where(Registration.id == bindparam("registration_id"))
    .where(Registration.status == RegistrationStatus.CONFIRMED)
    .values(checked_in_at=Registration.checked_in_at)
)
_ADD_DAY_CHECK_IN = (
    insert(DayCheckIn)
    .from_select(
        ["registration_id", "day", "checked_in_at", "checked_in_by_id", "how"],
        select(
            bindparam("registration_id"),
            bindparam("day", type_=DayCheckIn.day.type),
            bindparam("when", type_=DayCheckIn.checked_in_at.type),
            bindparam("staff_id"),
            bindparam("how", type_=DayCheckIn.how.type),
        ).where(
            ~exists().where(
                DayCheckIn.registration_id == bindparam("registration_id"),
                DayCheckIn.day == bindparam("day", type_=DayCheckIn.day.type),
            )
        ),
    )
    .returning(DayCheckIn.id)  # whether it was added: PostgreSQL's driver gives no row count
)
_SET_FIRST_CHECK_IN = (
    update(Registration)
    .where(Registration.id == bindparam("registration_id"))
    .where(
        or_(
            Registration.checked_in_at.is_(None),
            Registration.checked_in_at > bindparam("when", type_=Registration.checked_in_at.type),
        )
    )
    .values(checked_in_at=bindparam("when"), checked_in_by_id=bindparam("staff_id"))
)


def _holder(
    statement: Select, key: str | int, *, day: date | None = None, lock: bool = False
) -> Holder | None:
    if day is not None:
        statement = _ON_THE_DAY[id(statement)]
    if lock:
        statement = locking(statement, of=Registration)
    params = {"key": key} if day is None else {"key": key, "day": day}
    # On the session's connection: no objects are loaded, so the ORM's layer would be pure cost.
    row = db.session.connection().execute(statement, params).first()
    return Holder(**row._mapping) if row is not None else None


def _admit(
    event: Event,
    statement: Select,
    key: str | int,
    staff: User,
    device: DeviceTime,
    *,
    how: str,
    any_day: bool = False,
) -> CheckIn:
    """Check the person in when every rule allows, else say why not; a scan admits once only
    (once on each day of a multi-day event: the day the scan happened, in the event's zone).

    A refusal is decided on the registration as read, without a lock: it was true when read,
    so the scan simply comes before any change made since. An admission writes with a
    condition that only a row still waiting to be checked in meets.
    """
    now = utcnow()
    scanned_at = device.on_server_clock(now)
    when, day = _moment_of_scan(event, scanned_at, now)
    holder = _holder(statement, key, day=day)
    refusal = _refusal(event, holder, when, any_day)
    if refusal is not None:
        return refusal
    with write_transaction():
        # The event's days as they are now, kept so until the commit: a change saved since the
        # read may have taken this day away (and one saved now waits for the check-in).
        if _schedule_now(event.id) != _schedule(event):
            event = db.session.execute(_EVENT_AGAIN, {"event_id": event.id}).unique().scalar_one()
            moment = _moment_of_scan(event, scanned_at, now)
            if moment != (when, day):  # another day now, or days instead of one (or back)
                when, day = moment
                holder = _holder(statement, key, day=day, lock=True)
            refusal = _refusal(event, holder, when, any_day)
            if refusal is not None:
                return refusal
        if not _mark_checked_in(holder, when, staff, day, how):
            # Another device was first, or the registration changed since it was read.
            holder = _holder(statement, key, day=day, lock=True)
            refusal = _refusal(event, holder, when, any_day)
            if refusal is not None:
                return refusal
            # The row is locked: nothing can come between.
            _mark_checked_in(holder, when, staff, day, how)
        audit.insert_entry(
            "checked_in",
            registration_id=holder.id,
            event_id=event.id,
            actor_id=staff.id,
            how=how,
            checked_in_at=when.isoformat(),
            device_time=device.scanned_at.isoformat() if device.scanned_at else None,
            **({"device_sent_at": device.sent_at.isoformat()} if device.sent_at else {}),
            **({"confirmed_off_day": True} if not event.runs_on(when) else {}),
        )
    return CheckIn(CheckinResult.OK, replace(holder, checked_in_at=when, day=day))


def _schedule(event: Event) -> tuple:
    """What decides a scan's day and whether the event runs on it: its zone, times and days."""
    days = sorted((day.starts_at, day.ends_at) for day in event.days)
    return event.timezone, event.starts_at, event.ends_at, days


def _schedule_now(event_id: int) -> tuple:
    """The event's schedule as stored, its row shared until the commit (``_EVENT_SHARED``).

    The days are read by a statement of their own, after the lock: on PostgreSQL a statement
    that waited for a lock reads every other row as it was when the statement began, so days
    changed by the organiser it waited for would come back as they were."""
    connection = db.session.connection()
    params = {"event_id": event_id}
    zone, starts_at, ends_at = connection.execute(_EVENT_SHARED, params).one()
    days = sorted(tuple(day) for day in connection.execute(_DAYS_OF_EVENT, params))
    return zone, starts_at, ends_at, days


def _moment_of_scan(
    event: Event, scanned_at: datetime | None, now: datetime
) -> tuple[datetime, date | None]:
    """When the scan happened, and at a multi-day event the day it counts for."""
    when = scan_time(event, scanned_at, now)
    return when, door_day(event, when) if event.is_multi_day else None


def _refusal(event: Event, holder: Holder | None, when: datetime, any_day: bool) -> CheckIn | None:
    """Why the holder may not be checked in now, or None when every rule allows it."""
    if holder is None:
        return CheckIn(CheckinResult.INVALID)
    if holder.event_id != event.id:
        return CheckIn(CheckinResult.WRONG_EVENT, holder, db.session.get(Event, holder.event_id))
    if holder.status is RegistrationStatus.CANCELLED:
        return CheckIn(CheckinResult.CANCELLED, holder)
    if holder.status is RegistrationStatus.WAITLISTED:
        return CheckIn(CheckinResult.WAITLISTED, holder)
    if holder.checked_in_at is not None:
        return CheckIn(CheckinResult.ALREADY_CHECKED_IN, holder)
    if not any_day and not event.runs_on(when):
        return CheckIn(CheckinResult.NOT_TODAY, holder)
    return None


def _mark_checked_in(
    holder: Holder, when: datetime, staff: User, day: date | None, how: str
) -> bool:
    """Record the check-in (of ``day``, when given) if it is still missing; whether it did."""
    params = {"registration_id": holder.id, "when": when, "staff_id": staff.id}
    connection = db.session.connection()
    if day is None:
        return connection.execute(_MARK_CHECKED_IN, params).rowcount == 1
    if connection.execute(_TAKE_FOR_THE_DAY, params).rowcount != 1:
        return False
    if connection.execute(_ADD_DAY_CHECK_IN, params | {"day": day, "how": how}).first() is None:
        return False
    connection.execute(_SET_FIRST_CHECK_IN, params)
    return True
