"""Numbers for the funder: registrations by day, target group, country and event; attendance.

Each breakdown is one GROUP BY query, so the page costs the same few queries however many
registrations there are. Counts follow the exports' definitions, so they add up to the same.
"""

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, Integer, Select, Subquery, and_, case, distinct, func, or_, select
from sqlalchemy.sql import ColumnElement

from ..database import read_snapshot
from ..extensions import db
from ..models import (
    CancelReason,
    DayCheckIn,
    Event,
    EventStatus,
    Registrant,
    Registration,
    RegistrationStatus,
    SocialEconomyType,
    TargetGroup,
    utcnow,
)
from .exports import HAS_ATTENDED


@dataclass
class Tally:
    """Registrations by status, and how many of them attended."""

    confirmed: int = 0
    waitlisted: int = 0
    cancelled: int = 0
    attended: int = 0
    confirmed_attended: int = 0

    @property
    def total(self) -> int:
        return self.confirmed + self.waitlisted + self.cancelled

    @property
    def active(self) -> int:
        return self.confirmed + self.waitlisted

    def absorb(self, other: "Tally") -> None:
        """Add another tally's numbers to this one."""
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def add(self, status: RegistrationStatus, count: int, attended: int) -> None:
        setattr(self, status.value, getattr(self, status.value) + count)
        self.attended += attended
        if status is RegistrationStatus.CONFIRMED:
            self.confirmed_attended += attended


@dataclass(frozen=True)
class NoShows:
    """Seats held at events that took place (confirmed registrations, and any cancelled since
    by someone who came), and how many of them nobody came for: ``expected - absent`` are the
    attended, as everywhere else (``Registration.has_attended``)."""

    expected: int = 0
    absent: int = 0

    @property
    def rate(self) -> float | None:
        return self.absent / self.expected if self.expected else None


@dataclass
class Statistics:
    totals: Tally
    per_day: list[tuple[date, int]]
    by_event: list[tuple[Event, Tally]]
    by_target_group: dict[TargetGroup, Tally]
    by_country: dict[str, Tally]
    no_shows: NoShows
    people: int
    network_opt_ins: int
    cancelled_by_reason: dict[CancelReason | None, int]
    # A multi-day event's days (in its zone) and how many people were checked in on each.
    attendance_by_day: list[tuple[date, int]] = field(default_factory=list)
    # The same for other dates: people checked in anyway on a day the event did not run.
    attendance_on_other_days: list[tuple[date, int]] = field(default_factory=list)


@dataclass
class Headcount:
    """People (not registrations): how many registered (kept a registration, or came), how many
    of them attended, and, apart, how many cancelled every registration and never came."""

    registered: int = 0
    attended: int = 0
    cancelled: int = 0

    def add(self, registered: int, attended: int, cancelled: int) -> None:
        self.registered += registered
        self.attended += attended
        self.cancelled += cancelled


@dataclass
class PeopleFigures:
    """The programme's people, each counted once, under the country, target group and type of
    organisation of their most recent registration that counts (see ``_people_rows``); and who
    attended each event, by country."""

    totals: Headcount
    by_country: dict[str, Headcount]
    by_target_group: dict[TargetGroup, Headcount]
    # Social-economy actors by type of organisation (None: they did not say).
    by_social_economy_type: dict[SocialEconomyType | None, Headcount]
    not_social_economy: Headcount  # everyone else
    # Events in programme order, each with the people who attended it by country.
    attended_by_event: list[tuple[Event, dict[str, int]]]

    @property
    def attending_countries(self) -> list[str]:
        """The countries of people who attended, most attendees first (the cross-table's)."""
        return [code for code, count in self.by_country.items() if count.attended]


def people_figures() -> PeopleFigures:
    """The whole programme's people, in two GROUP BY queries however many registrations."""
    read_snapshot()  # see event_statistics
    people = _people_rows().subquery()
    totals = Headcount()
    by_country: dict[str, Headcount] = defaultdict(Headcount)
    by_group = {group: Headcount() for group in TargetGroup}
    by_type: dict[SocialEconomyType | None, Headcount] = {
        kind: Headcount() for kind in SocialEconomyType
    }
    by_type[None] = Headcount()
    not_social_economy = Headcount()
    keys = (people.c.country, people.c.target_group, people.c.social_economy_type)
    query = (
        select(*keys, func.count(), func.sum(people.c.ever_held), func.sum(people.c.ever_attended))
        .where(people.c.latest == 1)
        .group_by(*keys)
    )
    for country, group, kind, everyone, registered, attended in db.session.execute(query):
        actor = kind is not None or group is TargetGroup.SOCIAL_ECONOMY
        by_kind = by_type[kind] if actor else not_social_economy
        for headcount in (totals, by_country[country], by_group[group], by_kind):
            headcount.add(registered or 0, attended or 0, everyone - (registered or 0))
    by_country_sorted = dict(
        sorted(
            by_country.items(),
            key=lambda item: (
                -item[1].attended,
                -item[1].registered,
                -item[1].cancelled,
                item[0],
            ),
        )
    )
    return PeopleFigures(
        totals=totals,
        by_country=by_country_sorted,
        by_target_group=by_group,
        by_social_economy_type=by_type,
        not_social_economy=not_social_economy,
        attended_by_event=_attended_by_event_and_country(people),
    )


