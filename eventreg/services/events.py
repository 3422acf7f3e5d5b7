"""The programme's events: finding them; organisers creating, changing, calling them off."""

import copy
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from ..config import LANGUAGES
from ..database import lock, write_transaction
from ..extensions import db
from ..models import (
    CancelReason,
    DayCheckIn,
    Event,
    EventKind,
    EventStatus,
    MessageKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    SkipReason,
    User,
    utcnow,
)
from . import audit, edits, outbox
from .outbox import enqueue
from .registrations import EventHasEnded, cancel_and_tell, fill_from_waitlist
from .schedules import differs, reads_the_same, schedule_of

# What a calendar entry shows: a change to any of these sends everyone an updated invitation.
SCHEDULE_FIELDS = frozenset(
    ("starts_at", "ends_at", "agenda", "timezone", "mode", "city", "venue", "online_url")
)


# What decides the days an event runs on (``Event.local_dates``).
DATE_FIELDS = frozenset(("starts_at", "ends_at", "timezone", "agenda"))


class CheckInsOutsideDays(ValueError):
    """A change would leave recorded check-ins on days that are no longer days of the event;
    ``left_out`` counts them by day (local date)."""

    def __init__(self, left_out: dict[date, int]):
        super().__init__(left_out)
        self.left_out = left_out


class CheckInsChangeDay(ValueError):
    """A new time zone would put recorded check-ins on another local date than the day they
    count for; ``shifted`` counts them by that day."""

    def __init__(self, shifted: dict[date, int]):
        super().__init__(shifted)
        self.shifted = shifted


# What the organisers' edit form changes, and which of its fields are decided together when two
# organisers save at once (services/edits.py): the times with the days and the days' titles, the
# registration window's two ends, the format with the place. Each translated text is a field of
# its own (``translations.it.title``), so two languages translated at once never meet.
EDITABLE_FIELDS = (
    "slug",
    "title",
    "description",
    "kind",
    "mode",
    "timezone",
    "city",
    "venue",
    "online_url",
    "host_partner",
    "contact_email",
    "capacity",
    "translations",
    "agenda",
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
)
TRANSLATED_TEXTS = ("title", "description", "days")
_TRANSLATIONS = [code for code in LANGUAGES if code != "en"]
EDITED_TOGETHER = (
    (
        "starts_at",
        "ends_at",
        "timezone",
        "agenda",
        *(f"translations.{code}.days" for code in _TRANSLATIONS),
    ),
    ("registration_opens_at", "registration_closes_at"),
    ("mode", "city", "venue"),
)
ShownValues = Callable[[Event], dict[str, Any]]


class EventNotEnded(Exception):
    """What comes after an event (certificates, the feedback questionnaire) waits for its end."""


class SlugTaken(ValueError):
    """Another event already has this slug."""


class SlugFixed(ValueError):
    """A published event keeps its slug (``Event.slug_is_fixed``)."""


def programme(*, include_drafts: bool = False) -> list[Event]:
    """The events in date order; drafts only for organisers."""
    query = select(Event).order_by(Event.starts_at, Event.id)
    if not include_drafts:
        query = query.where(Event.status != EventStatus.DRAFT)
    return list(db.session.scalars(query))


def by_kind(events: Iterable[Event]) -> dict[EventKind, list[Event]]:
    """Events grouped by kind, missions first, keeping their order."""
    groups: dict[EventKind, list[Event]] = {kind: [] for kind in EventKind}
    for event in events:
        groups[event.kind].append(event)
    return groups


