"""Organiser reports: attendance downloads (CSV, XLSX, PDF sign-in sheet) and statistics."""

from collections.abc import Iterator

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import get_locale

from ...access import organiser_required
from ...downloads import name_file
from ...lookups import event_or_404
from ...models import Event, utcnow
from ...services import exports, funder_summary, statistics
from ...services.sign_in_sheet import sign_in_sheet
from .charts import breakdowns, day_columns

bp = Blueprint("reports", __name__)

CSV = "text/csv"  # Werkzeug adds "; charset=utf-8" to every text/ type
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


def _rows(event=None):
    """The export's rows with event titles in the reader's language."""
    return exports.attendee_rows(event, str(get_locale()))


@bp.route("/events/<slug>/attendees.csv")
@organiser_required
def event_csv(slug):
    """The event's registrations as CSV."""
    event = event_or_404(slug)
    days = exports.day_columns(event)
    chunks = exports.csv_chunks(_rows(event), with_labels=_with_labels(), days=days)
    return _download(chunks, event.slug, "csv", CSV)


@bp.route("/events/<slug>/attendees.xlsx")
@organiser_required
def event_xlsx(slug):
    """The event's registrations as an Excel workbook."""
    event = event_or_404(slug)
    days = exports.day_columns(event)
    chunks = exports.xlsx_chunks(_rows(event), with_labels=_with_labels(), days=days)
    return _download(chunks, event.slug, "xlsx", XLSX)


@bp.route("/events/<slug>/attendees.pdf")
@organiser_required
def event_pdf(slug):
    """The printable sign-in sheet of the event's confirmed registrants."""
    event = event_or_404(slug)
    return _download(sign_in_sheet(event), event.slug, "pdf", PDF, name="sign-in-sheet")


@bp.route("/attendees.csv")
@organiser_required
def programme_csv():
    """Every registration of the programme as CSV."""
    chunks = exports.csv_chunks(_rows(), with_labels=_with_labels())
    return _download(chunks, "programme", "csv", CSV)


@bp.route("/attendees.xlsx")
@organiser_required
def programme_xlsx():
    """Every registration of the programme as an Excel workbook."""
    chunks = exports.xlsx_chunks(_rows(), with_labels=_with_labels())
    return _download(chunks, "programme", "xlsx", XLSX)


@bp.route("/statistics")
@organiser_required
def programme_statistics():
    """The programme's numbers, with charts."""
    return _statistics_page(statistics.programme_statistics(), event=None)


@bp.route("/statistics/people.csv")
@organiser_required
def people_csv():
    """The programme's people figures (each person once) for the funder, as CSV."""
    summary = funder_summary.summary_csv(statistics.people_figures())
    return _download(iter((summary,)), "programme", "csv", CSV, name="people")


@bp.route("/events/<slug>/statistics")
@organiser_required
def event_statistics(slug):
    """One event's numbers, with charts."""
    event = event_or_404(slug)
    return _statistics_page(statistics.event_statistics(event), event=event)


def _statistics_page(stats: statistics.Statistics, event: Event | None) -> str:
    people = None if event else statistics.people_figures()
    return render_template(
        "admin/reports/statistics.html",
        event=event,
        stats=stats,
        people=people,
        people_tables=funder_summary.people_tables(people) if people else [],
        cross_table=funder_summary.cross_table(people) if people else None,
        counting_notes=funder_summary.counting_notes(),
        people_columns=funder_summary.people_columns(),
        day_chart=day_columns(stats.per_day),
        breakdowns=breakdowns(stats, per_event=event is None),
    )


def _with_labels() -> bool:
    """``?labels=yes``: readable labels in the organiser's language after the codes."""
    return request.args.get("labels") == "yes"


def _download(
    chunks: Iterator[bytes], slug: str, extension: str, mimetype: str, name: str = "attendees"
) -> Response:
    """A streamed attachment, dated, that no cache keeps: it holds personal data."""
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    filename = f"{slug}-{name}-{utcnow():%Y-%m-%d}.{extension}"
    name_file(response, filename)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
