"""The printable sign-in sheet that EU-funded events keep: each confirmed person signs a box.

Landscape A4, drawn row by row with ReportLab's canvas: every row has the same height, so the
page count is known up front and 50,000 rows cost no table layout. The header and the table's
rules are drawn on every page, so the last page ends in blank rows for walk-ins.
"""

import logging
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from math import ceil
from typing import IO

from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import Row, func, select

from ..choices import TARGET_GROUP_LABELS, country_name
from ..database import read_snapshot, streamed
from ..extensions import db
from ..formatting import datetime_in, event_when, local_title
from ..models import Event, Registrant, Registration, RegistrationStatus, utcnow
from .calendar import place
from .exports import BATCH_SIZE, CHUNK_SIZE
from .tickets import FONT_DIR

log = logging.getLogger(__name__)

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
MARGIN = 12 * mm
TITLE_BLOCK = 24 * mm  # kicker, event title, date and place
HEAD_ROW = 8 * mm
ROW = 10 * mm  # room to sign
FOOTER = 8 * mm
ROWS_PER_PAGE = int((PAGE_HEIGHT - 2 * MARGIN - TITLE_BLOCK - HEAD_ROW - FOOTER) // ROW)
TEXT_SIZE = 9.5
LEADING = 11
PADDING = 2 * mm
INK = (0.1, 0.12, 0.14)
MUTED = (0.3, 0.33, 0.38)
RULE = (0.45, 0.48, 0.52)
SHADE = (0.92, 0.93, 0.95)


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str


@dataclass(frozen=True)
class Column:
    title: str
    width: float


@dataclass(frozen=True)
class Heading:
    """What the sheet says about its event, read while the request's session holds it: the
    chunks are written after that session ended, when the event's days could not be loaded."""

    title: str
    when: str
    where: str
    columns: list[Column]
    printed_at: str

    @classmethod
    def of(cls, event: Event) -> "Heading":
        return cls(
            title=local_title(event),
            when=event_when(event),
            where=" · ".join(part for part in (place(event), event.host_partner) if part),
            columns=_columns(event),
            printed_at=datetime_in(utcnow(), event.timezone),
        )


def sign_in_sheet(event: Event) -> Iterator[bytes]:
    """The event's sign-in sheet as PDF bytes, in chunks; built in a temporary file.

    The people are counted (for "Page 1 of N") and listed at one moment (read_snapshot)."""
    read_snapshot()
    return _chunks(Heading.of(event), event.id, _confirmed_count(event))


def _chunks(heading: Heading, event_id: int, confirmed: int) -> Iterator[bytes]:
    with tempfile.TemporaryFile() as file:
        _draw(file, heading, _signer_rows(event_id), confirmed)
        file.seek(0)
        while chunk := file.read(CHUNK_SIZE):
            yield chunk


@cache
def fonts() -> Fonts:
    """DejaVu Sans (Cyrillic, æ, ø, å, ç ...) registered with ReportLab; Helvetica without it."""
    try:
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    except TTFError:  # also what ReportLab raises for a missing file
        log.warning("DejaVu Sans not found (install fonts-dejavu-core): non-Latin names are lost")
        return Fonts("Helvetica", "Helvetica-Bold")
    return Fonts("DejaVuSans", "DejaVuSans-Bold")


def _confirmed_count(event: Event) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == event.id, Registration.status == RegistrationStatus.CONFIRMED
        )
    )


def _signer_rows(event_id: int) -> Iterator[Row]:
    """Confirmed registrants of the event by last name, fetched in batches."""
    query = (
        select(
            Registrant.first_name,
            Registrant.last_name,
            Registrant.organisation,
            Registrant.country,
            Registrant.target_group,
        )
        .select_from(Registration)
        .join(Registration.registrant)
        .where(
            Registration.event_id == event_id, Registration.status == RegistrationStatus.CONFIRMED
        )
        .order_by(
            func.lower(Registrant.last_name), func.lower(Registrant.first_name), Registration.id
        )
    )
    yield from streamed(query, BATCH_SIZE)


def _cells(number: int, row: Row, signatures: int) -> list[str]:
    return [
        str(number),
        f"{row.last_name}, {row.first_name}",  # as sorted, so a name is found at a glance
        row.organisation,
        country_name(row.country),
        str(TARGET_GROUP_LABELS[row.target_group]),
        *[""] * signatures,
    ]


def _columns(event: Event) -> list[Column]:
    """The person's columns, then a signature box for each day the event runs."""
    days = event.days if event.is_multi_day else []
    widths = (11, 52, 50, 26, 34) if days else (11, 58, 66, 30, 44)
    titles = (_("No."), _("Name"), _("Organisation"), _("Country"), _("Target group"))
    fixed = [Column(title, width * mm) for title, width in zip(titles, widths, strict=True)]
    room = PAGE_WIDTH - 2 * MARGIN - sum(column.width for column in fixed)
    if not days:
        return [*fixed, Column(_("Signature"), room)]
    locale = get_locale()
    return fixed + [
        Column(
            _(
                "Signature %(day)s",
                day=format_skeleton("MMMEd", day.local_starts_at, locale=locale),
            ),
            room / len(days),
        )
        for day in days
    ]


def _draw(file: IO[bytes], heading: Heading, rows: Iterable[Row], confirmed: int) -> None:
    sheet = _Sheet(file, heading, pages=max(1, ceil(confirmed / ROWS_PER_PAGE)))
    signatures = len(sheet.columns) - 5
    for number, row in enumerate(rows, start=1):
        sheet.add_row(_cells(number, row, signatures))
    sheet.close()


