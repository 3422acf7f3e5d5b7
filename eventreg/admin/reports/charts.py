"""The statistics pages' charts and tables: geometry that the templates draw as inline SVG.

No script. Labels and numbers are HTML, so they wrap and stay legible on a phone; only the bars
are SVG, stretched to the width of their box. Every chart has a table of its numbers below.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask import url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from ...choices import TARGET_GROUP_LABELS, country_name
from ...formatting import local_title
from ...services.statistics import Statistics, Tally

DAY_CHART_WIDTH, DAY_CHART_HEIGHT = 640, 220
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 40, 24, 12, 28
MAX_DATE_TICKS = 6

SERIES = ("confirmed", "waitlisted")  # stacked in this order; CSS gives each its colour


@dataclass(frozen=True)
class Segment:
    """Part of a stacked bar, in registrations: it starts at ``x`` and is ``value`` long."""

    series: str
    x: int
    value: int


@dataclass(frozen=True)
class Bar:
    label: str
    tally: Tally
    segments: list[Segment]

    @property
    def value(self) -> int:
        return self.tally.active


@dataclass(frozen=True)
class BarChart:
    """Bars measured in registrations; each is drawn in an SVG ``extent`` units wide."""

    extent: int
    bars: list[Bar]


@dataclass(frozen=True)
class Column:
    day: date
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class DayChart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    baseline: float
    columns: list[Column]
    value_ticks: list[Tick]
    date_ticks: list[Tick]

    @property
    def peak(self) -> int:
        return max((column.value for column in self.columns), default=0)


@dataclass(frozen=True)
class BreakdownRow:
    label: str
    tally: Tally
    href: str | None = None
    lang: str | None = None  # the label's language when it is not the page's (an English title)


@dataclass(frozen=True)
class Breakdown:
    """Registrations split one way (by target group, say): a chart and a table of the numbers."""

    key: str
    title: str
    heading: str
    rows: list[BreakdownRow]

    @property
    def chart(self) -> BarChart:
        return stacked_bars([(row.label, row.tally) for row in self.rows])


def breakdowns(stats: Statistics, *, per_event: bool) -> list[Breakdown]:
    """The page's breakdowns in reading order; by event only for the whole programme."""
    shown = [
        Breakdown(
            "target-group",
            _("By target group"),
            _("Target group"),
            [
                BreakdownRow(str(TARGET_GROUP_LABELS[g]), t)
                for g, t in stats.by_target_group.items()
            ],
        ),
        Breakdown(
            "country",
            _("By country"),
            _("Country"),
            [BreakdownRow(country_name(code), t) for code, t in stats.by_country.items()],
        ),
    ]
    if per_event:
        locale = str(get_locale())
        rows = [
            BreakdownRow(
                local_title(e),
                t,
                url_for("admin.reports.event_statistics", slug=e.slug),
                None if e.language_of("title", locale) == locale else "en",
            )
            for e, t in stats.by_event
        ]
        shown.insert(0, Breakdown("event", _("By event"), _("Event"), rows))
    return shown


def stacked_bars(rows: Sequence[tuple[str, Tally]]) -> BarChart:
    """One bar of active registrations per row, confirmed then waiting, on a common scale."""
    bars = [Bar(label, tally, _segments(tally)) for label, tally in rows]
    return BarChart(max((bar.value for bar in bars), default=0) or 1, bars)


def day_columns(per_day: Sequence[tuple[date, int]]) -> DayChart:
    """One column per day, on an axis that ends at a round number."""
    top = nice_ceiling(max((count for _day, count in per_day), default=0))
    plot_width = DAY_CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_height = DAY_CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    baseline = PLOT_TOP + plot_height
    pitch = plot_width / max(len(per_day), 1)
    gap = min(pitch * 0.2, 4)
    columns = [
        Column(
            day=day,
            value=count,
            x=PLOT_LEFT + i * pitch + gap / 2,
            y=baseline - count / top * plot_height,
            width=pitch - gap,
            height=count / top * plot_height,
        )
        for i, (day, count) in enumerate(per_day)
    ]
    value_ticks = [
        Tick(baseline - value / top * plot_height, str(value)) for value in _value_ticks(top)
    ]
    date_ticks = [
        Tick(PLOT_LEFT + (i + 0.5) * pitch, format_date(per_day[i][0], "d MMM"))
        for i in _spread(len(per_day), MAX_DATE_TICKS)
    ]
    return DayChart(
        DAY_CHART_WIDTH,
        DAY_CHART_HEIGHT,
        PLOT_LEFT,
        DAY_CHART_WIDTH - PLOT_RIGHT,
        baseline,
        columns,
        value_ticks,
        date_ticks,
    )


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50 ... that is at least ``value`` (and at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _segments(tally: Tally) -> list[Segment]:
    segments, x = [], 0
    for series in SERIES:
        value = getattr(tally, series)
        if value:
            segments.append(Segment(series, x, value))
            x += value
    return segments


def _value_ticks(top: int) -> list[int]:
    return [0, top // 2, top] if top % 2 == 0 else [0, top]


def _spread(count: int, most: int) -> list[int]:
    """Up to ``most`` indexes spread evenly over ``count`` items, first and last included."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})
