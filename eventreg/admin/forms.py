"""Forms of the organiser area."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ..config import LANGUAGES
from ..formatting import (
    ROLE_LABELS,
    STATUS_LABELS,
    event_date,
    iso_date,
    local_title,
    zone_choices,
)
from ..forms import Form
from ..forms.fields import (
    OTHER_LANGUAGES,
    MultiCheckboxField,
    SeenField,
    add_translations,
    changed_meanwhile,
    max_length,
    single_line,
    strip,
    text_block,
    valid_email,
)
from ..forms.person import ConsentForm
from ..local_times import LocalTimeError, aware
from ..models import EventKind, EventMode, EventStatus, RegistrationStatus
from ..services.accounts import MIN_PASSWORD_LENGTH
from ..services.agenda import (
    AgendaError,
    agenda_dates,
    agenda_text,
    check_days,
    day_titles_from_text,
    day_titles_text,
    days_from_text,
    moved_days,
    redated_day_titles,
)
from ..services.edits import EditConflict

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class PromoteForm(Form):
    """Give a waiting person a seat; ahead of people waiting longer only when ticked."""

    ahead_of_queue = BooleanField(_l("Yes, give this person a seat ahead of them"))


class EventForm(Form):
    """Everything the programme file holds about an event; times are local to its zone."""

    slug = StringField(
        _l("Slug (the event's address)"),
        filters=[strip],
        validators=[
            DataRequired(),
            max_length(80),
            Regexp(
                r"^[a-z0-9]+(-[a-z0-9]+)*$",
                message=_l("Use lower-case letters, digits and dashes."),
            ),
        ],
    )
    title = StringField(
        _l("Title"), filters=[strip], validators=[DataRequired(), max_length(200), single_line]
    )
    description = TextAreaField(
        _l("Description"), filters=[text_block], validators=[max_length(5000)]
    )
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice(EventKind.MISSION.value, _l("Study mission")),
            SelectChoice(EventKind.WEBINAR.value, _l("Webinar")),
        ],
    )
    mode = SelectField(
        _l("Format"),
        choices=[
            SelectChoice(EventMode.IN_PERSON.value, _l("In person")),
            SelectChoice(EventMode.ONLINE.value, _l("Online")),
        ],
    )
    timezone = SelectField(_l("Time zone"), default="Europe/Brussels")
    starts_at = DateTimeLocalField(_l("Starts"), format=LOCAL_FORMAT, validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Ends"), format=LOCAL_FORMAT, validators=[DataRequired()])
    agenda = TextAreaField(
        _l("Days (an event over several days: one day a line)"),
        filters=[text_block],
        validators=[max_length(5000)],
    )
    city = StringField(
        _l("City (in person)"), filters=[strip], validators=[max_length(120), single_line]
    )
    venue = StringField(
        _l("Venue (in person)"), filters=[strip], validators=[max_length(300), single_line]
    )
    online_url = URLField(
        _l("Meeting URL (online; only registrants see it)"),
        filters=[strip],
        validators=[Optional(), URL(require_tld=False), max_length(500)],
    )
    host_partner = StringField(
        _l("Host partner"),
        filters=[strip],
        validators=[DataRequired(), max_length(200), single_line],
    )
    contact_email = StringField(
        _l("Contact e-mail for this event (replies go here; empty: the site's address)"),
        filters=[strip],
        validators=[Optional(), max_length(254), valid_email],
    )
    capacity = IntegerField(
        _l("Capacity (leave empty for unlimited)"), validators=[Optional(), NumberRange(min=0)]
    )
    registration_opens_at = DateTimeLocalField(
        _l("Registration opens"), format=LOCAL_FORMAT, validators=[DataRequired()]
    )
    registration_closes_at = DateTimeLocalField(
        _l("Registration closes"), format=LOCAL_FORMAT, validators=[DataRequired()]
    )
    publish = BooleanField(_l("Publish now (otherwise saved as a draft)"))
    seen = SeenField()

    def __init__(self, *args, event=None, **kwargs):
        """``event``: the event being edited, whose agenda the edit page showed."""
        super().__init__(*args, **kwargs)
        self.event = event
        self.timezone.choices = zone_choices(event.timezone if event is not None else None)
        if event is not None and event.slug_is_fixed:
            self.slug.render_kw = {"readonly": True}

    def validate_slug(self, field):
        if self.event is not None and self.event.slug_is_fixed and field.data != self.event.slug:
            raise ValidationError(_l("A published event keeps its address."))

    def validate_starts_at(self, field):
        self._check_in_zone(field)

    def validate_ends_at(self, field):
        self._check_in_zone(field)
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The event must end after it starts."))

    def validate_registration_opens_at(self, field):
        self._check_in_zone(field)

    def _check_in_zone(self, field):
        """A local time the zone's clock change skips or repeats names no one moment."""
        if self._kept_moment(field.name) is not None:
            return
        if field.data and self.timezone.data in {value for value, _label in self.timezone.choices}:
            try:
                aware(field.data, ZoneInfo(self.timezone.data))
            except LocalTimeError as exc:
                raise ValidationError(str(exc)) from exc

    def validate_agenda(self, field):
        if not (field.data and self.starts_at.data and self.ends_at.data):
            return
        if self.timezone.data not in {value for value, _label in self.timezone.choices}:
            return  # the time zone field says what is wrong
        zone = ZoneInfo(self.timezone.data)
        try:
            starts_at, ends_at = self._moment("starts_at"), self._moment("ends_at")
        except LocalTimeError:
            return  # their own fields say what is wrong
        try:
            days = days_from_text(field.data, zone, self._kept_days())
            if not self._same_hours(days, starts_at, ends_at):
                check_days(days, starts_at, ends_at, zone)
        except AgendaError as exc:
            raise ValidationError(str(exc)) from exc

    def _same_hours(self, days: list, starts_at: datetime, ends_at: datetime) -> bool:
        """Whether the event and its days keep the hours they have: such an agenda was checked
        when saved, and an edit of other fields does not stop on a rule that came later (days
        between the event's start and end)."""
        event = self.event
        hours = sorted((day.starts_at, day.ends_at) for day in days)
        return (
            event is not None
            and (starts_at, ends_at) == (event.starts_at, event.ends_at)
            and hours == [(day.starts_at, day.ends_at) for day in event.agenda]
        )

    def validate_registration_closes_at(self, field):
        self._check_in_zone(field)
        opens = self.registration_opens_at.data
        if opens and field.data and field.data <= opens:
            raise ValidationError(_l("Registration must close after it opens."))

    def validate_city(self, field):
        if self.mode.data == EventMode.IN_PERSON and not field.data:
            raise ValidationError(_l("An in-person event needs a city."))

    def event_values(self) -> dict:
        """The validated input as event columns, local times made aware in the chosen zone."""
        zone = ZoneInfo(self.timezone.data)
        online = self.mode.data == EventMode.ONLINE
        values = {
            "slug": self.slug.data,
            "title": self.title.data,
            "description": self.description.data or "",
            "kind": EventKind(self.kind.data),
            "mode": EventMode(self.mode.data),
            "timezone": self.timezone.data,
            "city": None if online else self.city.data,
            "venue": None if online else (self.venue.data or None),
            "online_url": self.online_url.data or None,
            "host_partner": self.host_partner.data,
            "contact_email": self.contact_email.data or None,
            "capacity": self.capacity.data,
            "translations": self._translations(),
            "agenda": days_from_text(self.agenda.data, zone, self._kept_days()),
        }
        for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
            values[name] = self._moment(name)
        return values

    def _moment(self, name: str) -> datetime:
        """The moment a time field names in the chosen zone (LocalTimeError: none, or two)."""
        kept = self._kept_moment(name)
        return (
            kept
            if kept is not None
            else aware(getattr(self, name).data, ZoneInfo(self.timezone.data))
        )

    def _kept_moment(self, name: str) -> datetime | None:
        """The edited event's time when its field still shows it, in the same zone: kept as
        stored, also in an hour the clocks repeat (saved before such hours were refused);
        only a time entered anew must name one moment."""
        event = self.event
        if event is None or self.timezone.data != event.timezone:
            return None
        stored = getattr(event, name)
        shown = _local(stored, event.zone).replace(second=0, microsecond=0)
        return stored if getattr(self, name).data == shown else None

    def _kept_days(self) -> list:
        """The edited event's days, whose lines the agenda keeps as stored, in the same zone."""
        event = self.event
        return event.agenda if event is not None and self.timezone.data == event.timezone else []

    def _translations(self) -> dict:
        translations = {}
        dates = agenda_dates(self.agenda.data)
        for code in OTHER_LANGUAGES:
            texts = {
                name: getattr(self, f"{name}_{code}").data
                for name in ("title", "description")
                if getattr(self, f"{name}_{code}").data
            }
            if days := day_titles_from_text(self.day_titles(code), dates):
                texts["days"] = days
            if texts:
                translations[code] = texts
        return translations

    def day_titles(self, code: str) -> str:
        """A language's day-title lines. Left as the edit page showed them while the agenda's
        days moved, they move with their days: the organiser need not re-date six languages."""
        text = getattr(self, f"days_{code}").data or ""
        if self.event is None or text != day_titles_text(self.event, code):
            return text
        return redated_day_titles(text, moved_days(self.event, self.agenda.data))

    def translation_fields(self):
        """(language name, title, description and day titles fields) for each other language."""
        return [
            (LANGUAGES[code], *(getattr(self, f"{name}_{code}") for name in TRANSLATED_FIELDS))
            for code in OTHER_LANGUAGES
        ]

    @classmethod
    def shown_values(cls, event) -> dict:
        """The event's values as this form shows them, and sends them back when left as they
        are (times to the minute, tidied texts): what an edit is compared with."""
        form = cls(formdata=None, event=event)
        form.load(event)
        return form.event_values()

    def mark_conflicts(self, conflict: EditConflict, stored) -> None:
        """Show what someone else saved meanwhile where it meets this organiser's changes: a
        field both changed keeps this organiser's entry, with what it holds now; a field only
        they changed now shows their value. The form then carries what it showed, so saving
        again knowingly keeps the entries."""
        now = EventForm(formdata=None, event=stored)
        now.load(stored)
        for name in conflict.both:
            for mine in self._fields_showing(name):
                changed_meanwhile(mine, now[mine.name])
        for name in conflict.theirs:
            for mine in self._fields_showing(name):
                mine.data, mine.raw_data = now[mine.name].data, None
                mine.errors = [
                    *mine.errors,
                    _(
                        "Someone else changed this after you opened the page, and it goes with "
                        "your changes: it now shows their value. Check it, then save again."
                    ),
                ]
        self.seen.data = conflict.seen

    def _fields_showing(self, name: str) -> list:
        """The fields that show one of the edit's values (``translations.it.title``: one
        text of a translation)."""
        if name.startswith("translations."):
            _prefix, code, part = name.split(".")
            return [self[f"{part}_{code}"]]
        return [self[name]]

    def load(self, event) -> None:
        """Fill the form from an event, with times shown in its own zone."""
        for name in (
            "slug",
            "title",
            "description",
            "city",
            "venue",
            "online_url",
            "host_partner",
            "contact_email",
            "capacity",
            "timezone",
        ):
            getattr(self, name).data = getattr(event, name)
        self.kind.data = event.kind.value
        self.mode.data = event.mode.value
        for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
            getattr(self, name).data = _local(getattr(event, name), event.zone)
        self.agenda.data = agenda_text(event)
        self.publish.data = event.status is EventStatus.PUBLISHED
        for code, texts in (event.translations or {}).items():
            for name, text in texts.items():
                getattr(self, f"{name}_{code}").data = (
                    day_titles_text(event, code) if name == "days" else text
                )


