"""The library of practices: reading and searching, proposing, reviewing, the booklet."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from ..access import organiser_required, unless_hidden
from ..forms import ButtonForm, form_page
from ..models import ProcurementType
from ..services import booklet, practices
from ..services.practices import LibraryFilter
from .forms import (
    PROCUREMENT_TYPE_LABELS,
    DocumentForm,
    LibraryForm,
    PracticeForm,
    TextForm,
)

bp = Blueprint("practices", __name__, url_prefix="/practices")


@bp.app_context_processor
def labels():
    return {"procurement_type_labels": PROCUREMENT_TYPE_LABELS}


@bp.route("")
def library():
    """Published practices, with filters and word search."""
    form = LibraryForm(request.args)
    criteria = LibraryFilter(
        words=form.q.data or "",
        country=form.country.data or "",
        event_id=int(form.event.data) if (form.event.data or "").isdigit() else None,
        procurement_type=_procurement_type(form.procurement_type.data),
        language=form.language.data or "",
    )
    return render_template(
        "practices/library.html",
        form=form,
        found=practices.library(criteria),
        language=str(get_locale()),
    )


@bp.route("/<int:practice_id>")
def show(practice_id):
    """One practice in the reader's language, or in English marked as such."""
    practice = practices.find(practice_id) or abort(404)
    if not practice.is_published:
        abort(404)
    language = str(get_locale())
    return render_template(
        "practices/show.html",
        practice=practice,
        text=practice.text_in(language),
        language=language,
    )


@bp.route("/propose", methods=["GET", "POST"])
def propose():
    """A member proposes a practice; organisers review it before it appears."""
    member = unless_hidden(g.get("member"))  # hidden by organisers: a page that says so
    if member is None or not member.is_active:
        return redirect(url_for("network.sign_in_request", next=request.path))
    form = PracticeForm()
    if form.validate_on_submit():
        practices.propose(form.practice(), member)
        flash(_("Thank you. The organisers will review your practice before it appears."))
        return redirect(url_for(".library"))
    return form_page("practices/form.html", form=form, proposing=True)


@bp.route("/new", methods=["GET", "POST"])
@organiser_required
def new():
    """An organiser publishes a practice."""
    form = PracticeForm()
    if form.validate_on_submit():
        practice = practices.publish_new(form.practice())
        return redirect(url_for(".show", practice_id=practice.id))
    return form_page("practices/form.html", form=form, proposing=False)


@bp.route("/<int:practice_id>/text", methods=["GET", "POST"])
@organiser_required
def edit_text(practice_id):
    """Add the practice in another language, or correct one of its texts."""
    practice = practices.find(practice_id) or abort(404)
    form = TextForm()
    if form.validate_on_submit():
        practices.save_text(practice, form.text())
        flash(_("The text has been saved."))
        return redirect(url_for(".review_list"))
    return form_page("practices/text_form.html", form=form, practice=practice)


@bp.route("/<int:practice_id>/documents", methods=["GET", "POST"])
@organiser_required
def upload_document(practice_id):
    """Attach a document to a practice."""
    practice = practices.find(practice_id) or abort(404)
    form = DocumentForm()
    if form.validate_on_submit():
        upload = form.document.data
        try:
            practices.attach(practice, upload.filename or "", upload.read())
        except practices.PracticeError:
            form.document.errors.append(
                _("Attach a PDF, OpenDocument, Word, Excel, PowerPoint, PNG or JPEG file.")
            )
        else:
            flash(_("The document has been attached."))
            return redirect(url_for(".show", practice_id=practice.id))
    return form_page("practices/documents.html", form=form, practice=practice)


@bp.route("/<int:practice_id>/documents/<int:document_id>")
def document(practice_id, document_id):
    """Download a document of a published practice."""
    practice = practices.find(practice_id) or abort(404)
    found = next((d for d in practice.documents if d.id == document_id), None) or abort(404)
    if not practice.is_published:
        abort(404)
    response = Response(practices.document_data(found), mimetype=found.content_type)
    response.headers.set("Content-Disposition", "attachment", filename=found.filename)
    return response


@bp.route("/review")
@organiser_required
def review_list():
    """Proposals waiting for review, and every published practice to translate."""
    return render_template(
        "practices/review.html",
        proposed=practices.proposed(),
        published=practices.library(LibraryFilter()),
        form=ButtonForm(),
        language=str(get_locale()),
    )


@bp.route("/<int:practice_id>/review", methods=["POST"])
@organiser_required
def review(practice_id):
    """Publish or reject a proposal."""
    practice = practices.find(practice_id) or abort(404)
    try:
        practices.review(practice, accept=request.form.get("decision") == "publish")
    except practices.PracticeError:
        flash(_("This practice has already been reviewed."), "error")
    return redirect(url_for(".review_list"))


@bp.route("/document")
def document_page():
    """The best-practice document as one printable web page."""
    language = _document_language()
    return booklet.document_html(language, printable_page=True)


@bp.route("/document.pdf")
def document_pdf():
    """The best-practice document as a tagged PDF booklet in one language."""
    language = _document_language()
    return Response(
        booklet.document_pdf(language),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="best-practices-{language}.pdf"'},
    )


def _document_language() -> str:
    language = request.args.get("lang") or str(get_locale())
    if language not in current_app.config["LANGUAGES"]:
        abort(
            Response(
                _(
                    "Unknown language: choose one of %(codes)s.",
                    codes=", ".join(current_app.config["LANGUAGES"]),
                ),
                status=400,
                mimetype="text/plain",
            )
        )
    return language


def _procurement_type(value: str | None) -> ProcurementType | None:
    try:
        return ProcurementType(value) if value else None
    except ValueError:
        return None
