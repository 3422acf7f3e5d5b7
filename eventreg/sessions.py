"""Flask's signed-cookie sessions, with their signing serializer built once per secret key."""

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import want_bytes


class KeyKeepingSigner(TimestampSigner):
    """itsdangerous's signer, deriving its signing key from each secret key only once."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[bytes, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        secret_key = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        derived = self._derived.get(secret_key)
        if derived is None:
            derived = self._derived[secret_key] = super().derive_key(secret_key)
        return derived


class SigningSerializer(URLSafeTimedSerializer):
    """itsdangerous's URLSafeTimedSerializer, the same tokens, keeping its signer: building one
    and deriving its key on every call cost a third of signing a session or a CSRF token."""

    default_signer = KeyKeepingSigner

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._signer = super().make_signer()

    def make_signer(self, salt: str | bytes | None = None) -> TimestampSigner:
        return self._signer if salt is None else super().make_signer(salt)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's own sessions; Flask builds the serializer anew to open and again to save a session,
    which cost about as much as signing with it (it serialises a test value to learn its type)."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._serializers:
            self._serializers[keys] = self._serializer(keys)
        return self._serializers[keys]

    def _serializer(self, keys: tuple) -> URLSafeTimedSerializer | None:
        """Flask's serializer (``get_signing_serializer``), made with ``SigningSerializer``."""
        if not keys[0]:
            return None
        return SigningSerializer(
            [*keys[1:], keys[0]],  # itsdangerous signs with the last: the current key
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )


def init_app(app: Flask) -> None:
    """Sign session cookies exactly as Flask does, with a serializer kept per secret key."""
    app.session_interface = CookieSessions()