class _Sheet:
    """A canvas that starts a new page, with its header, whenever the current one is full."""

    def __init__(self, file: IO[bytes], heading: Heading, pages: int):
        # The document's language and title in its metadata, as the reader's (PDF/UA, WCAG 3.1.1).
        language = str(get_locale())
        self.heading = heading
        self.title = heading.title
        self.canvas = Canvas(
            file, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1, lang=language
        )
        self.canvas.setTitle(f"{_('Sign-in sheet')}: {self.title}")
        self.canvas.setViewerPreference("DisplayDocTitle", "true")
        self.canvas.setSubject(_("Sign-in sheet"))
        self.canvas.setCreator("eventreg")
        self.fonts = fonts()
        self.columns = heading.columns
        self.pages = pages
        self.page = 0
        self.rows_on_page = ROWS_PER_PAGE
        self.printed_at = heading.printed_at

    def add_row(self, cells: list[str]) -> None:
        if self.rows_on_page == ROWS_PER_PAGE:
            self._start_page()
        top = self._table_top() - HEAD_ROW - self.rows_on_page * ROW
        self._draw_row(top, ROW, cells, self.fonts.regular)
        self.rows_on_page += 1

    def close(self) -> None:
        """Finish the document; the last page's empty rows are left for walk-ins."""
        if self.page == 0:
            self._start_page()
        self.canvas.showPage()
        self.canvas.save()

    def _start_page(self) -> None:
        if self.page:
            self.canvas.showPage()
        self.page += 1
        self.rows_on_page = 0
        self._draw_title()
        self._draw_head_row()
        self._draw_grid()
        self._draw_footer()

    def _table_top(self) -> float:
        return PAGE_HEIGHT - MARGIN - TITLE_BLOCK

    def _draw_title(self) -> None:
        c, top = self.canvas, PAGE_HEIGHT - MARGIN
        c.setFillColorRGB(*MUTED)
        c.setFont(self.fonts.bold, 8.5)
        c.drawString(MARGIN, top - 3 * mm, _("Sign-in sheet").upper())
        c.setFillColorRGB(*INK)
        c.setFont(self.fonts.bold, 15)
        c.drawString(MARGIN, top - 10 * mm, _fit(self.title, self.fonts.bold, 15, self._width()))
        c.setFont(self.fonts.regular, 10)
        when, where = self.heading.when, self.heading.where
        c.drawString(MARGIN, top - 15.5 * mm, _fit(when, self.fonts.regular, 10, self._width()))
        c.drawString(MARGIN, top - 20.5 * mm, _fit(where, self.fonts.regular, 10, self._width()))

    def _draw_head_row(self) -> None:
        top = self._table_top()
        self.canvas.setFillColorRGB(*SHADE)
        self.canvas.rect(MARGIN, top - HEAD_ROW, self._width(), HEAD_ROW, stroke=0, fill=1)
        self._draw_row(top, HEAD_ROW, [column.title for column in self.columns], self.fonts.bold)

    def _draw_footer(self) -> None:
        c, y = self.canvas, MARGIN
        c.setFillColorRGB(*MUTED)
        c.setFont(self.fonts.regular, 8.5)
        printed = _("Printed %(moment)s", moment=self.printed_at)
        pages = _("Page %(page)d of %(pages)d", page=self.page, pages=self.pages)
        c.drawRightString(PAGE_WIDTH - MARGIN, y, pages)
        # Only the title gives way to a long line: the print time and page number stay whole.
        room = self._width() - pdfmetrics.stringWidth(pages, self.fonts.regular, 8.5) - 6 * mm
        room -= pdfmetrics.stringWidth(f"{printed} · ", self.fonts.regular, 8.5)
        title = _fit(self.title, self.fonts.regular, 8.5, max(room, 0))
        c.drawString(MARGIN, y, f"{printed} · {title}")

    def _draw_grid(self) -> None:
        """The table's rules, drawn once per page: every page is filled, blank rows included."""
        c, top = self.canvas, self._table_top()
        bottom = top - HEAD_ROW - ROWS_PER_PAGE * ROW
        c.setStrokeColorRGB(*RULE)
        c.setLineWidth(0.6)
        x = MARGIN
        for column in self.columns:
            c.line(x, top, x, bottom)
            x += column.width
        c.line(x, top, x, bottom)
        for y in (top, top - HEAD_ROW, *(bottom + n * ROW for n in range(ROWS_PER_PAGE))):
            c.line(MARGIN, y, x, y)

    def _draw_row(self, top: float, height: float, cells: list[str], font: str) -> None:
        """Each cell's text, on up to two lines, centred in the row's height."""
        c, x = self.canvas, MARGIN
        c.setFillColorRGB(*INK)
        c.setFont(font, TEXT_SIZE)
        for column, text in zip(self.columns, cells, strict=True):
            lines = _wrap(text, font, column.width - 2 * PADDING, max_lines=2)
            baseline = top - height / 2 + (len(lines) - 1) * LEADING / 2 - TEXT_SIZE / 3
            for index, line in enumerate(lines):
                c.drawString(x + PADDING, baseline - index * LEADING, line)
            x += column.width

    def _width(self) -> float:
        return PAGE_WIDTH - 2 * MARGIN


def _wrap(text: str, font: str, width: float, max_lines: int) -> list[str]:
    """Lines of ``text`` that fit ``width``; the last one cut with an ellipsis if need be."""
    if pdfmetrics.stringWidth(text, font, TEXT_SIZE) <= width:
        return [text] if text else []
    lines = simpleSplit(text, font, TEXT_SIZE, width)
    if len(lines) <= max_lines:
        return lines
    kept = lines[: max_lines - 1]
    rest = " ".join(lines[max_lines - 1 :])
    return [*kept, _fit(rest, font, TEXT_SIZE, width)]


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis so that it fits ``width`` on one line."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"
