"""The sign-up form: a person's details, their consent, and the events they choose."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired

from ..formatting import local_title
from ..forms.fields import MultiCheckboxField, must_be_empty
from ..forms.person import ConsentForm


class SignupForm(ConsentForm):
    """The public sign-up form: events to join, the person, consent and a honeypot for bots."""

    events = MultiCheckboxField(
        _l("Events"), validators=[DataRequired(_l("Choose at least one event."))]
    )
    # Hidden from people by CSS; bots fill it in.
    website = StringField(_l("Leave this field empty"), validators=[must_be_empty])

    def __init__(self, *args, open_events=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.events.choices = [(event.slug, local_title(event)) for event in open_events]
