"""Forms on a registrant's manage page."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField
from wtforms.validators import DataRequired

from ..formatting import local_title
from ..forms import Form
from ..public.forms import MultiCheckboxField, PersonForm


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
    """An empty form: a CSRF-protected cancel button."""


class EraseForm(Form):
    """Erase one's data, confirmed with a tick."""

    confirm = BooleanField(
        _l("Yes, cancel all my registrations and erase my data"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
