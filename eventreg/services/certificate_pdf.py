"""The attendance certificate as a PDF: an HTML template rendered in the holder's language."""

import base64

from flask import current_app, url_for
from flask_babel import force_locale, format_decimal

from ..models import Certificate
from ..urls import site_context
from .pdf import render_pdf_template
from .tickets import qr_png


def verification_url(certificate: Certificate) -> str:
    """The public address that confirms the certificate: ``<BASE_URL>/certificates/<code>``.

    Always on BASE_URL, also when a visitor downloads it through another host name: the
    printed address has to keep working.
    """
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return url_for("certificates.verify", code=certificate.code, _external=True)


def certificate_filename(certificate: Certificate) -> str:
    return f"certificate-{certificate.registration.reference}.pdf"


def certificate_pdf(certificate: Certificate) -> bytes:
    """A tagged PDF/UA certificate with the verification address in full and as a QR code."""
    registration = certificate.registration
    language = registration.registrant.language
    url = verification_url(certificate)
    qr = base64.b64encode(qr_png(url, box_size=8)).decode("ascii")
    with site_context(), force_locale(language):
        hours = event_hours(registration.event)
        return render_pdf_template(
            "certificates/certificate.html",
            certificate=certificate,
            registration=registration,
            registrant=registration.registrant,
            event=registration.event,
            language=language,
            verification_url=url,
            qr_data_url=f"data:image/png;base64,{qr}",
            hours=format_decimal(hours) if hours is not None else None,
        )


def event_hours(event) -> float | None:
    """The event's hours for the certificate, to the half hour: a multi-day event's are its
    days' added up; None for one over several days without an agenda (nights are no hours)."""
    if event.is_multi_day:
        seconds = sum((day.ends_at - day.starts_at).total_seconds() for day in event.days)
    elif event.local_starts_at.date() == event.local_ends_at.date():
        seconds = (event.ends_at - event.starts_at).total_seconds()
    else:
        return None
    return round(seconds / 1800) / 2
