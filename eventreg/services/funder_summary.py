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
    """People registered and attended, split one way (by country, say)."""

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


def counting_note() -> str:
    """How the people are counted, for the page's hint and the CSV's last line."""
    return _(
        "Each person is counted once: each e-mail address, and each anonymised person apart. "
        "Someone who signed up more than once with a different country, target group or type "
        "of organisation is counted under their most recent registration. People registered "
        "include those who later cancelled; people who attended were checked in at the door or "
        "joined online, at one event or more."
    )


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

    counted = (_("People registered"), _("People who attended"))
    write(_("People (each counted once)"), *counted)
    write(_("Total"), figures.totals.registered, figures.totals.attended)
    for table in people_tables(figures):
        write()
        write(table.title)
        write(table.heading, *counted)
        for label, headcount in table.rows:
            write(label, headcount.registered, headcount.attended)
        write(_("Total"), figures.totals.registered, figures.totals.attended)
    cross = cross_table(figures)
    write()
    write(_("People who attended, by event and country"))
    write(_("Event"), *cross.countries, _("Total"))
    for row in cross.rows:
        write(row.label, *row.counts, row.total)
    write(_("At least one event"), *cross.at_least_one, cross.total)
    write()
    write(counting_note())
    return buffer.getvalue().encode("utf-8")
