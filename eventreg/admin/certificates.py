"""Attendance certificates for organisers: send them, revoke one, download one."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..access import organiser_required
from ..downloads import certificate_download
from ..forms import ButtonForm, ConfirmForm
from ..lookups import event_or_404, registration_or_404
from ..models import utcnow
from ..services import certificates

bp = Blueprint("certificates", __name__)


@bp.route("/events/<slug>/certificates")
@organiser_required
def manage(slug):
    """The event's attendees and their certificates: send them, revoke one."""
    event = event_or_404(slug)
    return render_template(
        "admin/certificates.html",
        event=event,
        rows=certificates.for_event(event),
        action_form=ButtonForm(),
        confirm_form=ConfirmForm(),
        has_ended=event.has_ended(utcnow()),
    )


@bp.post("/events/<slug>/certificates/send")
@organiser_required
def send(slug):
    """Mail every attendee their certificate (once each)."""
    try:
        count = certificates.send_for_event(event_or_404(slug))
    except certificates.EventNotEnded:
        flash(_("Certificates can be sent once the event has ended."), "error")
    else:
        flash(_("%(count)d certificate(s) will be sent.", count=count), "success")
    return redirect(url_for(".manage", slug=slug))


@bp.post("/certificates/<code>/revoke")
@organiser_required
def revoke(code):
    """Withdraw a certificate: its verification page says "not valid" from now on."""
    certificate = certificates.find(code) or abort(404)
    if not ConfirmForm().validate_on_submit():
        flash(_("Tick the box to confirm that the certificate is revoked."), "error")
        return redirect(url_for(".manage", slug=certificate.registration.event.slug))
    certificates.revoke(certificate)
    flash(_("The certificate is revoked."), "success")
    return redirect(url_for(".manage", slug=certificate.registration.event.slug))


@bp.route("/registrations/<reference>/certificate.pdf")
@organiser_required
def pdf(reference):
    """An attendee's certificate, for organisers."""
    try:
        certificate = certificates.issue(registration_or_404(reference))
    except certificates.NotAttended:
        abort(404)
    return certificate_download(certificate)
