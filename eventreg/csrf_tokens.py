"""A visitor's CSRF token exactly as Flask-WTF gives it, without a request context.

Stored pages leave before Flask builds a request (page_cache.StoredPages), yet each visitor
needs a token that Flask-WTF's ``validate_csrf`` accepts on their next POST. Flask-WTF's
``generate_csrf`` (pinned 1.3.0) needs a request context and builds a new serializer on every
call, about a fifth of a stored page's cost; this is the same token, with the serializer kept
per secret key. tests/test_page_cache.py checks it equals ``generate_csrf``'s output and that
Flask-WTF accepts it, so a change of format in a new Flask-WTF fails the tests.
"""

import hashlib
import os

from flask import Flask
from flask.sessions import SessionMixin

from .sessions import SigningSerializer

SALT = "wtf-csrf-token"  # flask_wtf.csrf's, for generate_csrf and validate_csrf alike

_serializers: dict[str | bytes | tuple, SigningSerializer] = {}


def visitor_token(app: Flask, session: SessionMixin) -> str:
    """The signed token for the raw one in the session, which is made if there is none yet."""
    config = app.config
    secret_key = config.get("WTF_CSRF_SECRET_KEY", app.secret_key)
    field_name = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if secret_key is None or field_name is None:
        raise RuntimeError("CSRF is not configured.")  # as Flask-WTF refuses to sign
    keys = tuple(secret_key) if isinstance(secret_key, list) else secret_key  # a rotation
    serializer = _serializers.get(keys)
    if serializer is None:
        serializer = _serializers[keys] = SigningSerializer(secret_key, salt=SALT)
    if field_name not in session:
        session[field_name] = _raw_token()
    try:
        return serializer.dumps(session[field_name])
    except TypeError:  # not JSON (a session written by something else): a new one, as Flask-WTF
        session[field_name] = _raw_token()
        return serializer.dumps(session[field_name])


def _raw_token() -> str:
    return hashlib.sha1(os.urandom(64)).hexdigest()
