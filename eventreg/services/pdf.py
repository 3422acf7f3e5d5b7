"""HTML to tagged, accessible PDF (PDF/UA-1) with WeasyPrint, for certificates and documents."""

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from flask import current_app, render_template
from weasyprint import CSS, HTML
from weasyprint import __version__ as weasyprint_version
from weasyprint.urls import URLFetcher

# Fonts installed with fonts-dejavu-core cover Latin (with the Nordic letters) and Cyrillic.
PDF_FONT_CSS = 'html { font-family: "DejaVu Sans", sans-serif; }'
# What turns HTML into these PDFs, for PDFs kept by the content they are made from (the
# booklet): a new WeasyPrint gives new ones; raise the number when render_pdf changes its output.
RENDERER = f"WeasyPrint {weasyprint_version}, render_pdf 1"


class LocalOnlyFetcher(URLFetcher):
    """Fetch ``data:`` URLs and files under one folder, nothing else: a document that quotes a
    user's link never makes the server request it, nor read files elsewhere on the machine."""

    def __init__(self, root: str | Path) -> None:
        super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False)
        self.root_uri = Path(root).resolve().as_uri().rstrip("/") + "/"

    def fetch(self, url, headers=None):
        if url.startswith("file:") and not url.startswith(self.root_uri):
            raise ValueError(f"not under {self.root_uri}: {url}")
        return super().fetch(url, headers)


def render_pdf(html: str, *, base_url: str | None = None, stylesheets: Sequence[str] = ()) -> bytes:
    """Render an HTML document to a tagged PDF/UA-1; its <title> and <html lang> become metadata.

    ``stylesheets`` are CSS texts applied after the document's own. Relative links and images
    resolve against ``base_url``, a folder (a path or a ``file:`` URL; default: the static
    folder, so ``<img src="img/x.png">`` works); only ``data:`` URLs and files under that
    folder are ever loaded.
    """
    root = _folder(base_url or current_app.static_folder)
    fetcher = LocalOnlyFetcher(root)
    css = [CSS(string=sheet, url_fetcher=fetcher) for sheet in (PDF_FONT_CSS, *stylesheets)]
    document = HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=fetcher)
    return document.write_pdf(stylesheets=css, pdf_variant="pdf/ua-1")


def _folder(base: str | Path) -> Path:
    """A folder given as a path or as a ``file:`` URL."""
    text = str(base)
    if text.startswith("file:"):
        return Path(url2pathname(urlparse(text).path)).resolve()
    return Path(text).resolve()


def render_pdf_template(template: str, **context) -> bytes:
    """Render a Jinja template (a whole HTML document with lang and title) to a tagged PDF."""
    return render_pdf(render_template(template, **context))
