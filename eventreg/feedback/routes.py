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
from ..services import feedback

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
    try:
        feedback.save_answers(response, raw)
    except feedback.FeedbackClosed:
        return _questionnaire(response, form, response.answers)
    except feedback.InvalidAnswers as invalid:
        return _questionnaire(response, form, raw, invalid.errors, status=422)
    flash(_("Thank you: your answers are saved."), "success")
    return redirect(url_for(".answer", token=token))


def _questionnaire(response, form, answers, errors=None, status=200) -> Response:
    """The questionnaire in the person's language (or the one they picked on the site)."""
    event = response.registration.event
    is_open = feedback.is_open(event)
    language = session.get("language") or response.registration.registrant.language
    with force_locale(language):
        page = render_template(
            "feedback/answer.html",
            event=event,
            response=response,
            questions=feedback.questions(event),
            answers=answers,
            errors=errors or {},
            form=form,
            is_open=is_open,
            closes_at=feedback.closes_at(event),
            language=language,
        )
    return _private(Response(page, status=status if is_open else 410))


def _posted(key: str):
    values = request.form.getlist(key)
    return values if len(values) > 1 else values[0]
