"""Edits saved from a form loaded earlier: only what the editor changed is written, and what
someone else saved meanwhile is never overwritten unseen (optimistic concurrency).

The edit page carries a fingerprint of the values it showed: a short digest per field, no
content. On saving, each field compares three versions: as loaded, as submitted, as stored
now. A field only the editor changed takes their value; one only someone else changed keeps
the stored value; one both changed, to different values, is a conflict and nothing is saved.
Fields that only make sense together (an event's times and its days) count as one.
"""

import dataclasses
import enum
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

DIGEST_LENGTH = 16  # hex characters: tells changed from unchanged, says nothing of the value


class EditConflict(Exception):
    """Someone else saved fields since the form was loaded that the editor's changes go
    with: ``both`` the fields both changed, to different values; ``theirs`` the others'
    changes that go with the editor's (a new start next to the editor's new end); ``seen``
    the fingerprint to carry in the form, so that saving again, knowingly, takes the
    editor's values."""

    def __init__(self, both: list[str], theirs: list[str], seen: dict[str, str]):
        super().__init__(", ".join(both + theirs))
        self.both = both
        self.theirs = theirs
        self.seen = seen


class DamagedFingerprint(ValueError):
    """The form's fingerprint is not one this module wrote."""


def fingerprint(values: Mapping[str, Any]) -> dict[str, str]:
    """Each field's digest, as the edit page stores it."""
    return {name: _digest(value) for name, value in values.items()}


def changed_since(seen: Mapping[str, str], values: Mapping[str, Any]) -> list[str]:
    """The fields whose value is no longer the one the page showed (``seen``); a field the page
    did not show is not named."""
    return [name for name, value in values.items() if name in seen and _digest(value) != seen[name]]


def dumps(seen: Mapping[str, str]) -> str:
    """A fingerprint as the hidden form field's text (``name:digest`` pairs, nothing to escape)."""
    return ",".join(f"{name}:{digest}" for name, digest in sorted(seen.items()))


def loads(text: str | None) -> dict[str, str] | None:
    """The fingerprint from the form's field; None when the form carried none."""
    if not text:
        return None
    if not _FINGERPRINT.fullmatch(text):
        raise DamagedFingerprint(text[:40])
    return dict(pair.split(":") for pair in text.split(","))


_PAIR = rf"[a-z0-9_.]+:[0-9a-f]{{{DIGEST_LENGTH}}}"  # a field (translations.it.title): its digest
_FINGERPRINT = re.compile(rf"{_PAIR}(,{_PAIR})*")


def merge(
    seen: Mapping[str, str] | None,
    stored: Mapping[str, Any],
    submitted: Mapping[str, Any],
    groups: Iterable[Iterable[str]] = (),
) -> dict[str, Any]:
    """The submitted values to save: those of the units the editor changed.

    ``seen``: the fingerprint the form was loaded with (None: every submitted value is the
    editor's, as without this module); ``stored``: the values now, as the form would show
    them; ``groups``: fields decided together. Raises EditConflict when someone else changed
    a unit the editor changed too, unless the two agree."""
    if seen is None:
        return dict(submitted)
    taken: dict[str, Any] = {}
    both: list[str] = []
    theirs: list[str] = []
    resolved = dict(seen)
    for unit in _units(submitted, groups):
        mine = [name for name in unit if _digest(submitted[name]) != seen.get(name)]
        others = [name for name in unit if _digest(stored[name]) != seen.get(name)]
        differ = [name for name in unit if _digest(submitted[name]) != _digest(stored[name])]
        if mine and others and differ:
            both += [name for name in others if name in mine and name in differ]
            theirs += [name for name in others if name not in mine]
            resolved.update({name: _digest(stored[name]) for name in others})
        elif mine:
            taken.update({name: submitted[name] for name in unit})
    if both or theirs:
        raise EditConflict(both, theirs, resolved)
    return taken


def _units(fields: Iterable[str], groups: Iterable[Iterable[str]]) -> list[list[str]]:
    """The fields in their decision units: each group (those of its fields present), then
    each other field alone."""
    fields = list(fields)
    units, grouped = [], set()
    for group in groups:
        unit = [name for name in fields if name in set(group)]
        if unit:
            units.append(unit)
            grouped.update(unit)
    return units + [[name] for name in fields if name not in grouped]


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=_plain, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LENGTH]


def _plain(value: Any) -> Any:
    """A value JSON cannot write, as one it can: equal values give equal text."""
    if isinstance(value, datetime):  # to the minute, as the forms show and take times
        moment = value.astimezone(UTC) if value.tzinfo else value
        return moment.replace(second=0, microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return str(value)