def open_for_registration() -> list[Event]:
    """Published events whose registration window is open now, in date order (as
    ``Event.registration_window``: an event over is closed, whatever its window says)."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.status == EventStatus.PUBLISHED)
            .where(Event.registration_opens_at <= now, Event.registration_closes_at > now)
            .where(Event.ends_at > now)
            .order_by(Event.starts_at, Event.id)
        )
    )


# Built once, as every page that names an event runs it; the days come in the same statement
# (a second, ``selectin`` one cost more than the event's own read: bench/findings.md).
_BY_SLUG = select(Event).where(Event.slug == bindparam("slug")).options(joinedload(Event.days))


def find(slug: str, *, include_drafts: bool = False) -> Event | None:
    """The event with this slug; a draft only when asked for."""
    if "\x00" in slug:  # no slug has one, and PostgreSQL refuses NUL even in a query
        return None
    event = db.session.execute(_BY_SLUG, {"slug": slug}).unique().scalar_one_or_none()
    if event is not None and event.status is EventStatus.DRAFT and not include_drafts:
        return None
    return event


def create_event(values: dict[str, Any], *, actor: User) -> Event:
    """Add an event (a draft unless ``values`` say otherwise)."""
    with write_transaction():
        if db.session.scalar(select(Event.id).where(Event.slug == values["slug"])):
            raise SlugTaken(values["slug"])
        event = Event(**values)
        db.session.add(event)
        db.session.flush()
        audit.record("event_created", event=event, actor=actor)
    return event


def edit_fingerprint(event: Event, shown: ShownValues) -> dict[str, str]:
    """What the edit page shows of the event (``shown``: its values through the form), as
    ``edits.merge`` compares it on saving."""
    return edits.fingerprint(_per_text(shown(event)))


def _editable_values(event: Event) -> dict[str, Any]:
    return {name: getattr(event, name) for name in EDITABLE_FIELDS}


def _per_text(values: dict[str, Any]) -> dict[str, Any]:
    """The form's values with each translated text as a field of its own."""
    flat = {name: value for name, value in values.items() if name != "translations"}
    translations = values.get("translations") or {}
    for code in _TRANSLATIONS:
        for part in TRANSLATED_TEXTS:
            flat[f"translations.{code}.{part}"] = (translations.get(code) or {}).get(part) or None
    return flat


def _edited(
    event: Event, values: dict[str, Any], seen: dict[str, str] | None, shown: ShownValues | None
) -> dict[str, Any]:
    """The event's values after the edit: what the organiser changed, what is stored elsewhere
    (as stored: a text the form would tidy stays as it is unless the organiser edited it)."""
    if seen is None or shown is None:
        return values
    taken = edits.merge(seen, _per_text(shown(event)), _per_text(values), EDITED_TOGETHER)
    result = _editable_values(event)
    translations = copy.deepcopy(result["translations"] or {})
    for name, value in taken.items():
        if not name.startswith("translations."):
            result[name] = value
            continue
        _prefix, code, part = name.split(".")
        texts = translations.setdefault(code, {})
        if value:
            texts[part] = value
        else:
            texts.pop(part, None)
        if not texts:
            del translations[code]
    result["translations"] = translations
    return result


def update_event(
    event: Event,
    values: dict[str, Any],
    *,
    actor: User,
    publish: bool = False,
    seen: dict[str, str] | None = None,
    shown: ShownValues | None = None,
) -> set[str]:
    """Change an event, and publish it if asked, as one use case.

    ``seen``: the fingerprint of the event as the edit form showed it (``shown``: an event's
    values through that form); then only the fields the organiser changed are saved, and
    edits.EditConflict refuses a change that meets one someone else saved meanwhile. A moved
    time or place sends new invitations; more seats let the waiting list in.
    """
    with write_transaction():
        locked = lock(event)
        values = _edited(locked, values, seen, shown)
        if values.get("slug", locked.slug) != locked.slug:
            if locked.slug_is_fixed:
                raise SlugFixed(locked.slug)
            if db.session.scalar(select(Event.id).where(Event.slug == values["slug"])):
                raise SlugTaken(values["slug"])
        changed = apply_changes(locked, values)
        if changed:
            audit.record("event_updated", event=locked, actor=actor, fields=sorted(changed))
        if "capacity" in changed:
            fill_from_waitlist(locked, actor=actor)
        if publish:
            publish_event(locked, actor=actor)
    return changed


def publish_event(event: Event, *, actor: User) -> None:
    """Make a draft visible and open for registration in its window."""
    with write_transaction():
        locked = lock(event)
        if locked.status is EventStatus.DRAFT:
            locked.status = EventStatus.PUBLISHED
            audit.record("event_published", event=locked, actor=actor)


