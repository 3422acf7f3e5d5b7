"""The participant report upload and the confirmation of its preview."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired


class ReportForm(FlaskForm):
    report = FileField(
        _l("Participant report (CSV from Zoom or Teams)"),
        validators=[FileRequired(_l("Choose the report file."))],
    )


class ApplyForm(FlaskForm):
    """Apply exactly what the preview showed: its changes travel signed in ``changes``."""

    changes = HiddenField(validators=[DataRequired()])
