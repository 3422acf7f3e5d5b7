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
from flask_login import current_user

from ..access import organiser_required, unless_hidden
from ..downloads import name_file
from ..forms import ButtonForm, form_page
from ..models import ProcurementType
from ..services import booklet, edits, practices
from ..services.practices import LibraryFilter
from .forms import (
    PROCUREMENT_TYPE_LABELS,
    DocumentForm,
    LibraryForm,
    PracticeForm,
    ReviewForm,
    TextLanguageForm,
    TranslationForm,
    UnpublishForm,
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
    """One practice in the reader's language, or in English marked as such; organisers also
    see proposals in full, to decide on them."""
    return _practice_page(_visible_practice(practice_id), ReviewForm())


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
    """Add the practice in another language, or correct one of its texts (``?lang=``)."""
    practice = practices.find(practice_id) or abort(404)
    language = request.args.get("lang", "")
    if language not in current_app.config["LANGUAGES"]:
        language = practice.text_in(str(get_locale())).language
    shown = practice.text_written_in(language)
    form = TranslationForm(obj=shown, language=language, revising="1" if shown else "")
    if not form.is_submitted():
        form.seen.data = practices.text_fingerprint(shown)
    if form.validate_on_submit():
        try:
            practices.save_text(practice, form.text(), seen=form.seen.data)
        except edits.EditConflict as conflict:
            # Read again: the transaction was undone.
            form.mark_conflicts(conflict, practice.text_written_in(form.language.data))
            flash(
                _("Someone else saved this text after you opened the page: nothing was saved."),
                "error",
            )
        else:
            flash(_("The text has been saved."))
            return redirect(url_for(".show", practice_id=practice.id))
    return form_page(
        "practices/text_form.html",
        form=form,
        picker=TextLanguageForm(formdata=None, lang=form.language.data),
        practice=practice,
        is_new_text=shown is None,
    )


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
    """Download a document of a published practice (organisers: of any practice)."""
    practice = _visible_practice(practice_id)
    found = next((d for d in practice.documents if d.id == document_id), None) or abort(404)
    response = Response(practices.document_data(found), mimetype=found.content_type)
    return name_file(response, found.filename)


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
    """Publish or reject a proposal; the proposer is told by e-mail."""
    practice = practices.find(practice_id) or abort(404)
    form = ReviewForm()
    if not form.validate():
        return _practice_page(practice, form), 422
    decision = request.form.get("decision")
    if decision not in ("publish", "reject"):
        abort(400)
    try:
        practices.review(practice, accept=decision == "publish", note=form.note.data or "")
    except practices.PracticeError:
        flash(_("This practice has already been reviewed."), "error")
    return redirect(url_for(".review_list"))


@bp.route("/<int:practice_id>/unpublish", methods=["GET", "POST"])
@organiser_required
def unpublish(practice_id):
    """Take a published practice out of the library and the booklet, back to review."""
    practice = practices.find(practice_id) or abort(404)
    if not practice.is_published:
        flash(_("This practice is not published."), "error")
        return redirect(url_for(".review_list"))
    form = UnpublishForm()
    if form.validate_on_submit():
        try:
            practices.unpublish(practice, note=form.note.data or "")
        except practices.PracticeError:
            flash(_("This practice is not published."), "error")
        else:
            flash(_("The practice has been taken out of the library; it waits for review again."))
        return redirect(url_for(".review_list"))
    return form_page("practices/unpublish.html", form=form, practice=practice)


@bp.route("/document")
def document_page():
    """The best-practice document as one printable web page."""
    language = _document_language()
    return booklet.document_html(language, printable_page=True)


@bp.route("/document.pdf")
def document_pdf():
    """The best-practice document as a tagged PDF booklet in one language."""
    language = _document_language()
    response = Response(booklet.document_pdf(language), mimetype="application/pdf")
    return name_file(response, f"best-practices-{language}.pdf", inline=True)


def _visible_practice(practice_id: int):
    """A published practice, or any practice for an organiser; else 404."""
    practice = practices.find(practice_id) or abort(404)
    if not (practice.is_published or _is_organiser()):
        abort(404)
    return practice


def _is_organiser() -> bool:
    return current_user.is_authenticated and current_user.is_organiser


def _practice_page(practice, review_form: ReviewForm) -> str:
    language = str(get_locale())
    return render_template(
        "practices/show.html",
        practice=practice,
        text=practice.text_in(language),
        language=language,
        review_form=review_form,
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
