"""HTML to tagged, accessible PDF (PDF/UA-1) with WeasyPrint, for certificates and documents."""

from collections.abc import Sequence

from flask import current_app, render_template
from weasyprint import CSS, HTML

# Fonts installed with fonts-dejavu-core cover Latin (with the Nordic letters) and Cyrillic.
PDF_FONT_CSS = 'html { font-family: "DejaVu Sans", sans-serif; }'


def render_pdf(html: str, *, base_url: str | None = None, stylesheets: Sequence[str] = ()) -> bytes:
    """Render an HTML document to a tagged PDF/UA-1; its <title> and <html lang> become metadata.

    ``stylesheets`` are CSS texts applied after the document's own; ``base_url`` resolves
    relative links and images (``data:`` URLs need none). Nothing is fetched from the network
    unless the HTML points there: keep images inline or local.
    """
    css = [CSS(string=PDF_FONT_CSS), *(CSS(string=sheet) for sheet in stylesheets)]
    document = HTML(string=html, base_url=base_url or current_app.static_folder)
    return document.write_pdf(stylesheets=css, pdf_variant="pdf/ua-1")


def render_pdf_template(template: str, **context) -> bytes:
    """Render a Jinja template (a whole HTML document with lang and title) to a tagged PDF."""
    return render_pdf(render_template(template, **context))