def cancel_event(event: Event, *, actor: User) -> int:
    """Call an event off: every active registration is cancelled and told; returns how many.

    EventHasEnded once it is over: its attendees would be told it was cancelled."""
    with write_transaction():
        locked = lock(event)
        if locked.is_cancelled:
            return 0
        if locked.has_ended(utcnow()):
            raise EventHasEnded(locked.slug)
        locked.status = EventStatus.CANCELLED
        audit.record("event_cancelled", event=locked, actor=actor)
        active = _registrations(locked, RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)
        for registration in active:
            cancel_and_tell(
                registration,
                actor,
                MessageKind.EVENT_CANCELLED,
                CancelReason.EVENT_CANCELLED,
                event_cancelled=True,
            )
    return len(active)


def apply_changes(event: Event, values: dict[str, Any]) -> set[str]:
    """Set the event's fields; if its time or place moved, queue updated invitations, and tell
    the waiting list too (without one: they hold no seat, so no calendar entry).

    Runs inside the caller's transaction. Returns the names of the fields that changed.
    """
    changed = {name for name, value in values.items() if getattr(event, name) != value}
    left_out = check_ins_left_out(event, {name: values[name] for name in changed})
    if left_out:
        raise CheckInsOutsideDays(left_out)
    shifted = check_ins_shifted(event, {name: values[name] for name in changed})
    if shifted:
        raise CheckInsChangeDay(shifted)
    previous = schedule_of(event)
    was_multi_day, zone = event.is_multi_day, event.zone
    for name in changed:
        setattr(event, name, values[name])
    if event.is_multi_day and not was_multi_day:
        _check_ins_by_day(event, zone)
    if changed & SCHEDULE_FIELDS <= {"agenda", "timezone"} and reads_the_same(
        previous, schedule_of(event)
    ):
        return changed  # a day's title, a zone with the same hours: nobody's plans change
    if event.local_starts_at.date() != _local_date(previous["starts_at"], previous["timezone"]):
        _remind_again(event)
    if changed & SCHEDULE_FIELDS:
        what = {aspect for name in changed for aspect in _ASPECTS.get(name, ())}
        _tell_change(event, what, previous)
    return changed


def _tell_change(event: Event, what: set[str], previous: dict[str, Any]) -> None:
    """Queue an "event changed" e-mail to each confirmed (with the updated invitation) and
    waitlisted registration. One that has not left yet, from an earlier change, is replaced,
    so that each person gets one e-mail, old → new from what they were last told; none when
    the event is back as it was then."""
    confirmed = _registrations(event, RegistrationStatus.CONFIRMED)
    told_to = confirmed + _registrations(event, RegistrationStatus.WAITLISTED)
    held = select(Registration.id).where(
        Registration.event_id == event.id,
        Registration.status.in_([RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED]),
    )
    replaced: dict[int, list[OutboxMessage]] = {}
    for message in outbox.replace_queued(
        MessageKind.EVENT_CHANGED, OutboxMessage.registration_id.in_(held)
    ):
        replaced.setdefault(message.registration_id, []).append(message)
    now = schedule_of(event)
    for registration in told_to:
        told: dict[str, Any] | None = previous
        aspects = set(what)
        if earlier := replaced.get(registration.id):
            told = earlier[0].params.get("previous")  # None: queued before e-mails said old → new
            aspects.update(*(message.params.get("changed", ()) for message in earlier))
        if told is not None:
            aspects = {aspect for aspect in aspects if differs(aspect, told, now)}
        if not aspects:
            for message in earlier or ():
                message.skip_reason = SkipReason.CHANGE_UNDONE
            continue
        params: dict[str, Any] = {"changed": sorted(aspects)}
        if told is not None:
            params["previous"] = told
        if registration.is_confirmed:  # the waiting list holds no seat, so no calendar entry
            params["sequence"] = registration.next_calendar_sequence()
        enqueue(MessageKind.EVENT_CHANGED, registration, **params)


