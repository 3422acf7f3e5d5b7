"""Attendance lists: search, filter, sort and page through an event's registrations."""

from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from ..extensions import db
from ..folding import fold
from ..models import DayCheckIn, Event, Registrant, Registration, RegistrationStatus, TargetGroup

SORTS = {
    "name": (Registrant.last_name, Registrant.first_name),
    "organisation": (Registrant.organisation, Registrant.last_name),
    "country": (Registrant.country, Registrant.last_name),
    "status": (Registration.status, Registration.created_at),
    "registered": (Registration.created_at,),
}


@dataclass(frozen=True)
class AttendeeFilter:
    """What an organiser asked the list for; unknown values are ignored."""

    q: str = ""
    status: str = ""
    target_group: str = ""
    country: str = ""
    attended: str = ""  # "yes", "no" or ""
    sort: str = "registered"
    descending: bool = False

    @classmethod
    def from_args(cls, args) -> "AttendeeFilter":
        return cls(
            q=args.get("q", "").strip()[:100],
            status=args.get("status", "") if args.get("status") in set(RegistrationStatus) else "",
            target_group=(
                args.get("target_group", "") if args.get("target_group") in set(TargetGroup) else ""
            ),
            country=args.get("country", "").upper()[:2],
            attended=args.get("attended", "") if args.get("attended") in ("yes", "no") else "",
            sort=args.get("sort", "registered") if args.get("sort") in SORTS else "registered",
            descending=args.get("order") == "desc",
        )


def attendee_query(event: Event, wanted: AttendeeFilter) -> Select:
    """Registrations of the event (with their registrants) matching the filter, sorted."""
    query = (
        select(Registration)
        .join(Registration.registrant)
        .where(Registration.event_id == event.id)
        .options(contains_eager(Registration.registrant))
    )
    if event.is_multi_day:  # the list shows who came on which day
        query = query.options(selectinload(Registration.day_check_ins))
    if wanted.q:
        pattern = f"%{wanted.q}%"
        query = query.where(
            or_(
                Registrant.search_name.contains(fold(wanted.q), autoescape=True),
                Registrant.email.ilike(pattern),
                Registrant.organisation.ilike(pattern),
                Registration.reference.ilike(pattern),
            )
        )
    if wanted.status:
        query = query.where(Registration.status == RegistrationStatus(wanted.status))
    if wanted.target_group:
        query = query.where(Registrant.target_group == TargetGroup(wanted.target_group))
    if wanted.country:
        query = query.where(Registrant.country == wanted.country)
    attended = Registration.has_attended
    if wanted.attended == "yes":
        query = query.where(attended)
    elif wanted.attended == "no":
        query = query.where(~attended)
    columns = SORTS[wanted.sort]
    order = [column.desc() if wanted.descending else column for column in columns]
    return query.order_by(*order, Registration.id)


def attendee_page(event: Event, wanted: AttendeeFilter, page: int, per_page: int = 100):
    """One page of the attendance list (Flask-SQLAlchemy pagination)."""
    return db.paginate(attendee_query(event, wanted), page=page, per_page=per_page, error_out=False)


def has_other_days(event: Event) -> bool:
    """Whether anyone at a multi-day event was checked in on a date that is not one of its days
    (checked in anyway): the list then has a column for those check-ins."""
    if not event.is_multi_day:
        return False
    other = (
        select(DayCheckIn.id)
        .join(DayCheckIn.registration)
        .where(Registration.event_id == event.id, DayCheckIn.day.not_in(event.local_dates))
    )
    return bool(db.session.scalar(select(other.exists())))


def countries_of(event: Event) -> list[str]:
    """The countries the event's registrants come from, for the filter."""
    return list(
        db.session.scalars(
            select(Registrant.country)
            .join(Registration.registrant)
            .where(Registration.event_id == event.id)
            .distinct()
            .order_by(Registrant.country)
        )
    )
