"""The attendance certificate as a PDF: an HTML template rendered in the holder's language."""

import base64

from flask import current_app, url_for
from flask_babel import force_locale, format_decimal

from ..formatting import day_when
from ..models import Certificate, Event, EventDay, Registration
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
        days = attended_days(registration)
        hours = event_hours(registration.event, days)
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
            # Only when not every day: the dates above then say more than was attended.
            attended_days=[day_when(day) for day in days]
            if days != registration.event.days
            else None,
        )


def attended_days(registration: Registration) -> list[EventDay]:
    """The agenda days of a multi-day event the person was checked in on; all of them when
    attendance was not recorded per day (joined online, a participant report)."""
    days = registration.event.days
    attended = registration.days_attended
    if not attended:
        return days
    return [day for day in days if day.local_date in attended]


def event_hours(event: Event, days: list[EventDay] | None = None) -> float | None:
    """The hours for the certificate, to the half hour: a multi-day event's are its days'
    added up (``days``: those attended, else all); None for one over several days without an
    agenda (nights are no hours) or when no day of the agenda was attended."""
    if event.is_multi_day:
        days = event.days if days is None else days
        if not days:
            return None
        seconds = sum((day.ends_at - day.starts_at).total_seconds() for day in days)
    elif event.local_starts_at.date() == event.local_last_date:
        seconds = (event.ends_at - event.starts_at).total_seconds()
    else:
        return None
    return round(seconds / 1800) / 2
