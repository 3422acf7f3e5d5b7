"""Rate limits, configurable per deployment (RATELIMIT_* settings), shared through REDIS_URL.

Without REDIS_URL each gunicorn worker counts on its own in memory, so N workers allow up to
N times a limit (README).
"""

import logging
import time

from flask import Flask, current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits.storage import MemoryStorage

from .extensions import limiter


class SweptMemoryStorage(MemoryStorage):
    """``memory://`` counters whose expired entries are swept at most once a second.

    limits' own storage starts a new ``threading.Timer`` thread 10 ms after the last one
    ended, on every counted request: under load, a thread start every few requests, which
    profiled at a fifth of a sign-up's Flask-Limiter cost. Expired counters are already
    ignored when read (``get``); the sweep only frees their memory, so once a second is plenty.
    Registering the ``memory`` scheme makes ``RATELIMIT_STORAGE_URI = "memory://"`` use it.
    """

    STORAGE_SCHEME = ["memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self._next_sweep = time.monotonic() + self.SWEEP_SECONDS

    def _MemoryStorage__schedule_expiry(self) -> None:  # the base class's private hook
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            super()._MemoryStorage__schedule_expiry()


def _setting(name: str):
    return lambda: current_app.config[name]


def _staff_account() -> str:
    """Count per staff account, wherever its requests come from; others per address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()


# Only the requests that write or check a secret count; reading pages is free.
login_limit = limiter.limit(_setting("RATELIMIT_LOGIN"), methods=["POST"])
signup_limit = limiter.limit(_setting("RATELIMIT_SIGNUP"), methods=["POST"])
manage_limit = limiter.limit(_setting("RATELIMIT_MANAGE"))
resend_limit = limiter.limit(_setting("RATELIMIT_RESEND"), methods=["POST"])
report_limit = limiter.limit(_setting("RATELIMIT_REPORT"), methods=["POST"])
api_limit = limiter.limit(_setting("RATELIMIT_API"))
door_search_limit = limiter.limit(_setting("RATELIMIT_DOOR_SEARCH"), key_func=_staff_account)
# Door staff scanning count against no address limit. A door's phones often share one
# address (the venue's network), where the API's per-address limit would stop a busy door;
# a scan needs a signed-in account (a wrong or revoked token is still limited) and a ticket's
# 128-bit secret; searching people by name, where personal data could be fished for, keeps
# its limit per account. Checking the limit cost a sixth of a scan (bench/findings.md).
DOOR_SCAN_ENDPOINTS = frozenset({"api.check_in"})


@limiter.request_filter
def _signed_in_door_scan() -> bool:
    return request.endpoint in DOOR_SCAN_ENDPOINTS and current_user.is_authenticated


# A public page served from the page cache is answered before the limiter's hook runs, so it
# counts against no limit: checking the limit cost more than serving the page
# (bench/findings.md). Every page rendered still counts.


def init_app(app: Flask) -> None:
    """Bind the limiter; its storage going away and coming back is logged with the app's own."""
    limiter.init_app(app)
    # Flask-Limiter's logger has only a NullHandler: without this an unreachable Redis, and
    # the switch to counting in memory, would leave no trace in gunicorn's log.
    limiter.logger.setLevel(logging.INFO)
    for handler in app.logger.handlers:
        limiter.logger.addHandler(handler)