def check_ins_left_out(event: Event, values: dict[str, Any]) -> dict[date, int]:
    """Check-ins by day on the event's days that, changed by ``values``, it would no longer run
    on; a check-in already on another day (checked in anyway) leaves nothing new out.

    A one-day event records its check-ins only as the registration's first check-in: each
    counts for its local date in the event's zone.
    """
    if not values.keys() & DATE_FIELDS:
        return {}
    moved = Event(**{name: values.get(name, getattr(event, name)) for name in DATE_FIELDS})
    dropped = set(event.local_dates) - set(moved.local_dates)  # a stand-in, never added
    if not dropped:
        return {}
    came = set(
        db.session.execute(
            select(DayCheckIn.registration_id, DayCheckIn.day)
            .join(DayCheckIn.registration)
            .where(Registration.event_id == event.id, DayCheckIn.day.in_(dropped))
        )
    )
    if not event.is_multi_day:
        first, last = min(dropped), max(dropped) + timedelta(days=1)
        moments = db.session.execute(
            select(Registration.id, Registration.checked_in_at).where(
                Registration.event_id == event.id,
                Registration.checked_in_at >= datetime.combine(first, time(), event.zone),
                Registration.checked_in_at < datetime.combine(last, time(), event.zone),
            )
        )
        came |= {(id_, moment.astimezone(event.zone).date()) for id_, moment in moments}
    counts = Counter(day for _, day in came if day in dropped)
    return dict(sorted(counts.items()))


def check_ins_shifted(event: Event, values: dict[str, Any]) -> dict[date, int]:
    """Check-ins by the day they count for that the new time zone in ``values`` would put on
    another local date: the door, the lists and the undo would no longer agree on their day."""
    if values.get("timezone", event.timezone) == event.timezone:
        return {}
    zone = ZoneInfo(values["timezone"])
    recorded = db.session.execute(
        select(DayCheckIn.day, DayCheckIn.checked_in_at)
        .join(DayCheckIn.registration)
        .where(Registration.event_id == event.id)
    )
    shifted = Counter(day for day, moment in recorded if moment.astimezone(zone).date() != day)
    if not event.is_multi_day:
        moments = db.session.scalars(
            select(Registration.checked_in_at).where(
                Registration.event_id == event.id, Registration.checked_in_at.is_not(None)
            )
        )
        shifted.update(
            moment.astimezone(event.zone).date()
            for moment in moments
            if moment.astimezone(zone).date() != moment.astimezone(event.zone).date()
        )
    return dict(sorted(shifted.items()))


def _check_ins_by_day(event: Event, zone: ZoneInfo) -> None:
    """A one-day event given more days: each check-in so far becomes that day's check-in (its
    local date in ``zone``, the event's when it was made), as migration 0017 did."""
    of_the_event = Registration.event_id == event.id
    checked_in = db.session.execute(
        select(Registration.id, Registration.checked_in_at, Registration.checked_in_by_id).where(
            of_the_event, Registration.checked_in_at.is_not(None)
        )
    )
    recorded = set(
        db.session.execute(
            select(DayCheckIn.registration_id, DayCheckIn.day)
            .join(DayCheckIn.registration)
            .where(of_the_event)
        )
    )
    for id_, moment, by in checked_in:
        day = moment.astimezone(zone).date()
        if (id_, day) not in recorded:
            db.session.add(
                DayCheckIn(registration_id=id_, day=day, checked_in_at=moment, checked_in_by_id=by)
            )


# What a registrant is told changed, by field: the time, the place, the meeting link.
_ASPECTS = {
    "starts_at": ("time",),
    "ends_at": ("time",),
    "timezone": ("time",),
    "agenda": ("time",),
    "mode": ("place",),
    "city": ("place",),
    "venue": ("place",),
    "online_url": ("link",),
}


def _local_date(moment: str, zone: str) -> date:
    return datetime.fromisoformat(moment).astimezone(ZoneInfo(zone)).date()


def _remind_again(event: Event) -> None:
    """Moved to another day: the reminder for the old one does not count for the new, and one
    still waiting to go (it would say "tomorrow" days early) is taken back, recorded as
    replaced by the new day's. One a sender is handing over has left: it stays, to be
    recorded as sent (``outbox.replace_queued``)."""
    registrations = select(Registration.id).where(Registration.event_id == event.id)
    outbox.replace_queued(MessageKind.REMINDER, OutboxMessage.registration_id.in_(registrations))
    db.session.execute(
        update(Registration)
        .where(Registration.event_id == event.id, Registration.reminder_sent_at.is_not(None))
        .values(reminder_sent_at=None)
    )


def _registrations(event: Event, *statuses: RegistrationStatus) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id)
            .where(Registration.status.in_(statuses))
            .order_by(Registration.id)
        )
    )
