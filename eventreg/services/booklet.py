"""The best-practice document: every published practice, one chapter per mission, as HTML or PDF."""

from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale

from . import practices
from .pdf import render_pdf
from .practices import LibraryFilter


def document_html(language: str, printable_page: bool = False) -> str:
    """The booklet as one HTML page in a language (English where a practice has no translation)."""
    published = sorted(practices.library(LibraryFilter()), key=lambda p: (p.published_at, p.id))
    with force_locale(language):
        return render_template(
            "practices/document.html",
            language=language,
            chapters=practices.chapters(published),
            printable_page=printable_page,
        )


def document_pdf(language: str) -> bytes:
    """The booklet as a tagged, accessible PDF (PDF/UA-1)."""
    return render_pdf(document_html(language), stylesheets=[_stylesheet()])


def _stylesheet() -> str:
    return (Path(current_app.static_folder) / "css" / "document.css").read_text(encoding="utf-8")
