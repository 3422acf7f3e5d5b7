"""The programme file (TOML): it seeds new events; changing existing ones is explicit.

Once an event exists, the database (what organisers did in the organiser area) is the truth:
``load_programme`` only creates the events that are missing. ``plan_update`` shows, field by
field, how the file differs from the events and which e-mails applying it would send;
``apply_update`` applies that plan. Each event remembers the values the file last gave it,
so a field changed since (by an organiser) is a conflict, left alone unless overwritten.
Translations are compared text by text (``translations.it.title``,
``translations.it.days.2027-03-25``): an organiser's Italian title does not hold back the
file's new Danish description.
"""

import copy
import enum
import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from ..config import LANGUAGES
from ..database import locking, write_transaction
from ..extensions import db
from ..local_times import LocalTimeError, aware
from ..models import Event, EventKind, EventMode, Registration, RegistrationStatus
from . import audit
from .agenda import AgendaError, check_days, days_from_spec
from .events import SCHEDULE_FIELDS, apply_changes, check_ins_left_out, check_ins_shifted
from .registrations import fill_from_waitlist

SHIPPED_PROGRAMME = Path(__file__).resolve().parent.parent / "data" / "programme.toml"

_REQUIRED = ("slug", "title", "kind", "mode", "timezone", "starts_at", "ends_at", "host_partner")
_LOCAL_TIMES = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")
_OPTIONAL = ("description", "city", "venue", "capacity", "online_url", "contact_email")


class ProgrammeError(ValueError):
    """The programme file is not valid; the message says where."""


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FieldChange:
    """One field the file would change: ``edited`` when it was changed since the last load;
    ``held_by`` names the organiser's edit that holds it back, for a field that only makes
    sense together with that one (the file's new end kept from an edited start)."""

    name: str
    old: Any
    new: Any
    edited: bool
    held_by: str | None = None

    @property
    def is_conflict(self) -> bool:
        return self.edited or self.held_by is not None


@dataclass
class EventUpdate:
    """How the file differs from one existing event, and the e-mails applying it would send."""

    slug: str
    timezone: str
    changes: list[FieldChange]
    invitations: int = 0  # "event changed" e-mails with an updated calendar entry
    waiting_notices: int = 0  # "event changed" e-mails to the waiting list (no calendar entry)
    promotions: int = 0  # confirmations for people let in from the waiting list
    # Check-ins by day that the changes would leave outside the event's days: refused.
    left_out: dict[date, int] = field(default_factory=dict)
    # Check-ins by day that a new time zone would put on another date: refused too.
    shifted: dict[date, int] = field(default_factory=dict)

    @property
    def conflicts(self) -> list[FieldChange]:
        return [change for change in self.changes if change.is_conflict]

    def to_apply(self, *, overwrite_edits: bool) -> list[FieldChange]:
        """The changes that applying writes: organiser edits, and what only goes with them,
        only when overwriting them."""
        return [change for change in self.changes if overwrite_edits or not change.is_conflict]


@dataclass
class UpdatePlan:
    """What ``programme load --update`` shows and, with ``--yes``, applies."""

    missing: list[str] = field(default_factory=list)
    updates: list[EventUpdate] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.missing and not self.updates

    @property
    def refusal(self) -> str | None:
        """Why the plan cannot be applied: the check-ins it would leave outside their event's
        days, or move to another date with a new time zone, by event and day; None when it can."""
        left_out = _by_event(self.updates, "left_out")
        shifted = _by_event(self.updates, "shifted")
        reasons = []
        if left_out:
            reasons.append(
                "the file would leave the check-ins recorded on these days outside their "
                "event's days (number of check-ins in brackets): " + left_out
            )
        if shifted:
            reasons.append(
                "the file's new time zone would put the check-ins recorded on these days on "
                "another date (number of check-ins in brackets): " + shifted
            )
        return "refused, nothing changed: " + "; and ".join(reasons) if reasons else None


def _by_event(updates: list[EventUpdate], name: str) -> str:
    """Check-ins by event and day (``left_out`` or ``shifted``), as the refusal lists them."""
    return "; ".join(
        f"{update.slug}: "
        + ", ".join(f"{day} ({count})" for day, count in getattr(update, name).items())
        for update in updates
        if getattr(update, name)
    )


