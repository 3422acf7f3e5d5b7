"""Attendance certificates: public verification, the registrant's download, the organiser page."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..access import organiser_required
from ..extensions import db
from ..forms import ButtonForm
from ..lookups import event_or_404
from ..models import Registration
from ..rate_limits import manage_limit
from ..services import certificates
from ..services.certificate_pdf import certificate_filename, certificate_pdf
from ..services.manage_links import registrant_for_token

bp = Blueprint("certificates", __name__)
bp.add_app_template_global(certificates.is_available, "certificate_available")


def _pdf(certificate) -> Response:
    response = Response(certificate_pdf(certificate), mimetype="application/pdf")
    response.headers.set(
        "Content-Disposition", "attachment", filename=certificate_filename(certificate)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/certificates/<code>")
@manage_limit
def verify(code):
    """Whether a certificate is real: its holder, event and dates; "not valid" for anything else."""
    certificate = certificates.find(code)
    valid = certificate is not None and certificate.is_valid
    response = Response(
        render_template("certificates/verify.html", certificate=certificate, valid=valid),
        status=200 if valid else 404,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/manage/<token>/certificates/<reference>.pdf")
@manage_limit
def registrant_pdf(token, reference):
    """The registrant's own certificate, issued on first download."""
    registrant = registrant_for_token(token) or abort(404)
    registration = next((r for r in registrant.registrations if r.reference == reference), None)
    if registration is None:
        abort(404)
    try:
        certificate = certificates.issue(registration)
    except certificates.NotAttended:
        abort(404)
    if certificate.is_revoked:
        abort(404)
    return _pdf(certificate)


@bp.route("/admin/events/<slug>/certificates")
@organiser_required
def manage(slug):
    """The event's attendees and their certificates: send them, revoke one."""
    event = event_or_404(slug)
    return render_template(
        "certificates/manage.html",
        event=event,
        rows=certificates.for_event(event),
        action_form=ButtonForm(),
        has_ended=certificates.has_ended(event),
    )


@bp.post("/admin/events/<slug>/certificates/send")
@organiser_required
def send(slug):
    """Mail every attendee their certificate (once each)."""
    event = event_or_404(slug)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        count = certificates.send_for_event(event)
    except certificates.EventNotEnded:
        flash(_("Certificates can be sent once the event has ended."), "error")
    else:
        flash(_("%(count)d certificate(s) will be sent.", count=count), "success")
    return redirect(url_for(".manage", slug=slug))


@bp.post("/admin/certificates/<code>/revoke")
@organiser_required
def revoke(code):
    """Withdraw a certificate: its verification page says "not valid" from now on."""
    certificate = certificates.find(code) or abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    certificates.revoke(certificate)
    flash(_("The certificate is revoked."), "success")
    return redirect(url_for(".manage", slug=certificate.registration.event.slug))


@bp.route("/admin/registrations/<reference>/certificate.pdf")
@organiser_required
def organiser_pdf(reference):
    """An attendee's certificate, for organisers."""
    registration = db.first_or_404(
        db.select(Registration).where(Registration.reference == reference)
    )
    try:
        certificate = certificates.issue(registration)
    except certificates.NotAttended:
        abort(404)
    return _pdf(certificate)
