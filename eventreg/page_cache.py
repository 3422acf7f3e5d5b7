"""Whole public pages cached for anonymous visitors for PAGE_CACHE_SECONDS, and made stale by
every database write of this process (a new "generation"); other processes' writes show
within PAGE_CACHE_SECONDS unless the cache is shared (REDIS_URL): then the generation is
shared too, and a write on any machine makes every machine's pages stale at once.

A stored page is answered by ``serve_stored_page``, the app's first ``before_request`` hook, to
visitors who carry no sign of an account: none of the other hooks run for it (the rate limiter,
Flask-Login, the CSRF check, the network's member), only the ``after_request`` ones (security
headers) and the session's saving, so it has exactly the headers of a rendered page. A hit
costs two cache reads (generation, page) and one ``bytes.replace``: no query, no template, no
Babel. Each visitor's own CSRF token is put into the page on the way out (Flask-WTF's, with the
session cookie it needs). Stored pages count against no rate limit (bench/findings.md).

When the shared cache stops answering, pages are rendered uncached (it is asked again once a
second) and the log says so; when it answers again, the generation is renewed first, because
writes made meanwhile could not mark the pages stale.
"""

import logging
import secrets
import time
from functools import wraps

from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_app_context,
    make_response,
    request,
    session,
)
from flask_login import current_user
from flask_login.config import AUTH_HEADER_NAME, COOKIE_NAME
from flask_wtf.csrf import generate_csrf
from redis.exceptions import RedisError
from sqlalchemy import event

from .extensions import cache, db, login_manager
from .i18n import select_locale
from .models import OutboxMessage

log = logging.getLogger(__name__)

# Stands in for the CSRF token in stored pages; the same in every process (shared backends).
TOKEN_PLACEHOLDER = b"__eventreg_csrf_token__"
GENERATION_KEY = "page-cache:generation"
# Outlives every page, so SimpleCache (which drops the soonest-expiring first when full) keeps
# it; if it goes anyway, a new random generation only costs misses.
GENERATION_SECONDS = 24 * 3600
WROTE = "page_cache_wrote"  # in Session.info: this transaction wrote something
UNSHARED = frozenset({"content-length", "set-cookie"})  # headers never stored with a page
# Rows no page shows: the mail sender marking messages sent must not empty every server's cache.
UNSHOWN = (OutboxMessage,)
CACHE_DOWN = (RedisError, OSError)  # the shared cache is unreachable or timed out
RETRY_SECONDS = 1.0  # while it is down, one request a second tries it again
LOOKUP = "page_cache_lookup"  # in g: the key and stored page found before the view ran
USER_ID = "_user_id"  # Flask-Login's key for the account in the session


class Outage:
    """Whether this process found the shared cache unreachable, and when to try it again."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.retry_at = 0.0

    @property
    def is_waiting(self) -> bool:
        return self.since is not None and time.monotonic() < self.retry_at

    def began(self, error: Exception) -> None:
        now = time.monotonic()
        if self.since is None:
            log.warning(
                "Page cache unreachable (%s): pages are served uncached until it is back", error
            )
            self.since = now
        self.retry_at = now + RETRY_SECONDS

    def ended(self) -> None:
        log.warning(
            "Page cache reachable again after %.0f s: pages stored before are stale",
            time.monotonic() - self.since,
        )
        self.since = None


def cached_for_visitors(view):
    """Serve the view's 200 responses from the cache to anonymous visitors without messages."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        found = g.pop(LOOKUP) if LOOKUP in g else _lookup_for(current_user)
        if found is None:
            return _varied(make_response(view(*args, **kwargs)))
        key, page = found
        if page is not None:
            return _varied(_restored(page))
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.is_streamed:
            _store(key, response)
        return _varied(response)

    wrapper.cached_for_visitors = True
    return wrapper


