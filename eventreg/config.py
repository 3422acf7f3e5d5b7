"""Configuration defaults. Secrets come only from instance/config.py or the environment."""

LANGUAGES = {
    "en": "English",
    "bg": "Български",
    "it": "Italiano",
    "pt": "Português",
    "da": "Dansk",
    "sv": "Svenska",
    "es": "Español",
}


class DefaultConfig:
    """Settings every deployment starts from; override with EVENTREG_* or instance/config.py."""

    SQLALCHEMY_DATABASE_URI = None  # None: a SQLite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLITE_BUSY_TIMEOUT_MS = 30_000

    MAX_CONTENT_LENGTH = 256 * 1024
    WTF_CSRF_TIME_LIMIT = None  # tied to the session: long forms in other languages take time

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = LANGUAGES

    PRIVACY_NOTICE_VERSION = "2026-11-01"
    PROGRAMME_FILE = None  # None: the programme shipped in eventreg/data/programme.toml
    SITE_NAME = "Socially Responsible Public Procurement: missions and webinars"

    MAIL_DEFAULT_SENDER = "eventreg <no-reply@eventreg.localhost>"
