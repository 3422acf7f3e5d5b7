"""The form of one question of an event's questionnaire."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional, ValidationError

from ...config import LANGUAGES
from ...forms import Form
from ...forms.fields import (
    OTHER_LANGUAGES,
    SeenField,
    add_translations,
    changed_meanwhile,
    max_length,
    single_line,
    strip,
)
from ...models import QuestionKind
from ...services.edits import EditConflict

KIND_LABELS = {
    QuestionKind.RATING.value: _l("Rating from 1 to 5"),
    QuestionKind.SINGLE_CHOICE.value: _l("Single choice"),
    QuestionKind.MULTIPLE_CHOICE.value: _l("Multiple choice"),
    QuestionKind.TEXT.value: _l("Text"),
}


class QuestionForm(Form):
    kind = SelectField(
        _l("Kind of question"),
        choices=[SelectChoice(value, label) for value, label in KIND_LABELS.items()],
    )
    required = BooleanField(_l("An answer is required"))
    text_en = StringField(
        _l("Question (English)"),
        filters=[strip],
        validators=[DataRequired(_l("Write the question.")), max_length(300), single_line],
    )
    options_en = TextAreaField(
        _l("Choices (English), one per line"), filters=[strip], validators=[max_length(2000)]
    )
    seen = SeenField()  # the question as the page showed it: see feedback.save_question

    @staticmethod
    def kind_labels() -> dict[str, str]:
        return KIND_LABELS

    def validate_options_en(self, field):
        if self.kind.data in ("single_choice", "multiple_choice") and len(self._lines("en")) < 2:
            raise ValidationError(_l("A choice question needs at least two choices."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        count = len(self._lines("en"))
        for code in OTHER_LANGUAGES:
            lines = self._lines(code)
            if lines and len(lines) != count:
                field = self[f"options_{code}"]
                field.errors.append(_l("Give as many choices as in English, in the same order."))
                valid = False
        return valid

    def _lines(self, code: str) -> list[str]:
        text = self[f"options_{code}"].data or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def texts(self) -> dict[str, str]:
        return {code: self[f"text_{code}"].data or "" for code in LANGUAGES}

    def options(self) -> list[dict[str, str]]:
        english = self._lines("en")
        others = {code: self._lines(code) for code in OTHER_LANGUAGES}
        return [
            {"en": text} | {code: lines[i] for code, lines in others.items() if lines}
            for i, text in enumerate(english)
        ]

    def language_fields(self):
        return [(self[f"text_{code}"], self[f"options_{code}"]) for code in OTHER_LANGUAGES]

    def mark_conflicts(self, conflict: EditConflict, stored) -> None:
        """Show, on each field someone else saved since the page was opened, what it holds now;
        the form then carries what it showed, so saving again knowingly keeps the entries."""
        now = QuestionForm(formdata=None)
        now.load(stored)
        for name in conflict.both + conflict.theirs:
            field = _FORM_FIELD.get(name) or name.replace("text.", "text_")
            changed_meanwhile(self[field], now[field])
        self.seen.data = conflict.seen

    def load(self, question) -> None:
        self.kind.data = question.kind.value
        self.required.data = question.required
        for code in LANGUAGES:
            self[f"text_{code}"].data = question.texts.get(code, "")
            self[f"options_{code}"].data = "\n".join(
                option.get(code, "") for option in question.options
            ).strip()


# The form field that shows each of feedback.question_values (``text.<code>``: ``text_<code>``).
_FORM_FIELD = {"kind": "kind", "required": "required", "options": "options_en"}

add_translations(
    QuestionForm,
    "text",
    lambda language: StringField(
        _l("Question (%(language)s)", language=language),
        filters=[strip],
        validators=[Optional(), max_length(300), single_line],
    ),
)
add_translations(
    QuestionForm,
    "options",
    lambda language: TextAreaField(
        _l("Choices (%(language)s), one per line", language=language),
        filters=[strip],
        validators=[max_length(2000)],
    ),
)