def read_programme(path: Path) -> list[dict[str, Any]]:
    """Parse and check a programme file; return the events' column values, times in UTC."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProgrammeError(f"{path}: {exc}") from exc
    entries = data.get("events")
    if not isinstance(entries, list) or not entries:
        raise ProgrammeError(f"{path}: no [[events]] found")
    events = [_event_values(entry, index) for index, entry in enumerate(entries, start=1)]
    slugs = [event["slug"] for event in events]
    duplicates = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if duplicates:
        raise ProgrammeError(f"{path}: slug used twice: {', '.join(duplicates)}")
    return events


def load_programme(path: Path = SHIPPED_PROGRAMME) -> LoadReport:
    """Create the file's events that do not exist yet; existing events are never touched."""
    values_by_slug = {values["slug"]: values for values in read_programme(path)}
    report = LoadReport()
    with write_transaction():
        existing = set(db.session.scalars(select(Event.slug).where(Event.slug.in_(values_by_slug))))
        for slug, values in values_by_slug.items():
            if slug in existing:
                report.existing.append(slug)
            else:
                _create(values, path)
                report.created.append(slug)
    return report


def plan_update(path: Path = SHIPPED_PROGRAMME, *, overwrite_edits: bool = False) -> UpdatePlan:
    """How applying the file would change the events, field by field; changes nothing."""
    values_by_slug = {values["slug"]: values for values in read_programme(path)}
    events = db.session.scalars(
        select(Event)
        .where(Event.slug.in_(values_by_slug))
        .execution_options(populate_existing=True)
    ).all()
    return _plan(values_by_slug, {event.slug: event for event in events}, overwrite_edits)


def apply_update(path: Path = SHIPPED_PROGRAMME, *, overwrite_edits: bool = False) -> UpdatePlan:
    """Create missing events and apply the file's changes to existing ones, in one transaction.

    Fields changed since the last load are kept unless ``overwrite_edits``. The plan is made
    again under the lock, so what is applied is what the database holds now; it is returned.
    """
    values_by_slug = {values["slug"]: values for values in read_programme(path)}
    with write_transaction():
        events = db.session.scalars(
            locking(select(Event).where(Event.slug.in_(values_by_slug)).order_by(Event.id))
        ).all()
        by_slug = {event.slug: event for event in events}
        plan = _plan(values_by_slug, by_slug, overwrite_edits)
        if plan.refusal:
            raise ProgrammeError(plan.refusal)
        for slug in plan.missing:
            _create(values_by_slug[slug], path)
        updates = {update.slug: update for update in plan.updates}
        for slug, event in by_slug.items():  # what later edits differ from
            event.programme_values = _recorded(
                values_by_slug[slug], updates.get(slug), overwrite_edits
            )
        for update in plan.updates:
            event = by_slug[update.slug]
            chosen = {c.name: c.new for c in update.to_apply(overwrite_edits=overwrite_edits)}
            apply_changes(event, _as_fields(event.translations, chosen))
            if chosen:
                audit.record("event_updated", event=event, source=str(path), fields=sorted(chosen))
            if "capacity" in chosen:
                fill_from_waitlist(event)
    return plan


def _create(values: dict[str, Any], path: Path) -> None:
    event = Event(**values, programme_values=_snapshot(values))
    db.session.add(event)
    db.session.flush()
    audit.record("event_created", event=event, source=str(path))


def _plan(
    values_by_slug: dict[str, dict[str, Any]], events: dict[str, Event], overwrite_edits: bool
) -> UpdatePlan:
    plan = UpdatePlan(missing=[slug for slug in values_by_slug if slug not in events])
    for slug, event in events.items():
        changes = _differences(event, values_by_slug[slug])
        if changes:
            update = EventUpdate(slug, event.timezone, changes)
            plan.updates.append(_count_mail(update, event, overwrite_edits))
    return plan


def _differences(event: Event, values: dict[str, Any]) -> list[FieldChange]:
    """The file's values that differ from the event's; ``edited`` when the event's value is
    not the one the file gave it last (or nothing records what the file gave)."""
    last_loaded = event.programme_values
    loaded = None if last_loaded is None else _by_text(last_loaded)
    current = _by_text({name: getattr(event, name) for name in values})
    wanted = _by_text(values)
    changes = []
    for name in wanted | current:
        old, new = current.get(name), wanted.get(name)
        if old == new:
            continue
        if loaded is not None and name not in loaded and name in _ADDED_LATER:
            # The record is older than the field: the event held it empty then.
            edited = old != _ADDED_LATER[name]
        else:
            edited = loaded is None or _plain(old) != loaded.get(name)
        changes.append(FieldChange(name, old, new, edited))
    return _held_together(changes)


# Fields the programme file gained after events were first loaded, with the value an event
# had before (an installation loaded before multi-day agendas has no "agenda" in its record).
_ADDED_LATER: dict[str, Any] = {"agenda": []}


