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
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # A pooled PostgreSQL connection idle this long is checked (SELECT 1) before a request uses
    # it, and replaced if the server closed it; one used more recently is not (database.py).
    DATABASE_PING_AFTER_IDLE_SECONDS = 5.0
    SQLITE_BUSY_TIMEOUT_MS = 30_000

    MAX_CONTENT_LENGTH = 256 * 1024
    UPLOAD_MAX_BYTES = 16 * 1024 * 1024  # participant reports (see security.py)
    WTF_CSRF_TIME_LIMIT = None  # tied to the session: long forms in other languages take time

    # Behind a reverse proxy: how many proxies set X-Forwarded-* (0 = trust none).
    TRUSTED_PROXIES = 0
    # Served over HTTPS: secure cookies, https links, HSTS.
    HTTPS = False

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # A staff session unused this long ends; logout ends every session of the account.
    SESSION_IDLE_MINUTES = 8 * 60

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = LANGUAGES

    # Shared by every process and machine when set (redis://host:6379/0): the page cache, the
    # rate limit counters and their invalidation; see redis_settings() below.
    REDIS_URL = None
    # A Redis that stops answering costs a request at most this long before it is skipped.
    REDIS_TIMEOUT_SECONDS = 0.5

    RATELIMIT_ENABLED = True
    # memory:// counts in each gunicorn worker on its own (N workers: up to N times a limit);
    # redis://host:6379 shares the counts between processes and machines (README).
    RATELIMIT_STORAGE_URI = "memory://"
    # Redis unreachable: count in this process's memory until it is back (the log says so).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_LOGIN = "10 per minute"
    RATELIMIT_SIGNUP = "30 per minute"
    RATELIMIT_MANAGE = "60 per minute"
    RATELIMIT_RESEND = "5 per hour"  # "send me my link again", per client address
    # One manage-link e-mail (and one network sign-in or confirmation link) per address in this
    # time, whoever asks: the forms cannot flood a mailbox.
    RESEND_LINK_PAUSE_MINUTES = 10
    # A pending network profile written anew (by its owner correcting it, or by someone who
    # typed their address) gets a new confirmation link, up to this many within the pause.
    CONFIRMATIONS_PER_PAUSE = 3
    RATELIMIT_API = "120 per minute"
    RATELIMIT_DOOR_SEARCH = "60 per minute"  # per staff account
    RATELIMIT_REPORT = "10 per hour"  # members reporting members, per client address

    # Public pages and the API's event reads are cached whole for anonymous visitors this many
    # seconds (0: off; see page_cache.py). SimpleCache is per process: with several gunicorn
    # workers a page may show seats up to that old; REDIS_URL shares it (RedisCache).
    PAGE_CACHE_SECONDS = 2
    CACHE_TYPE = "SimpleCache"
    CACHE_THRESHOLD = 1000  # pages a SimpleCache keeps at most (a few KB each)

    PRIVACY_NOTICE_VERSION = "2026-12-01"
    PROGRAMME_FILE = None  # None: the programme shipped in eventreg/data/programme.toml
    SITE_NAME = "Socially Responsible Public Procurement: missions and webinars"

    # Where links in e-mails point (the mail sender runs outside any request).
    BASE_URL = "http://127.0.0.1:5000"

    # No MAIL_SERVER: e-mail is saved as .eml files under instance/mail/ and shown to organisers.
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_DEFAULT_SENDER = "eventreg <no-reply@eventreg.localhost>"
    # Where people reach the organisers: Reply-To of every e-mail, the calendar ORGANIZER, and
    # the contact in the privacy notice and accessibility statement (an event's own wins).
    MAIL_REPLY_TO = None
    MAIL_MESSAGE_ID_DOMAIN = "eventreg.localhost"
    MAIL_TIMEOUT_SECONDS = 30
    OUTBOX_BATCH_SIZE = 50
    OUTBOX_LEASE_SECONDS = 300  # a claimed message returns to the queue if its sender dies
    OUTBOX_MAX_ATTEMPTS = 10
    OUTBOX_BACKOFF_SECONDS = 30  # doubled after each failed attempt ...
    OUTBOX_MAX_BACKOFF_SECONDS = 3600  # ... up to an hour
    REMINDER_LEAD_HOURS = 24
    PASSWORD_RESET_HOURS = 24  # how long a reset link an admin sends to a staff member works
    # A personal join link leads into an online event (and counts as attendance) from this many
    # minutes before the start until the end; before and after, it shows a page instead.
    JOIN_OPENS_MINUTES = 30

    # Uploaded materials and generated documents: a folder under instance/ unless STORAGE_CLASS
    # names a class (taking the app) with the same methods as services.storage.Storage.
    STORAGE_FOLDER = "files"
    STORAGE_CLASS = None
    MATERIALS_MAX_MB = 50  # largest material file an organiser may upload

    # Feedback questionnaires close this many days after their event ends.
    FEEDBACK_DAYS = 21

    # Personal data is anonymised this many days after each event (flask privacy purge).
    RETENTION_DAYS = 365
    # flask backup keeps this many copies in instance/backups/ and deletes older ones.
    BACKUP_KEEP = 14

    # The network of practice: how long a sign-in link works, how many messages a member may
    # send to other members in 24 hours.
    NETWORK_SIGN_IN_MINUTES = 30
    NETWORK_CONTACT_PER_DAY = 5
    # Joins not confirmed by e-mail within this many days are deleted by `flask privacy purge`.
    NETWORK_UNCONFIRMED_DAYS = 30


def redis_settings(url: str, timeout: float) -> dict:
    """What REDIS_URL switches: the page cache and the rate limits, both on that server."""
    client_options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    return {
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": url,
        "CACHE_KEY_PREFIX": "eventreg:",
        "CACHE_OPTIONS": client_options,
        "RATELIMIT_STORAGE_URI": url,
        "RATELIMIT_STORAGE_OPTIONS": client_options,
        "RATELIMIT_KEY_PREFIX": "eventreg",
    }