def check_ins_left_out_error(left_out: dict[date, int]) -> str:
    """Why an event's days cannot change so: the days that would leave check-ins out."""
    return _(
        "Check-ins are recorded on %(days)s, which would no longer be a day of the event. "
        "Keep those days, or undo their check-ins at the door first. Nothing was changed.",
        days=_check_ins_by_day(left_out),
    )


def check_ins_shifted_error(shifted: dict[date, int]) -> str:
    """Why an event's time zone cannot change so: the days whose check-ins it would move."""
    return _(
        "Check-ins recorded on %(days)s would fall on another date in the new time zone. "
        "Keep the time zone, or undo those check-ins at the door first. Nothing was changed.",
        days=_check_ins_by_day(shifted),
    )


def _check_ins_by_day(counts: dict[date, int]) -> str:
    return "; ".join(
        ngettext(
            "%(day)s (%(num)d check-in)",
            "%(day)s (%(num)d check-ins)",
            count,
            day=iso_date(day.isoformat()),
        )
        for day, count in counts.items()
    )


add_translations(
    EventForm,
    "title",
    lambda _: StringField(_l("Title"), filters=[strip], validators=[max_length(200), single_line]),
)
add_translations(
    EventForm,
    "description",
    lambda _: TextAreaField(_l("Description"), filters=[text_block], validators=[max_length(5000)]),
)


