"""The material form: a file or a link, a title per language, who may see it."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectChoice, SelectField, StringField, URLField
from wtforms.validators import URL, DataRequired, Optional, ValidationError

from ..models import MaterialVisibility
from . import Form
from .fields import OTHER_LANGUAGES, add_translations, max_length, single_line, strip

VISIBILITY_LABELS = {
    MaterialVisibility.PUBLIC.value: _l("Public: everyone"),
    MaterialVisibility.REGISTRANTS.value: _l("Registrants only"),
}


class MaterialForm(Form):
    file = FileField(_l("File (PDF, slides, document or image)"))
    url = URLField(
        _l("Or a link (recording, external document)"),
        filters=[strip],
        validators=[
            Optional(),
            URL(require_tld=False, message=_l("Enter a full web address (https://...).")),
            max_length(500),
        ],
    )
    title = StringField(
        _l("Title (English)"),
        filters=[strip],
        validators=[DataRequired(_l("Give the material a title.")), max_length(200), single_line],
    )
    visibility = SelectField(
        _l("Who may see it"),
        choices=[SelectChoice(value, label) for value, label in VISIBILITY_LABELS.items()],
        default=MaterialVisibility.PUBLIC.value,
    )

    def validate_url(self, field):
        if field.data and not field.data.lower().startswith(("https://", "http://")):
            raise ValidationError(_l("Enter a full web address (https://...)."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if bool(self.url.data) == bool(self.file.data) and not self.url.errors:
            self.url.errors.append(_l("Upload a file or give a link (one of the two)."))
            return False
        return valid

    def titles(self) -> dict[str, str]:
        return {"en": self.title.data} | {
            code: self[f"title_{code}"].data or "" for code in OTHER_LANGUAGES
        }

    def title_fields(self):
        return [self[f"title_{code}"] for code in OTHER_LANGUAGES]


add_translations(
    MaterialForm,
    "title",
    lambda language: StringField(
        _l("Title (%(language)s)", language=language),
        filters=[strip],
        validators=[Optional(), max_length(200), single_line],
    ),
)