def _person() -> tuple[ColumnElement, ColumnElement, ColumnElement]:
    """Who a registration's person is, as three columns of which exactly one is set: their
    address; once anonymised, the key shared by the sign-ups anonymised together; or, anonymised
    before there were keys, the registrant (each such sign-up a person apart)."""
    anonymised = Registrant.purged_at.is_not(None)
    return (
        case((Registrant.purged_at.is_(None), Registrant.email)),
        case((anonymised, Registrant.person_key)),
        case((and_(anonymised, Registrant.person_key.is_(None)), Registrant.id)),
    )


def _count_people(address, key, registrant) -> ColumnElement[int]:
    """Distinct people among rows carrying ``_person``'s three columns."""
    return (
        func.count(distinct(address)) + func.count(distinct(key)) + func.count(distinct(registrant))
    )


def _people_rows() -> Select:
    """Each registration with its person (``_person``); whether that person registered (kept a
    registration, a seat or a waiting-list place, or came even if it was cancelled since) and
    attended; and the country, target group and type of organisation of their most recent
    registration that counts (the most recent of all for someone who cancelled every one), as
    those details stand now."""
    address, key, registrant = _person()
    person = {"partition_by": (address, key, registrant)}
    held = case(
        (or_(Registration.status != RegistrationStatus.CANCELLED, HAS_ATTENDED), 1), else_=0
    )
    newest_first = {
        **person,
        "order_by": (held.desc(), Registration.created_at.desc(), Registration.id.desc()),
    }
    attended = case((HAS_ATTENDED, 1), else_=0)

    def latest(column):
        return func.first_value(column, type_=column.type).over(**newest_first)

    return _scoped(
        select(
            address.label("address"),
            key.label("person_key"),
            registrant.label("registrant"),
            Registration.event_id.label("event_id"),
            attended.label("attended"),
            func.max(held, type_=Integer).over(**person).label("ever_held"),
            func.max(attended, type_=Integer).over(**person).label("ever_attended"),
            func.row_number().over(**newest_first).label("latest"),
            latest(Registrant.country).label("country"),
            latest(Registrant.target_group).label("target_group"),
            latest(Registrant.social_economy_type).label("social_economy_type"),
        ),
        scope=None,
    )


