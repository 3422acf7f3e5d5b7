"""Attendance exports: CSV, XLSX and the PDF sign-in sheet, who may fetch them, and their cost."""

import csv
import io
import zipfile
from datetime import datetime
from xml.etree import ElementTree

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from pypdf import PdfReader

from eventreg.extensions import db
from eventreg.models import Registrant, Registration, RegistrationStatus, TargetGroup, utcnow
from eventreg.services import registrations, sign_in_sheet
from eventreg.services.exports import FORMULA_TRIGGERS, HEADER
from eventreg.services.sign_in_sheet import ROWS_PER_PAGE
from eventreg.services.spreadsheet import write_sheet

SLUG = "mission-gabrovo"
FORMULAS = ['=HYPERLINK("http://evil","x")', "+1", "-2", "@SUM(A1)"]


@pytest.fixture
def event(make_event):
    return make_event(slug=SLUG, title="Study mission to Gabrovo", city="Gabrovo", capacity=3)


@pytest.fixture
def organiser(client, auth, make_user):
    make_user("organiser")
    auth.login("organiser@example.org")
    return client


def parse_csv(response) -> list[dict]:
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def sheet_rows(response) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(response.data))
    return list(workbook["Attendees"].iter_rows(values_only=True))


def pdf_pages(response) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages]


def test_csv_has_a_bom_every_registration_and_every_column(organiser, event, sign_up):
    ana = sign_up(event, first_name="Ana", last_name="Silva", country="PT", network_opt_in=True)
    for _ in range(3):
        sign_up(event)  # the last one waits
    registrations.cancel(sign_up(event).registrations[0])

    response = organiser.get(f"/admin/events/{SLUG}/attendees.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith(
        f"attachment; filename={SLUG}-attendees-"
    )
    assert response.headers["Cache-Control"] == "no-store"
    rows = parse_csv(response)
    assert tuple(rows[0]) == HEADER
    assert len(rows) == 5
    assert sorted(row["status"] for row in rows) == [
        "cancelled",
        "confirmed",
        "confirmed",
        "confirmed",
        "waitlisted",
    ]
    (row,) = [row for row in rows if row["email"] == ana.email]
    registration = ana.registrations[0]
    assert row["reference"] == registration.reference
    assert (row["event"], row["event_title"]) == (SLUG, "Study mission to Gabrovo")
    assert (row["first_name"], row["last_name"], row["country"]) == ("Ana", "Silva", "PT")
    assert (row["target_group"], row["network_opt_in"], row["attended"]) == (
        "social_economy",
        "yes",
        "no",
    )
    expected_time = registration.created_at.replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    assert row["registered_at_utc"] == expected_time
    assert row["cancelled_at_utc"] == "" and row["needs"] == ""


def test_csv_keeps_names_in_every_script(organiser, event, sign_up):
    sign_up(event, first_name="Иван", last_name="Петров", country="BG")
    sign_up(event, first_name="Søren", last_name="Æbelø", country="DK")
    rows = parse_csv(organiser.get(f"/admin/events/{SLUG}/attendees.csv"))
    names = {f"{row['first_name']} {row['last_name']}" for row in rows}
    assert names == {"Иван Петров", "Søren Æbelø"}


def test_formulas_in_names_stay_text_in_csv(organiser, event, sign_up):
    for formula in FORMULAS:
        sign_up(event, first_name=formula, organisation=formula)
    rows = parse_csv(organiser.get(f"/admin/events/{SLUG}/attendees.csv"))
    assert sorted(row["first_name"] for row in rows) == sorted(f"'{f}" for f in FORMULAS)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_xlsx_holds_the_same_rows_and_keeps_formulas_as_text(organiser, event, sign_up):
    sign_up(event, first_name="João", last_name="Conceição", country="PT")
    for formula in FORMULAS:
        sign_up(event, first_name=formula)
    csv_rows = parse_csv(organiser.get(f"/admin/events/{SLUG}/attendees.csv"))

    response = organiser.get(f"/admin/events/{SLUG}/attendees.xlsx")

    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    header, *rows = sheet_rows(response)
    assert header == HEADER
    assert len(rows) == len(csv_rows) == 5
    by_email = {row[HEADER.index("email")]: dict(zip(HEADER, row, strict=True)) for row in rows}
    for expected in csv_rows:
        got = by_email[expected["email"]]
        assert got["first_name"] == expected["first_name"].removeprefix("'")
        assert got["registered_at_utc"].isoformat() + "Z" == expected["registered_at_utc"]
        assert (got["status"], got["country"]) == (expected["status"], expected["country"])
    workbook = load_workbook(io.BytesIO(response.data))
    first_names = [row[HEADER.index("first_name")] for row in workbook["Attendees"].iter_rows()]
    formula_cells = [cell for cell in first_names if cell.value in FORMULAS]
    assert len(formula_cells) == 4
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in formula_cells)


