"""The base of every form: Flask-WTF's, with WTForms' own messages read once per language."""

from functools import cache

from babel.support import Translations
from flask import abort, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import BooleanField, FileField
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired


class Form(FlaskForm):
    """A Flask-WTF form whose built-in messages ("This field is required.") are translated.

    Flask-WTF loads WTForms' catalogue from disk again on every request that builds a form;
    profiles of the sign-up and check-in APIs showed it at 7-10% of the request.
    """

    class Meta:
        def get_translations(self, form):
            return wtforms_translations(str(get_locale()))

        def wrap_formdata(self, form, formdata):
            """The submitted data, with uploads only for file fields: a file is no name."""
            try:
                data = super().wrap_formdata(form, formdata)
            except (RecursionError, TypeError, ValueError):  # a JSON body no form can take
                abort(400)
            if isinstance(data, CombinedMultiDict):
                wanted = {field.name for field in form if isinstance(field, FileField)}
                uploads = [(n, f) for n, f in request.files.items(multi=True) if n in wanted]
                data = CombinedMultiDict((MultiDict(uploads), request.form))
            return data


class ButtonForm(Form):
    """An empty form: a POST button protected against cross-site requests (publish, send ...)."""


class ConfirmForm(Form):
    """A button for something that cannot be undone: the box must be ticked."""

    confirm = BooleanField(_l("Yes, I am sure"), validators=[DataRequired()])


@cache
def wtforms_translations(locale: str) -> Translations:
    """WTForms' messages in one language, loaded once per process."""
    return Translations.load(messages_path(), [locale], domain="wtforms")


def form_page(template: str, *, form: FlaskForm, **context) -> tuple[str, int]:
    """A page with a form: 422 when the form was sent back with errors, 200 otherwise."""
    return render_template(template, form=form, **context), 422 if form.errors else 200