def _day_titles_name_agenda_days(form, field):
    if form.agenda.errors:
        return  # the agenda's own message says what to fix first
    try:
        day_titles_from_text(
            form.day_titles(field.name.removeprefix("days_")), agenda_dates(form.agenda.data)
        )
    except AgendaError as exc:
        raise ValidationError(str(exc)) from exc


add_translations(
    EventForm,
    "days",
    lambda _: TextAreaField(
        _l("Titles of the days (several days: one a line, the date, then the title)"),
        filters=[text_block],
        validators=[max_length(5000), _day_titles_name_agenda_days],
    ),
)
TRANSLATED_FIELDS = ("title", "description", "days")


def _local(moment: datetime, zone) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


class AddPersonForm(ConsentForm):
    """An organiser adds a person by hand (e.g. who registered by phone)."""


class MoveForm(Form):
    """Move a registration to another event."""

    target = SelectField(_l("Move to"), validators=[DataRequired()])

    def __init__(self, *args, events=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.target.choices = [(event.slug, local_title(event)) for event in events]


class MessageForm(Form):
    """Write to the registrants of an event, filtered by status."""

    statuses = MultiCheckboxField(
        _l("Send to"),
        choices=[
            SelectChoice(status.value, STATUS_LABELS[status.value])
            for status in (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)
        ],
        default=[RegistrationStatus.CONFIRMED.value],
        validators=[DataRequired(_l("Choose at least one group."))],
    )
    subject = StringField(
        _l("Subject"), filters=[strip], validators=[DataRequired(), max_length(200), single_line]
    )
    body = TextAreaField(
        _l("Message"), filters=[text_block], validators=[DataRequired(), max_length(10000)]
    )


class UserForm(Form):
    """An admin creates a staff account."""

    email = StringField(
        _l("E-mail address"), filters=[strip], validators=[DataRequired(), max_length(254)]
    )
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(value, label) for value, label in ROLE_LABELS.items()],
    )
    password = StringField(
        _l("Initial password (at least 10 characters)"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH), max_length(200)],
    )


