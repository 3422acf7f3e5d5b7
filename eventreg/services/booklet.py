"""The best-practice document: every published practice, one chapter per mission, as HTML or PDF."""

import hashlib
import logging
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale

from ..extensions import CACHE_DOWN, cache
from . import practices
from .pdf import RENDERER, render_pdf
from .practices import LibraryFilter

# An unchanged booklet stays a week; a changed one replaces it at once. The renderer is part
# of its digest: a deploy with a new one gives new PDFs where the cache outlives it (Redis).
PDF_CACHE_SECONDS = 7 * 24 * 3600
log = logging.getLogger(__name__)


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
    """The booklet as a tagged, accessible PDF (PDF/UA-1), built once per content.

    Anyone may download it, and building it takes WeasyPrint a second or more, where its HTML
    takes milliseconds. So each language's latest PDF is kept with a digest of the HTML and
    stylesheet it was made from: a new or changed practice, translation or layout gives a new
    digest and a new PDF, which replaces the old one (seven PDFs at most, however often the
    library changes), and asking for the same booklet again costs no worker that second.
    """
    html, stylesheet = document_html(language), _stylesheet()
    digest = hashlib.sha256(f"{RENDERER}\0{html}\0{stylesheet}".encode()).hexdigest()
    key = f"booklet-pdf:{language}"
    kept = _cached(key)
    if kept is not None and kept[0] == digest:
        return kept[1]
    pdf = render_pdf(html, stylesheets=[stylesheet])
    _keep(key, (digest, pdf))
    return pdf


def _cached(key: str) -> tuple[str, bytes] | None:
    try:
        return cache.get(key)
    except CACHE_DOWN as error:  # a shared cache that is down: build it, as without a cache
        log.warning("Booklet cache unavailable (%s); building the PDF", error)
        return None


def _keep(key: str, kept: tuple[str, bytes]) -> None:
    try:
        cache.set(key, kept, timeout=PDF_CACHE_SECONDS)
    except CACHE_DOWN as error:
        log.warning("Booklet cache unavailable (%s); the PDF is not kept", error)


def _stylesheet() -> str:
    return (Path(current_app.static_folder) / "css" / "document.css").read_text(encoding="utf-8")
