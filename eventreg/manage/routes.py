"""A registrant's private manage page, reached by the signed link they were given."""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from ..downloads import certificate_download, material_download
from ..formatting import local_title
from ..forms import form_page
from ..forms.person import already_registered_message
from ..i18n import use_registrant_language
from ..lookups import material_or_404
from ..rate_limits import manage_limit, resend_limit
from ..services import certificates, events, materials, privacy, registrations, tickets
from ..services.join_links import join_url
from ..services.manage_links import manage_url, registrant_for_token
from ..services.resend_links import send_manage_links
from .forms import AddEventsForm, CancelForm, DetailsForm, EraseForm, ResendForm

bp = Blueprint("manage", __name__, url_prefix="/manage")
manage_limit(bp)  # guessing tokens costs a lot of requests; this makes it slower still


@bp.after_request
def keep_private(response):
    """The URL is the key: keep it out of caches and other sites' Referer headers."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _load(token):
    """The registrant whose link this is; their pages open in their language."""
    registrant = registrant_for_token(token) or abort(404)
    use_registrant_language(registrant.language)
    return registrant


def _joinable(registrant):
    """Open events the registrant does not hold an active registration for."""
    taken = {r.event_id for r in registrant.active_registrations}
    return [event for event in events.open_for_registration() if event.id not in taken]


def _registration(registrant, reference):
    """One of the registrant's own registrations, or 404."""
    found = next((r for r in registrant.registrations if r.reference == reference), None)
    return found or abort(404)


def _confirmed(token, reference):
    """One of the registrant's own registrations that holds a seat, or 404."""
    registration = _registration(_load(token), reference)
    return registration if registration.is_confirmed else abort(404)


def _status_context(registrant):
    """Queue positions and personal join links for the registrant's registrations."""
    return {
        "positions": {r.id: registrations.waitlist_position(r) for r in registrant.registrations},
        "join_links": {
            r.id: join_url(r)
            for r in registrant.registrations
            if r.is_confirmed and r.event.is_online
        },
    }


def _render(registrant, token, details_form=None, add_form=None, status=200):
    joinable = _joinable(registrant)
    return render_template(
        "manage/show.html",
        registrant=registrant,
        token=token,
        manage_link=manage_url(registrant),
        **_status_context(registrant),
        details_form=details_form or DetailsForm(obj=registrant),
        add_form=add_form or AddEventsForm(open_events=joinable),
        cancel_form=CancelForm(),
        erase_form=EraseForm(),
        joinable=joinable,
    ), status


@bp.route("/resend", methods=["GET", "POST"])
@resend_limit
def resend():
    """Send the manage link again; the answer is the same whether the address is known or not."""
    form = ResendForm()
    if form.validate_on_submit():
        send_manage_links(form.email.data)
        return render_template("manage/resend.html", form=form, sent=True)
    return form_page("manage/resend.html", form=form, sent=False)


@bp.route("/<token>")
def show(token):
    """The registration, with ways to correct details, cancel or add events."""
    return _render(_load(token), token)


@bp.route("/<token>/confirmed")
def confirmed(token):
    """What a person sees right after signing up: references and the manage link."""
    registrant = _load(token)
    return render_template(
        "manage/confirmed.html",
        registrant=registrant,
        token=token,
        manage_link=manage_url(registrant),
        **_status_context(registrant),
    )


@bp.route("/<token>/details", methods=["POST"])
def update_details(token):
    """Correct the registrant's details."""
    registrant = _load(token)
    form = DetailsForm()
    if form.validate():
        try:
            registrations.update_details(registrant, form.person_details())
        except registrations.AlreadyRegistered as exc:
            form.email.errors.append(already_registered_message(exc.event))
        else:
            flash(_("Your details have been saved."), "success")
            return redirect(url_for(".show", token=token))
    return _render(registrant, token, details_form=form, status=422)


