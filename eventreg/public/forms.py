"""The sign-up form: a person's details, their consent, and the events they choose."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired

from ..forms.fields import MultiCheckboxField, must_be_empty
from ..forms.person import ConsentForm


class SignupForm(ConsentForm):
    """The public sign-up form: events to join, the person, consent and a honeypot for bots.

    The chosen events are checked by the sign-up itself, under its lock: one that closed
    meanwhile, or a slug no published event has, is refused there with the reason.
    """

    events = MultiCheckboxField(
        _l("Events"),
        validators=[DataRequired(_l("Choose at least one event."))],
        validate_choice=False,
    )
    errors_first = ("events",)  # the page asks for the events first (_forms.html error_summary)
    # Hidden from people by CSS; bots fill it in.
    website = StringField(_l("Leave this field empty"), validators=[must_be_empty])
