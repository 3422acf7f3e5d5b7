"""Loading the programme file (TOML) into the database: idempotent, updates by slug."""

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from ..config import LANGUAGES
from ..database import write_transaction
from ..extensions import db
from ..models import Event, EventKind, EventMode
from . import audit
from .agenda import AgendaError, check_days, days_from_spec
from .events import apply_changes
from .registrations import fill_from_waitlist

SHIPPED_PROGRAMME = Path(__file__).resolve().parent.parent / "data" / "programme.toml"

_REQUIRED = ("slug", "title", "kind", "mode", "timezone", "starts_at", "ends_at", "host_partner")
_LOCAL_TIMES = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")
_OPTIONAL = ("description", "city", "venue", "capacity", "online_url")


class ProgrammeError(ValueError):
    """The programme file is not valid; the message says where."""


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


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
    """Create or update the events of a programme file; loading it twice changes nothing."""
    values_by_slug = {values["slug"]: values for values in read_programme(path)}
    report = LoadReport()
    with write_transaction():
        existing = {
            event.slug: event
            for event in db.session.scalars(
                select(Event).where(Event.slug.in_(values_by_slug)).with_for_update()
            )
        }
        for slug, values in values_by_slug.items():
            event = existing.get(slug)
            if event is None:
                db.session.add(Event(**values))
                report.created.append(slug)
            elif changed := apply_changes(event, values):
                audit.record("event_updated", event=event, source=str(path), fields=sorted(changed))
                report.updated.append(slug)
            else:
                report.unchanged.append(slug)
    for slug in report.updated:  # a larger capacity lets people in from the waiting list
        fill_from_waitlist(existing[slug])
    return report


def _translations(tables: dict[str, Any], where: str) -> dict[str, dict[str, str]]:
    """``[events.translations.<language>]`` tables with a title and/or a description."""
    translations = {}
    for language, texts in tables.items():
        if language not in LANGUAGES or language == "en":
            raise ProgrammeError(f"{where}: no such language for translations: {language}")
        unknown = set(texts) - {"title", "description"}
        if unknown:
            raise ProgrammeError(f"{where}: translations take title and description, not {unknown}")
        translations[language] = {name: str(value).strip() for name, value in texts.items()}
    return translations


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
        values[name] = value.replace(tzinfo=zone).astimezone(UTC)
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
    return values


def _agenda(entry: dict[str, Any], values: dict[str, Any], where: str) -> list:
    """The ``[[events.days]]`` of a multi-day event, checked against its start and end."""
    try:
        days = days_from_spec(entry.get("days", []), ZoneInfo(values["timezone"]))
        check_days(days, values["starts_at"], values["ends_at"])
    except AgendaError as exc:
        raise ProgrammeError(f"{where}: {exc}") from exc
    return days