def _attended_by_event_and_country(people: Subquery) -> list[tuple[Event, dict[str, int]]]:
    """People who attended each event, by the country they are counted under."""
    query = (
        select(
            people.c.event_id,
            people.c.country,
            _count_people(people.c.address, people.c.person_key, people.c.registrant),
        )
        .where(people.c.attended == 1)
        .group_by(people.c.event_id, people.c.country)
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for event_id, country, count in db.session.execute(query):
        counts[event_id][country] = count
    events = db.session.scalars(select(Event).order_by(Event.starts_at, Event.id))
    return [(event, counts.get(event.id, {})) for event in events]


def programme_statistics() -> Statistics:
    """The whole programme's numbers."""
    read_snapshot()  # see event_statistics
    events = list(db.session.scalars(select(Event).order_by(Event.starts_at, Event.id)))
    return _statistics(events, scope=None)


def event_statistics(event: Event) -> Statistics:
    """One event's numbers; a multi-day event's with its attendance day by day."""
    # Several statements, and a page shows several of these functions' figures: all are read
    # at one moment, so that a sign-up or a check-in meanwhile cannot make them disagree.
    read_snapshot()
    stats = _statistics([event], scope=Registration.event_id == event.id)
    stats.attendance_by_day = _attendance_by_day(event)
    if stats.attendance_by_day:
        stats.attendance_on_other_days = _attendance_on_other_days(event)
    return stats


def _statistics(events: list[Event], scope: ColumnElement[bool] | None) -> Statistics:
    by_event_id = _tallies(Registration.event_id, scope)
    by_event = [(event, by_event_id.get(event.id, Tally())) for event in events]
    totals = Tally()
    for _event, tally in by_event:
        totals.absorb(tally)
    by_target_group = _tallies(Registrant.target_group, scope)
    people, opt_ins = _people(scope)
    return Statistics(
        totals=totals,
        per_day=_per_day(scope),
        by_event=by_event,
        by_target_group={group: by_target_group.get(group, Tally()) for group in TargetGroup},
        by_country=_sorted_by_size(_tallies(Registrant.country, scope)),
        no_shows=_no_shows(by_event),
        people=people,
        network_opt_ins=opt_ins,
        cancelled_by_reason=_cancelled_by_reason(scope),
    )


def _scoped(query, scope: ColumnElement[bool] | None):
    query = query.select_from(Registration).join(Registration.registrant)
    return query if scope is None else query.where(scope)


def _tallies(key: ColumnElement, scope: ColumnElement[bool] | None) -> dict[Any, Tally]:
    """Registrations by ``key`` and status, with attendance, in one GROUP BY query."""
    attended = func.sum(case((HAS_ATTENDED, 1), else_=0))
    query = _scoped(select(key, Registration.status, func.count(), attended), scope)
    tallies: dict[Any, Tally] = defaultdict(Tally)
    for value, status, count, attended_count in db.session.execute(
        query.group_by(key, Registration.status)
    ):
        tallies[value].add(status, count, attended_count or 0)
    return dict(tallies)


def _per_day(scope: ColumnElement[bool] | None) -> list[tuple[date, int]]:
    """Registrations made each day (UTC), from the first to the last, quiet days included."""
    day = func.date(Registration.created_at, type_=Date)
    query = _scoped(select(day, func.count()), scope).group_by(day).order_by(day)
    counts = dict(db.session.execute(query).all())
    if not counts:
        return []
    first, last = min(counts), max(counts)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [(d, counts.get(d, 0)) for d in days]


def _people(scope: ColumnElement[bool] | None) -> tuple[int, int]:
    """Distinct people who signed up (``_person``), and how many joined the network."""
    opted_in = case((Registrant.network_opt_in, Registrant.email))
    query = _scoped(select(_count_people(*_person()), func.count(distinct(opted_in))), scope)
    people, opt_ins = db.session.execute(query).one()
    return people, opt_ins


def _cancelled_by_reason(scope: ColumnElement[bool] | None) -> dict[CancelReason | None, int]:
    """Cancelled registrations by why (None: cancelled before reasons were recorded)."""
    query = _scoped(select(Registration.cancel_reason, func.count()), scope)
    counts = dict(
        db.session.execute(
            query.where(Registration.status == RegistrationStatus.CANCELLED).group_by(
                Registration.cancel_reason
            )
        ).all()
    )
    order = [*CancelReason, None]
    return {reason: counts[reason] for reason in order if counts.get(reason)}


def _no_shows(by_event: list[tuple[Event, Tally]]) -> NoShows:
    """Among seats held at events that have ended (and were not called off), see NoShows."""
    now = utcnow()
    held = [
        tally
        for event, tally in by_event
        if event.ends_at <= now and event.status is not EventStatus.CANCELLED
    ]
    absent = sum(tally.confirmed - tally.confirmed_attended for tally in held)
    return NoShows(absent + sum(tally.attended for tally in held), absent)


def _sorted_by_size(tallies: dict[Any, Tally]) -> dict[Any, Tally]:
    """Largest first, as the chart draws them (active registrations), then by key."""
    return dict(
        sorted(tallies.items(), key=lambda item: (-item[1].active, -item[1].total, item[0]))
    )


def _attendance_by_day(event: Event) -> list[tuple[date, int]]:
    """People checked in on each day of a multi-day event's agenda (none for other events)."""
    if not event.is_multi_day:
        return []
    query = (
        select(DayCheckIn.day, func.count())
        .join(DayCheckIn.registration)
        .where(Registration.event_id == event.id)
        .group_by(DayCheckIn.day)
    )
    counts = dict(db.session.execute(query).all())
    return [(day, counts.get(day, 0)) for day in event.local_dates]


def _attendance_on_other_days(event: Event) -> list[tuple[date, int]]:
    """People checked in on dates that are not days of the event (checked in anyway)."""
    query = (
        select(DayCheckIn.day, func.count())
        .join(DayCheckIn.registration)
        .where(Registration.event_id == event.id, DayCheckIn.day.not_in(event.local_dates))
        .group_by(DayCheckIn.day)
        .order_by(DayCheckIn.day)
    )
    return [(day, count) for day, count in db.session.execute(query)]
