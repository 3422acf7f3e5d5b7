"""Staff login."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from ..forms import Form


class LoginForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class PasswordForm(Form):
    """A new password, typed twice."""

    password = PasswordField(
        _l("New password (at least 10 characters)"),
        validators=[DataRequired(), Length(min=10, max=200)],
    )
    confirm = PasswordField(
        _l("The new password again"),
        validators=[DataRequired(), EqualTo("password", _l("The two passwords differ."))],
    )


class ChangePasswordForm(PasswordForm):
    """A staff member's own password: the current one proves it is them."""

    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
