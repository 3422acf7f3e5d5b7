"""Forms on a registrant's manage page."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField
from wtforms.validators import DataRequired

from ..formatting import local_title
from ..forms import Form
from ..forms.fields import MultiCheckboxField, max_length, strip, valid_email
from ..forms.person import PersonForm


class DetailsForm(PersonForm):
    """Correct one's own details."""


class AddEventsForm(Form):
    """Sign up for more events without typing one's details again."""

    events = MultiCheckboxField(
        _l("Events"), validators=[DataRequired(_l("Choose at least one event."))]
    )

    def __init__(self, *args, open_events=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.events.choices = [(event.slug, local_title(event)) for event in open_events]


class CancelForm(Form):
    """The cancel button of the confirmation page: only it carries ``confirm``."""

    confirm = HiddenField(validators=[DataRequired()])


class EraseForm(Form):
    """Erase one's data, confirmed with a tick."""

    confirm = BooleanField(
        _l("Yes, cancel all my registrations and erase my data"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


class ResendForm(Form):
    """Ask for one's manage link again."""

    email = EmailField(
        _l("E-mail address"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your e-mail address.")), max_length(254), valid_email],
    )