_TIME = frozenset({"starts_at", "ends_at", "timezone", "agenda"})
_WINDOW = frozenset({"registration_opens_at", "registration_closes_at"})


def _held_together(changes: list[FieldChange]) -> list[FieldChange]:
    """An organiser's edit of an event's time holds back the file's other changes to its time,
    and to the agenda's day titles (dated by that agenda); an edit of the registration window
    holds back the window's other end. Applying the file's end to an edited start could make
    an event end before it begins."""
    time_edit = next((c.name for c in changes if c.edited and c.name in _TIME), None)
    window_edit = next((c.name for c in changes if c.edited and c.name in _WINDOW), None)

    def holder(change: FieldChange) -> str | None:
        if change.edited:
            return None
        if change.name in _TIME or ".days." in change.name:
            return time_edit
        return window_edit if change.name in _WINDOW else None

    return [replace(change, held_by=holder(change)) for change in changes]


_T = "translations"


def _by_text(values: dict[str, Any]) -> dict[str, Any]:
    """Field values with the translations spread out, one entry per text named by its path
    (``translations.it.title``, ``translations.it.days.2027-03-25``)."""

    def texts(tree: dict, path: str) -> dict[str, Any]:
        found = {}
        for key, value in tree.items():
            if isinstance(value, dict):
                found |= texts(value, f"{path}.{key}")
            else:
                found[f"{path}.{key}"] = value
        return found

    spread = {}
    for name, value in values.items():
        if name == _T:
            spread |= texts(value or {}, _T)
        else:
            spread[name] = value
    return spread


def _recorded(
    values: dict[str, Any], update: EventUpdate | None, overwrite_edits: bool
) -> dict[str, Any]:
    """What the event records as the file's values, for ``_differences`` to tell edits by:
    the file as loaded now, except a change held back with an organiser's edit, recorded as
    the event still holds it (as last loaded). Recorded as the file's, it would count as an
    edit of its own, and be kept from the event once the organiser's edit no longer holds it."""
    held = {
        change.name: change.old
        for change in (update.changes if update and not overwrite_edits else [])
        if change.held_by is not None
    }
    return _snapshot(values | _as_fields(values.get(_T), held))


def _as_fields(translations: dict | None, changes: dict[str, Any]) -> dict[str, Any]:
    """Changes (``_by_text`` names) as fields: the texts merged into ``translations``."""
    fields = {name: value for name, value in changes.items() if not _is_text(name)}
    if texts := {name: value for name, value in changes.items() if _is_text(name)}:
        fields[_T] = _with_texts(translations, texts)
    return fields


def _is_text(name: str) -> bool:
    """Whether a change's name is one text of a translation (``translations.it.title``)."""
    return name.startswith(f"{_T}.")


def _with_texts(translations: dict | None, texts: dict[str, Any]) -> dict:
    """The translations with texts set by their path (None removes one)."""
    translations = copy.deepcopy(translations or {})
    for name, value in texts.items():
        *parents, key = name.split(".")[1:]
        tree = translations
        for parent in parents:
            tree = tree.setdefault(parent, {})
        if value is None:
            tree.pop(key, None)
        else:
            tree[key] = value
    return _pruned(translations)


def _pruned(tree: dict) -> dict:
    """The tree without the tables a removed text left empty."""
    kept = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            value = _pruned(value)
            if not value:
                continue
        kept[key] = value
    return kept


def _count_mail(update: EventUpdate, event: Event, overwrite_edits: bool) -> EventUpdate:
    """Count the e-mails that applying the update would send."""
    fields = {c.name: c.new for c in update.to_apply(overwrite_edits=overwrite_edits)}
    update.left_out = check_ins_left_out(event, fields)
    update.shifted = check_ins_shifted(event, fields)
    confirmed = _count(event, RegistrationStatus.CONFIRMED)
    waiting = _count(event, RegistrationStatus.WAITLISTED)
    if fields.keys() & SCHEDULE_FIELDS:
        update.invitations, update.waiting_notices = confirmed, waiting
    if "capacity" in fields:
        capacity = fields["capacity"]
        free = waiting if capacity is None else max(capacity - confirmed, 0)
        update.promotions = min(waiting, free)
    return update


def _count(event: Event, status: RegistrationStatus) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == event.id, Registration.status == status)
    )


