"""The event's materials for organisers: add a file or a link, remove one, announce them."""

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _

from ..access import organiser_required
from ..downloads import material_download
from ..forms import ButtonForm, form_page
from ..forms.materials import MaterialForm
from ..lookups import event_or_404, material_or_404
from ..models import MaterialVisibility
from ..services import materials

bp = Blueprint("materials", __name__, url_prefix="/events/<slug>/materials")


@bp.route("", methods=["GET", "POST"])
@organiser_required
def manage(slug):
    """The event's materials: add a file or a link, delete, announce."""
    event = event_or_404(slug)
    form = MaterialForm()
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
    items = materials.for_event(event, registrant_view=True)
    return form_page(
        "admin/materials.html", event=event, form=form, items=items, action_form=ButtonForm()
    )


@bp.post("/<int:material_id>/delete")
@organiser_required
def delete(slug, material_id):
    """Remove a material."""
    materials.delete(material_or_404(event_or_404(slug), material_id))
    flash(_("The material is removed."), "success")
    return redirect(url_for(".manage", slug=slug))


@bp.post("/announce")
@organiser_required
def announce(slug):
    """E-mail the confirmed registrants that the materials are available (once each)."""
    count = materials.announce(event_or_404(slug))
    flash(_("%(count)d registrant(s) will be told about the materials.", count=count), "success")
    return redirect(url_for(".manage", slug=slug))


@bp.route("/<int:material_id>")
@organiser_required
def file(slug, material_id):
    """Any file of the event, for organisers."""
    material = material_or_404(event_or_404(slug), material_id)
    if material.is_link:
        abort(404)
    return material_download(material)
