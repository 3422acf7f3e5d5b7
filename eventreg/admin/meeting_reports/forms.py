"""The participant report upload and the confirmation of its preview."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired

from ...forms import Form


class ReportForm(Form):
    report = FileField(
        _l("Participant report (CSV from Zoom or Teams)"),
        validators=[FileRequired(_l("Choose the report file."))],
    )


class ApplyForm(Form):
    """Apply exactly what the preview showed: its changes travel signed in ``changes``."""

    changes = HiddenField(validators=[DataRequired()])
