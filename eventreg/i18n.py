"""Which language a request is served in."""

from flask import current_app, has_request_context, request, session


def select_locale() -> str:
    """The language picked on the site, else the best match for the browser's languages."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the mail sender and the CLI choose with force_locale
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    picked = session.get("language")
    if picked in languages:
        return picked
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )
