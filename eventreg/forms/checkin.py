"""What a scan or a check-in by hand sends: the JSON bodies of the page and the API."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, Field, StringField
from wtforms.validators import Optional, StopValidation

from . import Form


def present(form, field):
    """The key must be in the body; any string in it, even an empty one, is worth checking."""
    if not field.raw_data:
        raise StopValidation(_l("This field is required."))


class DeviceTimeField(Field):
    """A moment with its UTC offset as the device's clock gave it (JavaScript ``toISOString``)."""

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        try:
            moment = datetime.fromisoformat(valuelist[0].strip())
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise ValueError(_l("Give an ISO 8601 date and time with a UTC offset."))
        self.data = moment


class CheckInForm(Form):
    """A check-in by hand; ``scanned_at`` is set when the device queued it while offline."""

    scanned_at = DeviceTimeField()
    # The device's clock when it sent the check-in: how far off that clock is.
    sent_at = DeviceTimeField()
    # Staff saw "not today" and admit the person anyway.
    any_day = BooleanField()

    def how(self) -> dict:
        """When it happened and whether any day will do: the check-in services' options."""
        return {
            "scanned_at": self.scanned_at.data,
            "sent_at": self.sent_at.data,
            "any_day": self.any_day.data,
        }


class ScanForm(CheckInForm):
    """A scanned code on the check-in page."""

    secret = StringField(validators=[present])


class ApiCheckinForm(ScanForm):
    """A scanned code sent to the API, which names the event."""

    event = StringField(validators=[present])


class UndoForm(Form):
    """An undo on the check-in page: of the check-in of ``day`` (a local date), if named."""

    day = DateField(validators=[Optional()])


class ApiUndoForm(UndoForm):
    """An undo sent to the API: the event and the ticket, as for its check-in."""

    event = StringField(validators=[present])
    secret = StringField(validators=[present])