def test_xlsx_is_a_frozen_filtered_sheet_that_keeps_every_character_of_the_text(
    organiser, event, sign_up
):
    sign_up(event, organisation='  Ana & <Sons> "Ltd"  ', needs="Ramp\x07 please")
    sign_up(event)

    workbook = load_workbook(io.BytesIO(organiser.get(f"/admin/events/{SLUG}/attendees.xlsx").data))

    sheet = workbook["Attendees"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:V{1 + 2}"
    assert sheet.column_dimensions["G"].width == 30  # the e-mail column is wider
    assert all(cell.font.b for cell in sheet[1])
    rows = {row[HEADER.index("needs")]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    ana = rows["Ramp please"]  # a control character XML cannot hold is left out
    assert ana[HEADER.index("organisation")] == '  Ana & <Sons> "Ltd"  '
    assert isinstance(ana[HEADER.index("registered_at_utc")], datetime)
    assert ana[HEADER.index("cancelled_at_utc")] is None


MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
# Text as written, as read back, and whether it keeps Excel's quote prefix (never a formula).
TEXTS = [
    ("plain", "plain", False),
    ("  leading spaces", "  leading spaces", False),
    ("trailing space ", "trailing space ", False),
    ("=1+2", "=1+2", True),
    ("+1", "+1", True),
    ("-2", "-2", True),
    ("@SUM(A1)", "@SUM(A1)", True),
    ("\tTab", "\tTab", True),
    ("\rCR", "\rCR", True),
    ("line\r\nends", "line\r\nends", False),
    ("Ramp\x07 please", "Ramp please", False),  # control characters XML cannot hold go
    ("\x01=1+2", "=1+2", True),  # starts like a formula once cleaned
    ("non\ufffecharacter\uffff", "noncharacter", False),
    ('Ana & <Sons> "Ltd"', 'Ana & <Sons> "Ltd"', False),
    ("Иван Æbelø", "Иван Æbelø", False),
]


@pytest.mark.parametrize("neighbour", ["clean", "needs & care"], ids=["as-is", "careful"])
def test_xlsx_text_reads_back_exactly_whether_its_row_is_written_as_is_or_carefully(neighbour):
    """A row whose text needs no escaping or cleaning is written as it is; else cell by cell."""
    header = ("text", "neighbour", "when", "count", "flag", "empty")
    when = datetime(2026, 5, 4, 3, 2, 1)
    rows = [(text, neighbour, when, 7, True, None) for text, _read, _quoted in TEXTS]
    file = io.BytesIO()
    write_sheet(file, "Sheet 'one'", header, rows, widths=[18] * 6, quote_prefixes=FORMULA_TRIGGERS)

    sheet = load_workbook(file)["Sheet 'one'"]

    assert [cell.value for cell in sheet[1]] == list(header)
    cells = list(sheet.iter_rows(min_row=2))
    assert len(cells) == len(TEXTS)
    for (text, read, quoted), row in zip(TEXTS, cells, strict=True):
        cell, other, date, count, flag, empty = row
        assert (cell.value, cell.data_type, bool(cell.quotePrefix)) == (read, "s", quoted), text
        assert other.value == neighbour and not other.quotePrefix
        assert date.is_date and date.value == when
        assert (count.value, flag.value, empty.value) == (7, True, None)
    # Excel trims a cell's leading and trailing spaces unless told to keep them.
    xml = ElementTree.fromstring(zipfile.ZipFile(file).read("xl/worksheets/sheet1.xml"))
    _header_row, *data_rows = xml.iterfind(f"{MAIN}sheetData/{MAIN}row")
    texts = [row.find(f"{MAIN}c/{MAIN}is/{MAIN}t") for row in data_rows]
    kept = [text.get(XML_SPACE) == "preserve" for text in texts]
    assert kept == [read != read.strip() for _text, read, _quoted in TEXTS]


def test_pdf_sign_in_sheet_lists_confirmed_people_in_their_own_letters(organiser, event, sign_up):
    sign_up(event, first_name="Иван", last_name="Петров", country="BG")
    sign_up(event, first_name="Søren", last_name="Æbelø", country="DK")
    sign_up(event, first_name="João", last_name="Conceição", country="PT")
    sign_up(event, first_name="Wanda", last_name="Waiting")  # on the waiting list

    response = organiser.get(f"/admin/events/{SLUG}/attendees.pdf")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "sign-in-sheet" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    (page,) = reader.pages
    assert page.mediabox.width > page.mediabox.height  # landscape
    assert (round(page.mediabox.width), round(page.mediabox.height)) == (842, 595)
    text = page.extract_text()
    for expected in ("Петров, Иван", "Æbelø, Søren", "Conceição, João", "Study mission to Gabrovo"):
        assert expected in text
    for heading in ("No.", "Name", "Organisation", "Country", "Target group", "Signature"):
        assert heading in text
    assert "Bulgaria" in text and "Social economy actor" in text
    assert "Wanda" not in text
    assert "Page 1 of 1" in text


def test_pdf_repeats_its_header_on_every_page(organiser, make_event, sign_up):
    event = make_event(slug=SLUG, capacity=None)
    for _ in range(ROWS_PER_PAGE + 1):
        sign_up(event)
    pages = pdf_pages(organiser.get(f"/admin/events/{SLUG}/attendees.pdf"))
    assert len(pages) == 2
    for number, text in enumerate(pages, start=1):
        assert "Signature" in text and event.title in text
        assert f"Page {number} of 2" in text
    assert f"{ROWS_PER_PAGE + 1}" in pages[1]


def test_the_sheets_count_and_its_rows_are_read_at_one_moment(
    app, organiser, make_event, sign_up, monkeypatch
):
    """Someone signs up between the count (for "Page 1 of N") and the rows: the sheet is the
    moment of the count, not one with a page its numbering does not know."""
    event = make_event(slug=SLUG, capacity=None)
    for _ in range(ROWS_PER_PAGE):
        sign_up(event)
    count = sign_in_sheet._confirmed_count

    def then_someone_signs_up(counted_event):
        counted = count(counted_event)
        with app.app_context():
            sign_up(db.session.get(type(event), event.id), last_name="Zuletzt")
            db.session.remove()
        return counted

    monkeypatch.setattr(sign_in_sheet, "_confirmed_count", then_someone_signs_up)

    (text,) = pdf_pages(organiser.get(f"/admin/events/{SLUG}/attendees.pdf"))

    assert "Page 1 of 1" in text and "Zuletzt" not in text


def test_an_empty_event_still_prints_a_blank_sheet(organiser, event):
    (text,) = pdf_pages(organiser.get(f"/admin/events/{SLUG}/attendees.pdf"))
    assert "Signature" in text and "Page 1 of 1" in text


def test_programme_exports_cover_every_event(organiser, event, make_event, sign_up):
    other = make_event(title="Webinar on social clauses")
    sign_up(event, other)
    sign_up(other)
    rows = parse_csv(organiser.get("/admin/attendees.csv"))
    assert sorted(row["event"] for row in rows) == sorted([SLUG, other.slug, other.slug])
    _header, *sheet = sheet_rows(organiser.get("/admin/attendees.xlsx"))
    assert len(sheet) == 3


def test_unknown_event_is_404(organiser):
    assert organiser.get("/admin/events/nope/attendees.csv").status_code == 404


def add_registrations(event, count: int, start: int = 0) -> None:
    """Many confirmed registrations at once, straight into the tables (the rules are tested
    elsewhere); every third one checked in."""
    now = utcnow()
    for n in range(start, start + count):
        registrant = Registrant(
            first_name="Person",
            last_name=f"Number {n}",
            email=f"person{n}@example.org",
            organisation="Cooperativa",
            country="IT",
            target_group=TargetGroup.BUSINESS,
            language="it",
            consent_at=now,
            privacy_notice_version="test",
        )
        db.session.add(
            Registration(
                registrant=registrant,
                event=event,
                status=RegistrationStatus.CONFIRMED,
                confirmed_at=now,
                checked_in_at=now if n % 3 == 0 else None,
            )
        )
    db.session.commit()


def statements_for(client, url: str) -> int:
    """How many SQL statements one request sends."""
    statements = []

    def count(*_args):
        statements.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
        assert response.status_code == 200 and response.data
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


@pytest.mark.parametrize(
    "url",
    [
        f"/admin/events/{SLUG}/attendees.csv",
        f"/admin/events/{SLUG}/attendees.xlsx",
        f"/admin/events/{SLUG}/attendees.pdf",
        "/admin/attendees.csv",
        f"/admin/events/{SLUG}/statistics",
        "/admin/statistics",
        "/admin/statistics/people.csv",
    ],
)
def test_reports_cost_the_same_queries_for_10_and_200_registrations(organiser, event, url):
    add_registrations(event, 10)
    at_10 = statements_for(organiser, url)
    add_registrations(event, 190, start=10)
    assert statements_for(organiser, url) == at_10
