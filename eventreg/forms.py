"""The base of every form: Flask-WTF's, with WTForms' own messages read once per language."""

from functools import cache

from babel.support import Translations
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


class Form(FlaskForm):
    """A Flask-WTF form whose built-in messages ("This field is required.") are translated.

    Flask-WTF loads WTForms' catalogue from disk again on every request that builds a form;
    profiles of the sign-up and check-in APIs showed it at 7-10% of the request.
    """

    class Meta:
        def get_translations(self, form):
            return wtforms_translations(str(get_locale()))


@cache
def wtforms_translations(locale: str) -> Translations:
    """WTForms' messages in one language, loaded once per process."""
    return Translations.load(messages_path(), [locale], domain="wtforms")
