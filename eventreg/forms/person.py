"""A person's details (sign-up, manage page, API) and the consent that goes with them."""

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional, ValidationError

from ..choices import (
    country_choices,
    language_choices,
    social_economy_type_choices,
    target_group_choices,
)
from ..formatting import local_title
from ..models import SocialEconomyType, TargetGroup
from ..services.registrations import PersonDetails
from . import Form
from .fields import (
    blank_to_none,
    known_country,
    max_length,
    no_control_characters,
    single_line,
    strip,
    text_block,
    valid_email,
    visible,
)


def name_rules(missing):
    """A name: required, not only invisible characters, one line of at most 100 characters."""
    return [DataRequired(missing), visible(missing), max_length(100), single_line]


class PersonForm(Form):
    """Who the person is: the fields shared by sign-up, the manage page and the API."""

    first_name = StringField(
        _l("First name"), filters=[strip], validators=name_rules(_l("Enter your first name."))
    )
    last_name = StringField(
        _l("Last name"), filters=[strip], validators=name_rules(_l("Enter your last name."))
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


def already_registered_message(event) -> str:
    """The e-mail field's error when the address already holds a registration for the event."""
    return _(
        "This e-mail address is already registered for %(title)s. Use the manage link in your "
        "confirmation e-mail to change that registration.",
        title=local_title(event),
    )
