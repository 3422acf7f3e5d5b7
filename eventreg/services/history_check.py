"""Registrations of ended events that code from before they were history changed afterwards:
seats given from the waiting list after the event had ended, and registrations an erasure
cancelled after the event had ended (it now keeps them as they were). Each is found from its
columns and audit log, and put back as it stood when the event ended where that is certain."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import joinedload

from ..database import lock, write_transaction
from ..extensions import db
from ..models import AuditEntry, CancelReason, Event, Registration, RegistrationStatus
from . import audit

PROMOTED_AFTER_END = "promoted_after_end"
ERASED_AFTER_END = "erased_after_end"
# Event fields that move its end: a change to them after the fact leaves the end then unknown.
# A seat freed by a cancellation went to the queue in the same transaction, moments later.
FREED_WITHIN = timedelta(seconds=60)
_SCHEDULE = {"starts_at", "ends_at", "timezone", "agenda", "days"}


@dataclass(frozen=True)
class WrongHistory:
    """One registration changed after its event had ended, and what it should be."""

    registration: Registration
    problem: str  # PROMOTED_AFTER_END or ERASED_AFTER_END
    changed_at: datetime
    status: RegistrationStatus  # what it was when the event ended
    doubt: str | None = None  # why that is not certain: then it is left as it is

    @property
    def is_certain(self) -> bool:
        return self.doubt is None


def find_wrong_history() -> list[WrongHistory]:
    """Every registration of an ended event given a seat from the waiting list, or cancelled
    by an erasure, after the event's end (one query, and one for the events' schedules)."""
    promoted = exists().where(
        AuditEntry.registration_id == Registration.id,
        AuditEntry.action == "promoted",
        AuditEntry.created_at >= Event.ends_at,
    )
    promoted_late = and_(
        Registration.status == RegistrationStatus.CONFIRMED,
        Registration.confirmed_at >= Event.ends_at,
        promoted,
    )
    erased_late = and_(
        Registration.status == RegistrationStatus.CANCELLED,
        Registration.cancel_reason == CancelReason.ERASED,
        Registration.cancelled_at >= Event.ends_at,
    )
    found = db.session.scalars(
        select(Registration)
        .join(Registration.event)
        .where(or_(promoted_late, erased_late))
        .options(joinedload(Registration.event))
        .order_by(Registration.event_id, Registration.id)
    ).all()
    rescheduled = _schedule_changes({r.event_id for r in found})
    return [_judge(registration, rescheduled[registration.event_id]) for registration in found]


def repair(found: list[WrongHistory]) -> int:
    """Put back the certain ones as they stood when their event ended, each with an audit
    entry, in one transaction; returns how many."""
    repaired = 0
    with write_transaction():
        for wrong in found:
            if not wrong.is_certain:
                continue
            registration = lock(wrong.registration)
            if registration.status is wrong.status:  # repaired meanwhile
                continue
            registration.status = wrong.status
            registration.cancelled_at = registration.cancel_reason = None
            if wrong.status is RegistrationStatus.WAITLISTED:
                registration.confirmed_at = None
            audit.record(
                "history_repaired",
                registration=registration,
                status=wrong.status.value,
                **{wrong.problem: True},
            )
            repaired += 1
    return repaired


def _judge(registration: Registration, rescheduled: list[datetime]) -> WrongHistory:
    """What the registration was when its event ended, and whether that is certain."""
    event = registration.event
    if registration.status is RegistrationStatus.CONFIRMED:
        problem, changed_at = PROMOTED_AFTER_END, registration.confirmed_at
    else:
        problem, changed_at = ERASED_AFTER_END, registration.cancelled_at
    had_seat = registration.confirmed_at is not None and registration.confirmed_at < event.ends_at
    status = RegistrationStatus.CONFIRMED if had_seat else RegistrationStatus.WAITLISTED
    doubt = None
    if any(moment >= changed_at for moment in rescheduled):
        doubt = "the event's dates were changed afterwards: its end then is not known"
    elif problem == PROMOTED_AFTER_END and not _seat_freed_then(registration, changed_at):
        doubt = "given a seat by an organiser, not freed by a cancellation"
    elif status is RegistrationStatus.WAITLISTED and registration.has_attended:
        doubt = "attended, though on the waiting list when the event ended"
    elif (
        problem == ERASED_AFTER_END
        and registration.confirmed_at is not None
        and not had_seat
        and not _promoted_after(registration, event.ends_at)
    ):
        doubt = "given a seat after the event ended, not from the waiting list"
    return WrongHistory(registration, problem, changed_at, status, doubt)


def _seat_freed_then(registration: Registration, moment: datetime) -> bool:
    """Whether another registration of the event was cancelled just before the seat was
    given: the waiting list moving up, not an organiser's Promote button."""
    return (
        db.session.scalar(
            select(Registration.id).where(
                Registration.event_id == registration.event_id,
                Registration.id != registration.id,
                Registration.cancelled_at.between(moment - FREED_WITHIN, moment),
            )
        )
        is not None
    )


def _promoted_after(registration: Registration, moment: datetime) -> bool:
    return (
        db.session.scalar(
            select(AuditEntry.id).where(
                AuditEntry.registration_id == registration.id,
                AuditEntry.action == "promoted",
                AuditEntry.created_at >= moment,
            )
        )
        is not None
    )


def _schedule_changes(event_ids: set[int]) -> dict[int, list[datetime]]:
    """When each event's dates were changed (``event_updated`` naming a schedule field)."""
    changes: dict[int, list[datetime]] = defaultdict(list)
    if not event_ids:
        return changes
    entries = db.session.execute(
        select(AuditEntry.event_id, AuditEntry.created_at, AuditEntry.details).where(
            AuditEntry.action == "event_updated", AuditEntry.event_id.in_(event_ids)
        )
    )
    for event_id, created_at, details in entries:
        if _SCHEDULE & set((details or {}).get("fields", ())):
            changes[event_id].append(created_at)
    return changes
