"""Filters, validators and fields that every form of the site shares."""

import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, SelectMultipleField
from wtforms.validators import Length, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..choices import (
    country_codes,
)
from ..config import LANGUAGES
from ..formatting import shortened
from ..services import edits

OTHER_LANGUAGES = [code for code in LANGUAGES if code != "en"]  # translations beside English


def add_translations(form_class, name: str, make_field) -> None:
    """Give the form a ``<name>_<code>`` field per translation: ``make_field(language name)``."""
    for code in OTHER_LANGUAGES:
        setattr(form_class, f"{name}_{code}", make_field(LANGUAGES[code]))


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
    """Check the address's form (not its mailbox) and store it normalised and lower-case.

    Letters outside ASCII before the @ need SMTPUTF8, which many mail servers lack: such an
    address is refused, saying why. A domain in another script (``пример.бг``) is kept in its
    ASCII form (``xn--e1afmkfd.xn--90ae``), which every server delivers to."""
    if not field.data:
        return
    try:
        result = validate_email(field.data, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        local_part = field.data.rpartition("@")[0]
        if local_part and not local_part.isascii():
            raise ValidationError(
                _l(
                    "Use Latin letters, digits and . _ - + before the @: many mail servers "
                    "cannot deliver to other letters there."
                )
            ) from exc
        raise ValidationError(
            _l("Enter a valid e-mail address, such as name@example.org.")
        ) from exc
    field.data = result.ascii_email.lower()


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


class SeenField(HiddenField):
    """What an edit page showed, as a fingerprint (services/edits.py): ``data`` is the
    fingerprint, or None when the page carried none."""

    def _value(self) -> str:
        return edits.dumps(self.data) if self.data else ""

    def process_formdata(self, valuelist):
        self.damaged = False
        try:
            self.data = edits.loads(valuelist[0] if valuelist else None)
        except edits.DamagedFingerprint:
            self.data, self.damaged = None, True

    def pre_validate(self, form):
        if getattr(self, "damaged", False):
            raise StopValidation(_l("This page was changed on the way. Reload it and edit again."))


def changed_meanwhile(field, now) -> None:
    """Tell the editor that someone else saved this field after the page was opened, and what
    it holds now (``now``: the same field showing the stored value); the entry stays."""
    field.errors = [
        *field.errors,
        _(
            "Someone else saved this after you opened the page; it is now: "
            "%(value)s. Save again to replace it with what you entered.",
            value=shown_value(now),
        ),
    ]


def shown_value(field, limit: int = 160) -> str:
    """A field's value as the form shows it: a choice by its label, long text shortened."""
    if isinstance(field, SelectField):
        text = next(
            (str(label) for _v, label, selected, *_ in field.iter_choices() if selected), ""
        )
    else:
        text = field._value()
    text = " ".join(text.split())
    if not text:
        return _("(empty)")
    return shortened(text, limit)
