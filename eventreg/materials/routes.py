"""Materials: the public list, registrants' items from the manage link, the organiser page."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..access import organiser_required
from ..extensions import db
from ..forms import ButtonForm
from ..forms.materials import MaterialForm
from ..lookups import event_or_404
from ..models import Material, MaterialVisibility
from ..rate_limits import manage_limit
from ..services import materials
from ..services.manage_links import registrant_for_token

bp = Blueprint("materials", __name__)


def _material_or_404(event, material_id) -> Material:
    material = db.session.get(Material, material_id)
    if material is None or material.event_id != event.id:
        abort(404)
    return material


def _attachment(material: Material) -> Response:
    """The stored file with the type its content proved, as a download, never shown inline."""
    response = Response(materials.content(material), mimetype=material.content_type)
    response.headers.set("Content-Disposition", "attachment", filename=material.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/events/<slug>/materials")
def public_list(slug):
    """What everyone may see of the event's materials."""
    event = event_or_404(slug, include_drafts=False)
    return render_template(
        "materials/list.html", event=event, items=materials.for_event(event), token=None
    )


@bp.route("/events/<slug>/materials/<int:material_id>")
def public_file(slug, material_id):
    """A public file, as an attachment."""
    event = event_or_404(slug, include_drafts=False)
    material = _material_or_404(event, material_id)
    if not material.is_public or material.is_link:
        abort(404)
    return _attachment(material)


def _registration(token, reference):
    registrant = registrant_for_token(token) or abort(404)
    found = next((r for r in registrant.registrations if r.reference == reference), None)
    if found is None or not found.is_confirmed:
        abort(404)
    return found


@bp.route("/manage/<token>/materials/<reference>")
@manage_limit
def registrant_list(token, reference):
    """Every material of the event, for one of its confirmed registrants."""
    registration = _registration(token, reference)
    items = materials.for_event(registration.event, registrant_view=True)
    response = Response(
        render_template(
            "materials/list.html",
            event=registration.event,
            items=items,
            token=token,
            reference=reference,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/manage/<token>/materials/<reference>/<int:material_id>")
@manage_limit
def registrant_file(token, reference, material_id):
    """A file of the event, public or for registrants, for one of its confirmed registrants."""
    registration = _registration(token, reference)
    material = _material_or_404(registration.event, material_id)
    if material.is_link or not materials.can_see(material, registration):
        abort(404)
    response = _attachment(material)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/events/<slug>/materials", methods=["GET", "POST"])
@organiser_required
def manage(slug):
    """The event's materials: add a file or a link, delete, announce."""
    event = event_or_404(slug)
    form = MaterialForm()
    status = 200
    if form.validate_on_submit():
        try:
            materials.add(
                event,
                form.titles(),
                MaterialVisibility(form.visibility.data),
                upload=form.file.data,
                url=form.url.data,
            )
        except materials.MaterialRefused as refused:
            form[refused.field].errors.append(refused.message)
        else:
            flash(_("The material is added."), "success")
            return redirect(url_for(".manage", slug=slug))
    if form.errors:
        status = 422
    items = materials.for_event(event, registrant_view=True)
    return render_template(
        "materials/manage.html", event=event, form=form, items=items, action_form=ButtonForm()
    ), status


@bp.post("/admin/events/<slug>/materials/<int:material_id>/delete")
@organiser_required
def delete(slug, material_id):
    """Remove a material."""
    event = event_or_404(slug)
    material = _material_or_404(event, material_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    materials.delete(material)
    flash(_("The material is removed."), "success")
    return redirect(url_for(".manage", slug=slug))


@bp.post("/admin/events/<slug>/materials/announce")
@organiser_required
def announce(slug):
    """E-mail the confirmed registrants that the materials are available (once each)."""
    event = event_or_404(slug)
    if not ButtonForm().validate_on_submit():
        abort(400)
    count = materials.announce(event)
    flash(_("%(count)d registrant(s) will be told about the materials.", count=count), "success")
    return redirect(url_for(".manage", slug=slug))


@bp.route("/admin/events/<slug>/materials/<int:material_id>")
@organiser_required
def organiser_file(slug, material_id):
    """Any file of the event, for organisers."""
    event = event_or_404(slug)
    material = _material_or_404(event, material_id)
    if material.is_link:
        abort(404)
    return _attachment(material)
