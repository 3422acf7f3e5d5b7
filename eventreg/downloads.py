"""Files the site hands out (materials, certificates): always attachments, never shown inline."""

import unicodedata
from urllib.parse import quote

from flask import Response

from .models import Certificate, Material
from .services import materials
from .services.certificate_pdf import certificate_filename, certificate_pdf


def material_download(material: Material) -> Response:
    """The stored file with the type its content proved."""
    response = Response(materials.content(material), mimetype=material.content_type)
    name_file(response, material.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def certificate_download(certificate: Certificate) -> Response:
    """The certificate as a PDF; personal, so kept out of caches."""
    response = Response(certificate_pdf(certificate), mimetype="application/pdf")
    name_file(response, certificate_filename(certificate))
    response.headers["Cache-Control"] = "no-store"
    return response


def name_file(response: Response, filename: str, *, inline: bool = False) -> Response:
    """Name the file as RFC 6266 says, the way werkzeug's ``send_file`` does: any name gives a
    valid ASCII header (gunicorn refuses others), with the name in UTF-8 (RFC 5987) when it is
    not ASCII and an ASCII approximation for clients that cannot read that."""
    names = {"filename": filename}
    if not filename.isascii():
        fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
        encoded = quote(filename, safe="!#$&+-.^_`|~")  # RFC 5987 attr-chars stay as they are
        names = {"filename": fallback, "filename*": f"UTF-8''{encoded}"}
    response.headers.set("Content-Disposition", "inline" if inline else "attachment", **names)
    return response