@bp.route("/<token>/events", methods=["POST"])
def add_events(token):
    """Register for more events with the details already given."""
    registrant = _load(token)
    joinable = _joinable(registrant)
    form = AddEventsForm(open_events=joinable)
    if form.validate():
        chosen = [event for event in joinable if event.slug in form.events.data]
        try:
            registrations.add_events(registrant, chosen)
        except registrations.SignupError as exc:
            form.events.errors.append(
                _("You cannot register for %(title)s any more.", title=local_title(exc.event))
            )
        else:
            flash(_("You are registered for the events you added."), "success")
            return redirect(url_for(".show", token=token))
    return _render(registrant, token, add_form=form, status=422)


@bp.route("/<token>/registrations/<reference>/cancel", methods=["GET", "POST"])
def cancel(token, reference):
    """Ask first, then cancel one registration; the seat goes to the waiting list."""
    registrant = _load(token)
    registration = _registration(registrant, reference)
    if not registration.can_cancel:
        abort(404 if request.method == "GET" else 400)
    form = CancelForm()
    if not form.validate_on_submit():
        return render_template(
            "manage/cancel.html", registration=registration, token=token, form=form
        )
    try:
        registrations.cancel(registration)
    except registrations.EventHasEnded:  # it ended while the form was open
        flash(_("The event has ended: its registrations can no longer change."), "error")
        return redirect(url_for(".show", token=token))
    flash(
        _("Your registration for %(title)s is cancelled.", title=local_title(registration.event)),
        "success",
    )
    return redirect(url_for(".show", token=token))


@bp.route("/<token>/tickets/<reference>/qr.png")
def ticket_qr(token, reference):
    """The QR code of a confirmed registration's ticket, for the page and for printing."""
    registration = _confirmed(token, reference)
    return Response(tickets.qr_png(registration.ticket_secret), mimetype="image/png")


@bp.route("/<token>/tickets/<reference>.png")
def ticket_png(token, reference):
    """The printable ticket as an image download."""
    registration = _confirmed(token, reference)
    return Response(
        tickets.ticket_png(registration),
        mimetype="image/png",
        headers={"Content-Disposition": f'attachment; filename="ticket-{reference}.png"'},
    )


@bp.route("/<token>/materials/<reference>")
def materials_list(token, reference):
    """Every material of the event, registrants-only items too, for a confirmed registrant."""
    registration = _confirmed(token, reference)
    items = materials.for_event(registration.event, registrant_view=True)
    return render_template(
        "public/materials.html",
        event=registration.event,
        items=items,
        token=token,
        reference=reference,
    )


@bp.route("/<token>/materials/<reference>/<int:material_id>")
def material_file(token, reference, material_id):
    """A file of the event, public or for registrants, for a confirmed registrant."""
    registration = _confirmed(token, reference)
    material = material_or_404(registration.event, material_id)
    if material.is_link or not materials.can_see(material, registration):
        abort(404)
    return material_download(material)


@bp.route("/<token>/certificates/<reference>.pdf")
def certificate_pdf(token, reference):
    """The registrant's own certificate, issued on first download."""
    registration = _registration(_load(token), reference)
    try:
        certificate = certificates.issue(registration)
    except certificates.NotAttended:
        abort(404)
    if certificate.is_revoked:
        abort(404)
    return certificate_download(certificate)


@bp.route("/<token>/data.json")
def download_data(token):
    """Everything held about the person, to download."""
    registrant = _load(token)
    response = jsonify(privacy.export_data(registrant))
    response.headers["Content-Disposition"] = 'attachment; filename="my-registration-data.json"'
    return response


@bp.route("/<token>/erase", methods=["POST"])
def erase(token):
    """Erase the person's data, cancelling coming events' registrations; the link stops working."""
    registrant = _load(token)
    form = EraseForm()
    if not form.validate():
        flash(_("Tick the box to confirm that your data should be erased."), "error")
        return redirect(url_for(".show", token=token))
    privacy.erase(registrant)
    return render_template("manage/erased.html")
