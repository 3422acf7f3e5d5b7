"""Input of the network pages: joining, the profile, signing in, writing to a member."""

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional, StopValidation

from ..choices import (
    REPORT_REASON_LABELS,
    country_choices,
    language_choices,
    target_group_choices,
)
from ..forms import ConfirmForm, Form
from ..forms.fields import (
    MultiCheckboxField,
    blank_to_none,
    known_country,
    max_length,
    single_line,
    strip,
    valid_email,
)
from ..models import TargetGroup
from ..services import topics
from ..services.members import Profile

FIELD_LABELS = {
    "name": _l("Name"),
    "organisation": _l("Organisation"),
    "country": _l("Country"),
    "target_group": _l("Target group"),
    "role": _l("Role"),
    "topics": _l("Topics of expertise"),
    "languages": _l("Languages spoken"),
    "bio": _l("About me"),
}


class ProfileForm(Form):
    """A member's profile and which of its fields everyone may see."""

    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your name.")), max_length(200), single_line],
    )
    organisation = StringField(
        _l("Organisation"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the organisation you represent.")),
            max_length(200),
            single_line,
        ],
    )
    country = SelectField(
        _l("Country"),
        validators=[DataRequired(_l("Choose your country.")), known_country],
        validate_choice=False,
    )
    target_group = SelectField(
        _l("Which group do you belong to?"),
        validators=[DataRequired(_l("Choose the group that describes your organisation."))],
    )
    role = StringField(
        _l("Role or job title (optional)"),
        filters=[blank_to_none],
        validators=[Optional(), max_length(200), single_line],
    )
    topics = MultiCheckboxField(_l("Topics of expertise"), coerce=int)
    languages = MultiCheckboxField(_l("Languages spoken"))
    bio = TextAreaField(
        _l("About me (optional)"),
        filters=[blank_to_none],
        validators=[Optional(), max_length(1000)],
    )
    language = SelectField(_l("Language of our e-mails"))
    public_fields = MultiCheckboxField(_l("Show to everyone, not only to members"))
    accepts_contact = BooleanField(_l("Other members may write to me through the service"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [("", _l("Choose a country")), *country_choices()]
        self.target_group.choices = [("", _l("Choose a group")), *target_group_choices()]
        self.topics.choices = topics.choices()
        self.languages.choices = language_choices()
        self.language.choices = language_choices()
        self.public_fields.choices = [(name, label) for name, label in FIELD_LABELS.items()]
        if not self.is_submitted() and not self.language.data:
            self.language.data = str(get_locale())

    def profile(self) -> Profile:
        """The validated input as the membership service takes it."""
        return Profile(
            name=self.name.data,
            organisation=self.organisation.data,
            country=self.country.data,
            target_group=TargetGroup(self.target_group.data),
            language=self.language.data,
            role=self.role.data,
            bio=self.bio.data,
            languages=list(self.languages.data or []),
            topic_ids=list(self.topics.data or []),
            public_fields=list(self.public_fields.data or []),
            accepts_contact=bool(self.accepts_contact.data),
        )

    def fill(self, member) -> None:
        """Show a member's current profile in the form."""
        for name in ("name", "organisation", "country", "role", "bio", "language"):
            getattr(self, name).data = getattr(member, name)
        self.target_group.data = member.target_group.value
        self.topics.data = [topic.id for topic in member.topics]
        self.languages.data = list(member.languages)
        self.public_fields.data = list(member.public_fields)
        self.accepts_contact.data = member.accepts_contact


class JoinForm(ProfileForm):
    """Joining the network: an address to confirm, the profile and the separate consent."""

    errors_first = ("email",)  # the page asks for it first (_forms.html error_summary)

    email = StringField(
        _l("E-mail address"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your e-mail address.")), max_length(254), valid_email],
    )
    consent = BooleanField(
        _l(
            "I want to join the network of practice and agree that members see my profile as "
            "described in the privacy notice"
        ),
        validators=[DataRequired(_l("You can only join if you agree."))],
    )
    next = HiddenField()  # the page the member was going to (checked by urls.local_path)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted():
            self.accepts_contact.data = True


class LeaveForm(ConfirmForm):
    """Leaving deletes the profile: only with the box ticked."""

    confirm = BooleanField(
        _l("Yes, delete my profile"),
        validators=[DataRequired(_l("Tick the box to confirm that your profile is deleted."))],
    )


class SignInForm(Form):
    email = StringField(
        _l("E-mail address"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your e-mail address.")), max_length(254), valid_email],
    )
    next = HiddenField()  # the page the member was going to (checked by urls.local_path)


class ContactForm(Form):
    text = TextAreaField(
        _l("Your message"),
        filters=[strip],
        validators=[DataRequired(_l("Write a message.")), max_length(3000)],
    )


def one_of_choices(message):
    """A choice must be made, among those offered (one message for missing and forged)."""

    def check(form, field):
        if field.data not in {choice.value for choice in field.choices}:
            raise StopValidation(message)

    return check


class ReportForm(Form):
    """Telling the organisers about a member: what (the profile or a message), why, and
    whether to stop their messages too."""

    subject = RadioField(
        _l("What are you reporting?"),
        validators=[one_of_choices(_l("Choose what you are reporting."))],
        validate_choice=False,
    )
    reason = RadioField(
        _l("Why are you reporting it?"),
        choices=[SelectChoice(value, label) for value, label in REPORT_REASON_LABELS.items()],
        validators=[one_of_choices(_l("Choose a reason."))],
        validate_choice=False,
    )
    note = TextAreaField(
        _l("What happened? (optional)"),
        filters=[blank_to_none],
        validators=[Optional(), max_length(1000)],
    )
    block = BooleanField(_l("Also stop this member's messages to me"))

    def __init__(self, *args, subjects: list[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.subject.choices = [SelectChoice(value, label) for value, label in subjects]

    @property
    def message_ref(self) -> int | None:
        """The reported message (the reporter's copy in the outbox); None: the profile."""
        kind, _, ref = (self.subject.data or "").partition("-")
        return int(ref) if kind == "message" and ref.isdigit() else None


class DirectoryForm(Form):
    """The directory's search and filters (GET, nothing to protect)."""

    class Meta(Form.Meta):
        csrf = False

    q = StringField(_l("Search"), filters=[strip])
    country = SelectField(_l("Country"), validate_choice=False)
    topic = SelectField(_l("Topic"), validate_choice=False)
    target_group = SelectField(_l("Target group"), validate_choice=False)
    language = SelectField(_l("Language spoken"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        everything = ("", _l("All"))
        self.country.choices = [everything, *country_choices()]
        self.topic.choices = [everything, *((str(i), label) for i, label in topics.choices())]
        self.target_group.choices = [everything, *target_group_choices()]
        self.language.choices = [everything, *language_choices()]


class AnnouncementForm(Form):
    subject = StringField(
        _l("Subject"),
        filters=[strip],
        validators=[DataRequired(_l("Enter a subject.")), max_length(200), single_line],
    )
    text = TextAreaField(
        _l("Message"),
        filters=[strip],
        validators=[DataRequired(_l("Write a message.")), max_length(10000)],
    )


class TopicForm(Form):
    name = StringField(
        _l("New topic"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the topic.")), max_length(120), single_line],
    )