def event_label(event) -> str:
    """An event as a choice: its full title and its dates, so similar titles tell apart."""
    return f"{local_title(event)} ({event_date(event)})"


class RoleForm(Form):
    """What a staff account may do."""

    role = SelectField(
        _l("Role"), choices=[SelectChoice(value, label) for value, label in ROLE_LABELS.items()]
    )


class StaffEventsForm(Form):
    """Which events a check-in staff member works at."""

    events = MultiCheckboxField(_l("Events"), validators=[Optional()], default=list)
    # The events the page showed ticked: only what the admin ticked or cleared changes, not
    # what another admin assigned since.
    shown = HiddenField()

    def __init__(self, *args, events=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.events.choices = [(event.slug, event_label(event)) for event in events]

    def show(self, assigned: list) -> None:
        self.events.data = [event.slug for event in assigned]
        self.shown.data = " ".join(self.events.data)

    def changes(self, programme: list, assigned: list) -> tuple[list, list]:
        """The events ticked and cleared since the page showed them (a page without
        ``shown`` showed the events assigned now)."""
        ticked = set(self.events.data or [])
        shown = set(self.shown.data.split()) if self.shown.data is not None else None
        if shown is None:
            shown = {event.slug for event in assigned}
        added = [event for event in programme if event.slug in ticked - shown]
        removed = [event for event in programme if event.slug in shown - ticked]
        return added, removed