def _snapshot(values: dict[str, Any]) -> dict[str, Any]:
    """The file's values as JSON, to recognise later which fields were edited since."""
    return {name: _plain(value) for name, value in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _translations(tables: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    """``[events.translations.<language>]`` tables with a title and/or a description, and
    ``[events.translations.<language>.days]`` with a title per date of the agenda."""
    translations = {}
    for language, texts in tables.items():
        if language not in LANGUAGES or language == "en":
            raise ProgrammeError(f"{where}: no such language for translations: {language}")
        unknown = set(texts) - {"title", "description", "days"}
        if unknown:
            raise ProgrammeError(
                f"{where}: translations take title, description and days, not {unknown}"
            )
        translated = {name: str(value).strip() for name, value in texts.items() if name != "days"}
        if "days" in texts:
            translated["days"] = _day_titles(
                texts["days"], f"{where}: translations.{language}.days"
            )
        translations[language] = translated
    return translations


def _day_titles(table: Any, where: str) -> dict[str, str]:
    """``2027-03-24 = "Visite in loco"``: a title per day, by the day's local date."""
    if not isinstance(table, dict):
        raise ProgrammeError(f"{where}: give a table of dates and titles")
    titles = {}
    for day, title in table.items():
        try:
            key = date.fromisoformat(str(day)).isoformat()
        except ValueError as exc:
            raise ProgrammeError(f"{where}: {day!r} is not a date such as 2027-03-24") from exc
        if not str(title).strip():
            raise ProgrammeError(f"{where}: {key} has no title")
        titles[key] = str(title).strip()
    return titles


def _check_day_titles(values: dict[str, Any], where: str) -> None:
    """Translated day titles must name days of the agenda."""
    zone = ZoneInfo(values["timezone"])
    dates = {day.starts_at.astimezone(zone).date().isoformat() for day in values["agenda"]}
    for language, texts in values["translations"].items():
        stray = sorted(set(texts.get("days", {})) - dates)
        if stray:
            raise ProgrammeError(
                f"{where}: translations.{language}.days: no day of the agenda on {', '.join(stray)}"
            )


def _event_values(entry: dict[str, Any], index: int) -> dict[str, Any]:
    where = f"event {index} ({entry.get('slug', 'no slug')})"
    missing = [name for name in _REQUIRED if not entry.get(name)]
    if missing:
        raise ProgrammeError(f"{where}: missing {', '.join(missing)}")
    try:
        zone = ZoneInfo(entry["timezone"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ProgrammeError(f"{where}: unknown time zone {entry['timezone']!r}") from exc
    try:
        values = {
            "slug": str(entry["slug"]),
            "title": str(entry["title"]),
            "kind": EventKind(entry["kind"]),
            "mode": EventMode(entry["mode"]),
            "timezone": entry["timezone"],
            "host_partner": str(entry["host_partner"]),
        }
    except ValueError as exc:
        raise ProgrammeError(f"{where}: {exc}") from exc
    for name in _LOCAL_TIMES:
        value = entry.get(name)
        if not isinstance(value, datetime) or value.tzinfo is not None:
            raise ProgrammeError(
                f"{where}: {name} must be a local date-time such as 2027-03-24T09:00"
            )
        try:
            values[name] = aware(value, zone).astimezone(UTC)
        except LocalTimeError as exc:
            raise ProgrammeError(f"{where}: {name}: {exc}") from exc
    for name in _OPTIONAL:
        values[name] = entry.get(name)
    values["description"] = (values["description"] or "").strip()
    values["translations"] = _translations(entry.get("translations", {}), where)
    if values["capacity"] is not None and (
        not isinstance(values["capacity"], int) or values["capacity"] < 0
    ):
        raise ProgrammeError(f"{where}: capacity must be a whole number of seats, or left out")
    if values["mode"] is EventMode.IN_PERSON and not values["city"]:
        raise ProgrammeError(f"{where}: an in-person event needs a city")
    if values["ends_at"] <= values["starts_at"]:
        raise ProgrammeError(f"{where}: ends_at must be after starts_at")
    if values["registration_closes_at"] <= values["registration_opens_at"]:
        raise ProgrammeError(f"{where}: registration must close after it opens")
    values["agenda"] = _agenda(entry, values, where)
    _check_day_titles(values, where)
    return values


def _agenda(entry: dict[str, Any], values: dict[str, Any], where: str) -> list:
    """The ``[[events.days]]`` of a multi-day event, checked against its dates."""
    try:
        zone = ZoneInfo(values["timezone"])
        days = days_from_spec(entry.get("days", []), zone)
        check_days(days, values["starts_at"], values["ends_at"], zone)
    except AgendaError as exc:
        raise ProgrammeError(f"{where}: {exc}") from exc
    return days
