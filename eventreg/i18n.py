"""Which language a request is served in."""

from flask import current_app, request, session


def select_locale() -> str:
    """The language picked on the site, else the best match for the browser's languages."""
    languages = current_app.config["LANGUAGES"]
    picked = session.get("language")
    if picked in languages:
        return picked
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )
