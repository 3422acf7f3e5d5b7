"""Input of the practices pages: a practice with its first text, a text in another language."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional, ValidationError

from ..choices import country_choices, language_choices
from ..formatting import local_title
from ..forms import Form
from ..forms.fields import (
    SeenField,
    blank_to_none,
    changed_meanwhile,
    known_country,
    max_length,
    single_line,
    strip,
)
from ..models import PracticeText, ProcurementType
from ..services import practices
from ..services.edits import EditConflict
from ..services.practices import PracticeInput, TextInput

PROCUREMENT_TYPE_LABELS = {
    ProcurementType.SERVICES: _l("Services"),
    ProcurementType.SUPPLIES: _l("Supplies"),
    ProcurementType.WORKS: _l("Works"),
    ProcurementType.CONCESSION: _l("Concession"),
    ProcurementType.RESERVED: _l("Reserved contract"),
}


class TextForm(Form):
    """A practice in one language."""

    language = SelectField(_l("Language of this text"))
    title = StringField(
        _l("Title"),
        filters=[strip],
        validators=[DataRequired(_l("Enter a title.")), max_length(200), single_line],
    )
    summary = TextAreaField(
        _l("What was done"), filters=[strip], validators=[Optional(), max_length(5000)]
    )
    clause = TextAreaField(
        _l("The social or ecological clause used (its text)"),
        filters=[strip],
        validators=[Optional(), max_length(5000)],
    )
    results = TextAreaField(
        _l("Results and impact"), filters=[strip], validators=[Optional(), max_length(5000)]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()

    def text(self) -> TextInput:
        return TextInput(
            language=self.language.data,
            title=self.title.data,
            summary=self.summary.data or "",
            clause=self.clause.data or "",
            results=self.results.data or "",
        )


class TranslationForm(TextForm):
    """A text added or corrected on its own page, which shows the chosen language's text."""

    # "1" when the form showed a saved text: a field left blank was then cleared on purpose.
    # Opened for a new text, a blank field must not erase one saved meanwhile.
    revising = HiddenField()
    seen = SeenField()  # the text as the page showed it: see practices.save_text

    def text(self) -> TextInput:
        text = super().text()
        if self.revising.data != "1":
            for name in ("summary", "clause", "results"):
                setattr(text, name, getattr(text, name) or None)
        return text

    def mark_conflicts(self, conflict: EditConflict, stored: PracticeText | None) -> None:
        """Show, on each field someone else saved since the page was opened and this editor
        changed too, what it holds now; the form then carries what it showed, so saving again
        knowingly keeps the entries."""
        now = TranslationForm(formdata=None, obj=stored, language=self.language.data)
        for name in conflict.both:
            changed_meanwhile(self[name], now[name])
        self.seen.data = conflict.seen


class TextLanguageForm(Form):
    """Which language's text to show on the translation page (GET, nothing to protect)."""

    class Meta(Form.Meta):
        csrf = False

    lang = SelectField(_l("Language of this text"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lang.choices = language_choices()


class ReviewForm(Form):
    """An organiser's decision on a proposal, with a note the proposer receives if rejected."""

    note = TextAreaField(
        _l("Note to the proposer (optional, sent only with a rejection)"),
        filters=[strip],
        validators=[Optional(), max_length(2000)],
    )


class UnpublishForm(Form):
    """Taking a practice out of the library: the box must be ticked; the proposer is told."""

    confirm = BooleanField(
        _l("Yes, take this practice out of the library and the best-practice document"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
    note = TextAreaField(
        _l("Reason for the member who proposed it (optional)"),
        filters=[strip],
        validators=[Optional(), max_length(2000)],
    )


class PracticeForm(TextForm):
    """A new practice: where and how it was procured, and its first text."""

    city = StringField(
        _l("City"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the city.")), max_length(120), single_line],
    )
    country = SelectField(
        _l("Country"),
        validators=[DataRequired(_l("Choose the country.")), known_country],
        validate_choice=False,
    )
    event = SelectField(_l("Mission or webinar it came from"), validate_choice=False)
    procurement_type = SelectField(_l("Procurement type"))
    contact = StringField(
        _l("Contact (optional)"),
        filters=[blank_to_none],
        validators=[Optional(), max_length(300), single_line],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [("", _l("Choose a country")), *country_choices()]
        self.event.choices = [("", _l("None")), *self.event_choices()]
        self.procurement_type.choices = [(k.value, v) for k, v in PROCUREMENT_TYPE_LABELS.items()]

    @staticmethod
    def event_choices() -> list[tuple[str, str]]:
        return [(str(event.id), local_title(event)) for event in practices.source_events()]

    def validate_event(self, field):
        if field.data and field.data not in {value for value, _ in self.event_choices()}:
            raise ValidationError(_l("Not a valid choice."))

    def practice(self) -> PracticeInput:
        return PracticeInput(
            city=self.city.data,
            country=self.country.data,
            procurement_type=ProcurementType(self.procurement_type.data),
            event_id=int(self.event.data) if self.event.data else None,
            contact=self.contact.data,
            texts=[self.text()],
        )


class LibraryForm(Form):
    """The library's search and filters (GET, nothing to protect)."""

    class Meta(Form.Meta):
        csrf = False

    q = StringField(_l("Words"), filters=[strip])
    country = SelectField(_l("Country"), validate_choice=False)
    event = SelectField(_l("Mission or webinar"), validate_choice=False)
    procurement_type = SelectField(_l("Procurement type"), validate_choice=False)
    language = SelectField(_l("Available in"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        everything = ("", _l("All"))
        self.country.choices = [everything, *country_choices()]
        self.event.choices = [everything, *PracticeForm.event_choices()]
        self.procurement_type.choices = [
            everything,
            *((k.value, v) for k, v in PROCUREMENT_TYPE_LABELS.items()),
        ]
        self.language.choices = [everything, *language_choices()]


class DocumentForm(Form):
    document = FileField(
        _l("Document (PDF, OpenDocument, Word, Excel, PowerPoint, PNG or JPEG)"),
        validators=[FileRequired(_l("Choose a file."))],
    )