def serve_stored_page() -> Response | None:
    """The stored page, before any other hook runs; a miss leaves its lookup in g for the view.

    Only for visitors without a sign of an account (those go through Flask-Login in the view):
    deciding that from the session and the headers costs far less than loading the user.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "cached_for_visitors", False) or _may_be_signed_in():
        return None
    # What Flask-Login would conclude, without its session-protection hash (later hooks ask).
    login_manager._update_request_context_with_user()
    found = _lookup()
    if found is not None and found[1] is not None:
        return _varied(_restored(found[1]))
    setattr(g, LOOKUP, found)
    return None


def _may_be_signed_in() -> bool:
    """Whether Flask-Login could find an account: in the session, a remember cookie or a token."""
    config = current_app.config
    return (
        USER_ID in session
        or config.get("AUTH_HEADER_NAME", AUTH_HEADER_NAME) in request.headers
        or config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies
    )


def _lookup_for(user) -> tuple[str, tuple | None] | None:
    """As ``_lookup``, for the visitor Flask-Login loaded: staff see navigation of their own."""
    return None if user.is_authenticated else _lookup()


def _lookup() -> tuple[str, tuple | None] | None:
    """An anonymous visitor's page: its key and stored copy (None: not stored); None when the
    cache is not used."""
    if not _may_use_cache():
        return None
    try:
        _recover()
        key = _page_key()  # before the view reads the database: a write after this bumps it
        return key, cache.get(key)
    except CACHE_DOWN as error:
        _outage().began(error)
        return None


def _may_use_cache() -> bool:
    """Flashed messages belong to one visitor."""
    return (
        request.method in ("GET", "HEAD")
        and current_app.config["PAGE_CACHE_SECONDS"] > 0
        and "_flashes" not in session
        and not _outage().is_waiting
    )


def _outage() -> Outage:
    return current_app.extensions.setdefault("page_cache.outage", Outage())


def _recover() -> None:
    """After an outage, the first successful call renews the generation (raises if still down)."""
    outage = _outage()
    if outage.since is not None:
        bump_generation()
        outage.ended()


def _store(key: str, response: Response) -> None:
    try:
        cache.set(key, _stored(response), timeout=current_app.config["PAGE_CACHE_SECONDS"])
    except CACHE_DOWN as error:
        _outage().began(error)


def _page_key() -> str:
    generation = cache.get(GENERATION_KEY) or bump_generation()
    # The host is in the key because pages contain absolute links (webcal://host/...); read
    # from the request as is (request.host_url re-encodes the whole URL on every request).
    origin = f"{request.scheme}://{request.host}{request.root_path}"
    # select_locale() is what Flask-Babel's get_locale() parses, without parsing it.
    return f"page:{generation}:{select_locale()}:{origin}{request.full_path}"


def _stored(response: Response) -> tuple[bytes, list[tuple[str, str]]]:
    body = response.get_data()
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    if token:  # the page showed this visitor's token (flask_wtf keeps it in g for the request)
        body = body.replace(token.encode(), TOKEN_PLACEHOLDER)
    headers = [(name, value) for name, value in response.headers if name.lower() not in UNSHARED]
    return body, headers


def _restored(page: tuple[bytes, list[tuple[str, str]]]) -> Response:
    body, headers = page
    if TOKEN_PLACEHOLDER in body:
        body = body.replace(TOKEN_PLACEHOLDER, generate_csrf().encode())
    return Response(body, headers=headers)


def _varied(response: Response) -> Response:
    response.vary.update(("Accept-Language", "Cookie"))
    return response


def bump_generation() -> str:
    """Make every stored page stale; returns the new generation."""
    generation = secrets.token_hex(8)  # random, never reused: a lost or evicted key is harmless
    cache.set(GENERATION_KEY, generation, timeout=GENERATION_SECONDS)
    return generation


def _caches_pages() -> bool:
    """Whether there is an app whose pages are cached (the mail worker and CLI have apps too)."""
    return (
        has_app_context()
        and current_app.config.get("PAGE_CACHE_SECONDS", 0) > 0
        and cache in current_app.extensions.get("cache", {})
    )


def _note_flush(session, _flush_context):
    # Still the flush's own objects here (after_flush runs before they are cleared).
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(not isinstance(instance, UNSHOWN) for instance in changed):
        session.info[WROTE] = True


def _note_bulk_write(state):
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


def _bump_after_write(session):
    # A savepoint's release also fires after_commit; only the outermost commit is final.
    if session.in_nested_transaction() or not session.info.pop(WROTE, False):
        return
    if not _caches_pages() or _outage().is_waiting:
        return  # the generation is renewed when the cache is back
    try:
        bump_generation()
    except CACHE_DOWN as error:
        # The data is committed: failing the request now would make it look lost. Pages
        # expire within seconds, and the generation is renewed when the cache is back.
        _outage().began(error)
        return
    except Exception:
        log.exception("Could not mark cached pages stale; they expire within seconds anyway")
        return
    if _outage().since is not None:
        _outage().ended()


def _forget_writes(session):
    if not session.in_nested_transaction():
        session.info.pop(WROTE, None)


def init_app(app: Flask) -> None:
    """Answer stored pages first; watch the database session: a committed write makes them stale.

    Called before any other init_app, so that ``serve_stored_page`` is the first hook.
    """
    app.before_request(serve_stored_page)
    for name, listener in (
        ("after_flush", _note_flush),
        ("do_orm_execute", _note_bulk_write),
        ("after_commit", _bump_after_write),
        ("after_rollback", _forget_writes),
    ):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
