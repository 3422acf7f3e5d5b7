"""Which language a request is served in, and the compiled catalogues it is served from."""

import os
import tempfile
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import refresh
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header


def select_locale() -> str:
    """The language picked on the site, else the registrant's on their pages, else the browser's."""
    if not has_request_context():  # the mail sender and the CLI choose with force_locale
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return locale_for(current_app.config, session, request, g.get("registrant_language"))


def locale_for(config, session, request, registrant_language: str | None = None) -> str:
    """``select_locale``'s choice, from what it reads (also before Flask has a request context)."""
    languages = config["LANGUAGES"]
    picked = session.get("language")
    if picked in languages:
        return picked
    if registrant_language in languages:
        return registrant_language
    browser = _best_match(request.headers.get("Accept-Language", ""), tuple(languages))
    return browser or config["BABEL_DEFAULT_LOCALE"]


@lru_cache(maxsize=1024)
def _best_match(accept_language: str, languages: tuple[str, ...]) -> str | None:
    """The browser's language among ours, as ``request.accept_languages`` would pick it.

    Parsing the header was a tenth of a stored page's cost; browsers send a few dozen variants.
    """
    return parse_accept_header(accept_language, LanguageAccept).best_match(languages)


def use_registrant_language(language: str) -> None:
    """Serve a page reached from an e-mail in the registrant's language (unless one was picked)."""
    g.registrant_language = language
    refresh()


def compile_stale_catalogues(app: Flask) -> None:
    """Build every .mo that is missing or older than its .po, however the service was started.

    A fresh clone has no .mo files (they are built, not committed); without them every page and
    e-mail would be in English. Each catalogue is written beside its final name and renamed into
    place, so gunicorn workers starting at once never read half a file.
    """
    for source in sorted(Path(app.root_path, "translations").glob("*/LC_MESSAGES/*.po")):
        compiled = source.with_suffix(".mo")
        if compiled.exists() and compiled.stat().st_mtime >= source.stat().st_mtime:
            continue
        try:
            _compile(source, compiled)
        except OSError as exc:
            app.logger.warning("Could not compile %s (%s): run scripts/i18n compile", source, exc)


def _compile(source: Path, compiled: Path) -> None:
    with source.open("rb") as po:
        catalogue = read_po(po, locale=source.parent.parent.name)
    handle, temporary = tempfile.mkstemp(dir=compiled.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(handle, "wb") as mo:
            write_mo(mo, catalogue, use_fuzzy=True)  # as scripts/i18n compile -f does
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from another service user
        os.replace(temporary, compiled)
    except BaseException:
        os.unlink(temporary)
        raise
