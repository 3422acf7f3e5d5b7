"""A registration's history as organisers read it: each action and its details in their language.

The audit log keeps codes (``moved_here``, ``how: manual``); this turns one entry into a label
and a list of details, each a label with a value (None when the label says it all).
"""

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms.fields.core import UnboundField

from ..formatting import STATUS_LABELS, datetime_in, language_name
from ..forms.person import ConsentForm
from ..models import AuditEntry
from .forms import EventForm

ACTION_LABELS = {
    "signed_up": _l("Signed up"),
    "promoted": _l("Given a seat from the waiting list"),
    "moved_here": _l("Moved here from another event"),
    "cancelled": _l("Cancelled"),
    "details_updated": _l("Details corrected"),
    "erased": _l("Personal data erased on request"),
    "purged": _l("Personal data removed at the end of the retention period"),
    "checked_in": _l("Checked in"),
    "check_in_undone": _l("Check-in undone"),
    "joined_online_imported": _l("Online attendance imported"),
    "event_updated": _l("Event changed"),
    "event_cancelled": _l("Event called off"),
    "capacity_raised": _l("Seats added"),
    "history_repaired": _l("Put back as it was when the event ended"),
    "abuse_report_dismissed": _l("Report on a network member dismissed"),
    "abuse_report_acted": _l("Network member hidden after a report"),
}

_DETAIL_LABELS = {
    "status": _l("status"),
    "moved_from": _l("from"),
    "moved_to": _l("to"),
    "fields": _l("what changed"),
    "how": _l("how"),
    "checked_in_at": _l("when"),
    "device_time": _l("time on the device"),
    "joined_at": _l("joined at"),
    "capacity": _l("seats"),
    "report": _l("meeting report"),
    "source": _l("programme file"),
    "abuse_report": _l("report number"),
}
# Details that are a plain fact: the label is shown alone.
_FLAGS = {
    "confirmed_off_day": _l("on a day the event does not run, as staff confirmed"),
    "event_cancelled": _l("because the event was called off"),
    "promoted_after_end": _l("a seat had been given from the waiting list after the event ended"),
    "erased_after_end": _l("an erasure had cancelled it after the event ended"),
}
_HOW = {"scan": _l("ticket scanned"), "manual": _l("found by name")}
_MOMENTS = {"checked_in_at", "device_time", "joined_at"}


def action_label(entry: AuditEntry) -> str:
    return str(ACTION_LABELS.get(entry.action, entry.action.replace("_", " ")))


def details(entry: AuditEntry, zone: str) -> list[tuple[str, str | None]]:
    """The entry's details as (label, value) pairs in the reader's language, times in ``zone``."""
    shown = []
    for key, value in (entry.details or {}).items():
        if key in _FLAGS:
            if value:
                shown.append((str(_FLAGS[key]), None))
            continue
        if value is None:  # e.g. no device time: a scan made online
            continue
        label = str(_DETAIL_LABELS.get(key, key.replace("_", " ")))
        shown.append((label, _value(key, value, zone)))
    return shown


def _value(key: str, value: Any, zone: str) -> str:
    if key == "status":
        return str(STATUS_LABELS.get(value, value))
    if key == "how":
        return str(_HOW.get(value, value))
    if key in _MOMENTS:
        return datetime_in(datetime.fromisoformat(value), zone)
    if key == "fields":
        return ", ".join(_field_label(name) for name in value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _field_label(name: str) -> str:
    """A changed field by the label organisers know it by from the forms; a translated text
    (``translations.it.title``, ``translations.it.days.2027-03-25``) as "Title (Italian)"."""
    if name.startswith("translations."):
        _, language, field, *day = name.split(".")
        what = _field_label("days") if field == "days" else _field_label(field)
        return f"{what} ({language_name(language)}{', ' + day[0] if day else ''})"
    for form in (ConsentForm, EventForm):
        field = getattr(form, name, None)
        if isinstance(field, UnboundField):
            return str(field.kwargs.get("label") or field.args[0])
    return str(_EXTRA_FIELDS.get(name, name))


# Event fields that the programme file sets and the event form edits under another name.
_EXTRA_FIELDS = {
    "days": _l("Agenda"),
    "translations": _l("Translations"),
    "status": _l("status"),
}
