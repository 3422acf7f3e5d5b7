"""Files the site hands out (materials, certificates): always attachments, never shown inline."""

from flask import Response

from .models import Certificate, Material
from .services import materials
from .services.certificate_pdf import certificate_filename, certificate_pdf


def material_download(material: Material) -> Response:
    """The stored file with the type its content proved."""
    response = Response(materials.content(material), mimetype=material.content_type)
    response.headers.set("Content-Disposition", "attachment", filename=material.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def certificate_download(certificate: Certificate) -> Response:
    """The certificate as a PDF; personal, so kept out of caches."""
    response = Response(certificate_pdf(certificate), mimetype="application/pdf")
    response.headers.set(
        "Content-Disposition", "attachment", filename=certificate_filename(certificate)
    )
    response.headers["Cache-Control"] = "no-store"
    return response
