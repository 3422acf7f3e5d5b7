"""The sign-up form and the person's details, shared by the manage page and the API."""

import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..choices import (
    country_choices,
    country_codes,
    language_choices,
    social_economy_type_choices,
    target_group_choices,
)
from ..formatting import local_title
from ..forms import Form
from ..models import SocialEconomyType, TargetGroup
from ..services.registrations import PersonDetails


def strip(value):
    return value.strip() if isinstance(value, str) else value


def blank_to_none(value):
    value = strip(value)
    return value or None


def text_block(value):
    """A textarea's text with the browser's CRLF line endings as LF, so that saving an
    unchanged form compares equal to what is stored."""
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def single_line(form, field):
    """Names and addresses end up in e-mail headers and CSV cells: no line breaks or controls."""
    if field.data and any(ord(char) < 32 or ord(char) == 127 for char in field.data):
        raise ValidationError(_l("Use a single line without special control characters."))


# Letters and symbols that show nothing, though Unicode does not class them as blanks.
_BLANK_LOOKALIKES = frozenset("\u115f\u1160\u2800\u3164\uffa0")


def visible(message):
    """Refuse text made only of invisible characters, such as zero-width spaces."""

    def check(form, field):
        if field.data and all(_is_invisible(char) for char in field.data):
            raise StopValidation(message)

    return check


def _is_invisible(char: str) -> bool:
    # Controls, formats (zero-width space and joiners), separators, lone combining marks.
    return unicodedata.category(char)[0] in "CZM" or char in _BLANK_LOOKALIKES


def no_control_characters(form, field):
    """Several lines are fine; other control characters (NUL, escapes) have no place in text."""
    if field.data and any(
        (ord(char) < 32 and char not in "\r\n\t") or ord(char) == 127 for char in field.data
    ):
        raise ValidationError(_l("Use text without special control characters."))


def valid_email(form, field):
    """Check the address's form (not its mailbox) and store it normalised and lower-case."""
    if not field.data:
        return
    try:
        result = validate_email(field.data, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(
            _l("Enter a valid e-mail address, such as name@example.org.")
        ) from exc
    field.data = result.normalized.lower()


def must_be_empty(form, field):
    if field.data:
        raise ValidationError(_l("Leave this field empty."))


def max_length(limit: int) -> Length:
    return Length(max=limit, message=_l("Use at most %(max)d characters."))


def known_country(form, field):
    if field.data and field.data not in country_codes():
        raise ValidationError(_l("Not a valid choice."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PersonForm(Form):
    """Who the person is: the fields shared by sign-up, the manage page and the API."""

    first_name = StringField(
        _l("First name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your first name.")),
            visible(_l("Enter your first name.")),
            max_length(100),
            single_line,
        ],
    )
    last_name = StringField(
        _l("Last name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your last name.")),
            visible(_l("Enter your last name.")),
            max_length(100),
            single_line,
        ],
    )
    email = StringField(
        _l("E-mail address"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your e-mail address.")), max_length(254), valid_email],
    )
    organisation = StringField(
        _l("Organisation"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the organisation you represent.")),
            visible(_l("Enter the organisation you represent.")),
            max_length(200),
            single_line,
        ],
    )
    job_title = StringField(
        _l("Role or job title (optional)"),
        filters=[blank_to_none],
        validators=[Optional(), max_length(200), single_line],
    )
    country = SelectField(
        _l("Country"),
        validators=[DataRequired(_l("Choose your country.")), known_country],
        validate_choice=False,  # known_country checks a set instead of scanning 250 choices
    )
    target_group = SelectField(
        _l("Which group do you belong to?"),
        validators=[DataRequired(_l("Choose the group that describes your organisation."))],
    )
    social_economy_type = SelectField(
        _l("Type of social-economy organisation (optional)"),
        filters=[blank_to_none],
        validators=[Optional()],
    )
    language = SelectField(
        _l("Preferred language"), validators=[DataRequired(_l("Choose a language."))]
    )
    needs = TextAreaField(
        _l("Accessibility or dietary needs (for in-person missions; optional)"),
        filters=[text_block, blank_to_none],
        validators=[Optional(), max_length(1000), no_control_characters],
    )
    network_opt_in = BooleanField(
        _l("List me in the network of practice, the programme's open community")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [("", _l("Choose a country")), *country_choices()]
        self.target_group.choices = [("", _l("Choose a group")), *target_group_choices()]
        self.social_economy_type.choices = [("", "—"), *social_economy_type_choices()]
        self.language.choices = language_choices()
        if not self.is_submitted() and not self.language.data:
            self.language.data = str(get_locale())

    def validate_social_economy_type(self, field):
        if field.data and self.target_group.data != TargetGroup.SOCIAL_ECONOMY:
            raise ValidationError(_l("Only social-economy actors choose a type."))

    def person_details(self) -> PersonDetails:
        """The validated input as the registration service takes it."""
        return PersonDetails(
            first_name=self.first_name.data,
            last_name=self.last_name.data,
            email=self.email.data,
            organisation=self.organisation.data,
            job_title=self.job_title.data,
            country=self.country.data,
            target_group=TargetGroup(self.target_group.data),
            social_economy_type=(
                SocialEconomyType(self.social_economy_type.data)
                if self.social_economy_type.data
                else None
            ),
            language=self.language.data,
            needs=self.needs.data,
            network_opt_in=bool(self.network_opt_in.data),
        )


class ConsentForm(PersonForm):
    """A person signing up: their details and their consent to the processing of their data."""

    consent = BooleanField(
        _l("I agree to the processing of my personal data as described in the privacy notice"),
        validators=[DataRequired(_l("You can only register if you agree to the privacy notice."))],
    )


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
