"""Feedback: the personal questionnaire an attendee opens from their e-mail."""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _

from ..forms import ButtonForm
from ..rate_limits import manage_limit
from ..services import edits, feedback

bp = Blueprint("feedback", __name__)


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/feedback/<token>", methods=["GET", "POST"])
@manage_limit
def answer(token):
    """A person's questionnaire: answer, and change the answers until it closes."""
    response = feedback.response_for_token(token) or abort(404)
    form = ButtonForm()
    if request.method == "GET":
        return _questionnaire(response, form, response.answers)
    raw = {key: _posted(key) for key in request.form if key.isdigit()}
    shown = _shown()
    try:
        feedback.save_answers(response, raw, shown)
    except feedback.FeedbackClosed:
        return _questionnaire(response, form, response.answers)
    except feedback.FeedbackWithdrawn:
        abort(404)  # as its link now answers
    except feedback.QuestionnaireChanged as changed:
        # Answers to a changed question might now mean another choice: asked again.
        kept = {key: value for key, value in raw.items() if int(key) not in changed.changed}
        message = _("This question was changed after you opened the page. Please answer it again.")
        errors = dict.fromkeys(changed.changed, message)
        return _questionnaire(response, form, kept, errors, status=409)
    except feedback.InvalidAnswers as invalid:
        return _questionnaire(response, form, raw, invalid.errors, status=422, shown=shown)
    flash(_("Thank you: your answers are saved."), "success")
    return redirect(url_for(".answer", token=token))


def _questionnaire(response, form, answers, errors=None, status=200, shown=None) -> Response:
    """The questionnaire in the person's language (or the one they picked on the site).

    ``shown``: what the person's first page showed, carried on while they correct answers."""
    event = response.registration.event
    is_open = feedback.is_open(event)
    language = session.get("language") or response.registration.registrant.language
    items = feedback.questions(event)
    with force_locale(language):
        page = render_template(
            "feedback/answer.html",
            event=event,
            response=response,
            questions=items,
            shown=edits.dumps(feedback.answers_fingerprint(items) if shown is None else shown),
            answers=answers,
            errors=errors or {},
            form=form,
            is_open=is_open,
            last_day=feedback.last_day(event).isoformat(),
            language=language,
        )
    return _private(Response(page, status=status if is_open else 410))


def _shown() -> dict[str, str]:
    """The questionnaire as the person's page showed it; nothing from a page without it (or
    with it damaged on the way): then no choice is taken without asking again."""
    try:
        return edits.loads(request.form.get("shown")) or {}
    except edits.DamagedFingerprint:
        return {}


def _posted(key: str):
    values = request.form.getlist(key)
    return values if len(values) > 1 else values[0]
