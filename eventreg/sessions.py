"""Flask's signed-cookie sessions, with their signing serializer built once per secret key."""

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CookieSessions(SecureCookieSessionInterface):
    """Flask's own sessions; Flask builds the serializer anew to open and again to save a session,
    which cost about as much as signing with it (it serialises a test value to learn its type)."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._serializers:
            self._serializers[keys] = super().get_signing_serializer(app)
        return self._serializers[keys]


def init_app(app: Flask) -> None:
    """Sign session cookies exactly as Flask does, with a serializer kept per secret key."""
    app.session_interface = CookieSessions()
