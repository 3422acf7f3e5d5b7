"""Organisers import the meeting platform's participant report of an online event."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ...access import organiser_required
from ...forms import form_page
from ...lookups import event_or_404
from ...services import attendance_import
from .forms import ApplyForm, ReportForm

bp = Blueprint("meeting_reports", __name__, url_prefix="/events")


@bp.route("/<slug>/attendance/import", methods=["GET", "POST"])
@organiser_required
def import_report(slug):
    """Upload a participant report and see what it would record before applying it."""
    event = event_or_404(slug)
    form = ReportForm()
    if event.is_online and form.validate_on_submit():
        upload = form.report.data
        try:
            preview = attendance_import.preview_report(event, upload.read(), upload.filename or "")
        except attendance_import.ReportError as error:
            form.report.errors.append(str(error))
        else:
            token = attendance_import.preview_token(event, preview)
            return render_template(
                "admin/meeting_reports/preview.html",
                event=event,
                preview=preview,
                form=ApplyForm(changes=token),
            )
    return form_page("admin/meeting_reports/import.html", event=event, form=form)


@bp.post("/<slug>/attendance/apply")
@organiser_required
def apply_report(slug):
    """Record the attendance the preview showed."""
    event = event_or_404(slug)
    form = ApplyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        joins, report_name = attendance_import.changes_from_token(event, form.changes.data)
    except attendance_import.PreviewExpired:
        flash(_("That preview has expired. Upload the report again."), "error")
        return redirect(url_for(".import_report", slug=event.slug))
    count = attendance_import.apply_import(
        event, joins, actor=current_user, report_name=report_name
    )
    flash(
        ngettext("%(num)d attendance recorded.", "%(num)d attendances recorded.", count), "success"
    )
    return redirect(url_for("admin.event", slug=event.slug, attended="yes"))
