"""The funder's summary: people, each counted once, by country, target group and type of
organisation, and who attended each event by country; as the page shows it and as CSV."""

import csv
import io
from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import gettext as _

from ..choices import SOCIAL_ECONOMY_TYPE_LABELS, TARGET_GROUP_LABELS, country_name
from ..formatting import local_title
from .exports import neutralise
from .statistics import Headcount, PeopleFigures


@dataclass(frozen=True)
class PeopleTable:
    """People registered, attended and who cancelled everything, split one way (by country)."""

    key: str
    title: str
    heading: str
    rows: list[tuple[str, Headcount]]


@dataclass(frozen=True)
class EventRow:
    label: str
    counts: list[int]  # one per country of the cross-table, in its order
    lang: str | None = None  # the title's language when it is not the page's (English)

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class CrossTable:
    """People who attended each event, by country; the footer: at least one event."""

    countries: list[str]  # names, in the reader's language
    rows: list[EventRow]
    at_least_one: list[int]
    total: int


def people_columns() -> tuple[str, str, str]:
    """The three people figures' names, the same on the page and in the CSV."""
    return (
        _("People registered (kept a place or a waiting-list place)"),
        _("People who attended (checked in or joined online)"),
        _("People who cancelled every registration"),
    )


def counting_notes() -> list[str]:
    """Exactly how the people are counted: the page's hints and the CSV's first lines."""
    return [
        _(
            "Each person is counted once: one e-mail address is one person. Once their data is "
            "erased or anonymised the address is gone, and the sign-ups anonymised together "
            "still count as one person (sign-ups anonymised by an earlier version of this "
            "service count as one person each)."
        ),
        _(
            "People registered kept at least one registration that was not cancelled (a place, "
            "or a place on the waiting list), or came. People who attended were checked in at "
            "the door on at least one day or joined online, at one event or more; they are "
            "among the people registered."
        ),
        _(
            "People who cancelled every registration (they withdrew, had their data erased, or "
            "their event was called off) and never came are counted apart, not among the people "
            "registered."
        ),
        _(
            "Each person is counted under the country, target group and type of organisation "
            "given with their most recent registration that was not cancelled or that they "
            "attended, as those details stand now; someone who cancelled every registration, "
            "under their most recent registration."
        ),
    ]


def people_tables(figures: PeopleFigures) -> list[PeopleTable]:
    """The people breakdowns in reading order, labelled in the reader's language."""
    kinds = [
        (str(SOCIAL_ECONOMY_TYPE_LABELS[k]), n)
        for k, n in figures.by_social_economy_type.items()
        if k
    ]
    return [
        PeopleTable(
            "people-country",
            _("People by country"),
            _("Country"),
            [(country_name(code), n) for code, n in figures.by_country.items()],
        ),
        PeopleTable(
            "people-target-group",
            _("People by target group"),
            _("Target group"),
            [(str(TARGET_GROUP_LABELS[g]), n) for g, n in figures.by_target_group.items()],
        ),
        PeopleTable(
            "people-organisation-type",
            _("People by type of social-economy organisation"),
            _("Type of social-economy organisation"),
            [
                *kinds,
                (_("Social-economy actor, type not given"), figures.by_social_economy_type[None]),
                (_("Not a social-economy actor"), figures.not_social_economy),
            ],
        ),
    ]


def cross_table(figures: PeopleFigures) -> CrossTable:
    """The event × country table of attendance, countries as in the people by country."""
    codes = figures.attending_countries
    locale = str(get_locale())
    rows = [
        EventRow(
            local_title(event),
            [counts.get(code, 0) for code in codes],
            None if event.language_of("title", locale) == locale else "en",
        )
        for event, counts in figures.attended_by_event
    ]
    return CrossTable(
        [country_name(code) for code in codes],
        rows,
        [figures.by_country[code].attended for code in codes],
        figures.totals.attended,
    )


def summary_csv(figures: PeopleFigures) -> bytes:
    """The page's people figures as CSV: UTF-8 with a BOM, every field quoted, formula-safe."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)

    def write(*cells) -> None:
        writer.writerow([neutralise(c) if isinstance(c, str) else c for c in cells])

    def counts(headcount: Headcount) -> tuple[int, int, int]:
        return headcount.registered, headcount.attended, headcount.cancelled

    for note in counting_notes():
        write(note)
    write()
    write(_("People (each counted once)"), *people_columns())
    write(_("Total"), *counts(figures.totals))
    for table in people_tables(figures):
        write()
        write(table.title)
        write(table.heading, *people_columns())
        for label, headcount in table.rows:
            write(label, *counts(headcount))
        write(_("Total"), *counts(figures.totals))
    cross = cross_table(figures)
    write()
    write(_("People who attended, by event and country"))
    write(_("Event"), *cross.countries, _("Total"))
    for row in cross.rows:
        write(row.label, *row.counts, row.total)
    write(_("At least one event"), *cross.at_least_one, cross.total)
    return buffer.getvalue().encode("utf-8")
