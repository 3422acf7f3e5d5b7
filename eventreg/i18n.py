"""Which language a request is served in."""

from flask import current_app, g, has_request_context, request, session
from flask_babel import refresh


def select_locale() -> str:
    """The language picked on the site, else the registrant's on their pages, else the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the mail sender and the CLI choose with force_locale
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    picked = session.get("language")
    if picked in languages:
        return picked
    if g.get("registrant_language") in languages:
        return g.registrant_language
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def use_registrant_language(language: str) -> None:
    """Serve a page reached from an e-mail in the registrant's language (unless one was picked)."""
    g.registrant_language = language
    refresh()
