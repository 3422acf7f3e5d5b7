"""Whole public pages cached for anonymous visitors for PAGE_CACHE_SECONDS, and made stale by
every database write of this process (a new "generation"); other processes' writes show
within PAGE_CACHE_SECONDS unless the cache is shared (REDIS_URL): then the generation is
shared too, and a write on any machine makes every machine's pages stale at once.

Visitors who carry no sign of an account get stored pages from ``StoredPages``, a WSGI layer in
front of Flask's own: no request context, no hook (the rate limiter, Flask-Login, the CSRF
check), only what Flask would add to the page (security headers, Vary, the session cookie), so
stored pages count against no rate limit (bench/findings.md). A hit costs one cache read (the
generation and the page together: one round trip to Redis) and one ``bytes.replace``: no query,
no template, no Babel. A page is stored with the generation it was rendered in, under a key
without it, and is served only while that generation is current. Each visitor's
own CSRF token is put into the page on the way out (Flask-WTF's, signed as it signs them by
``csrf_tokens.visitor_token``, with the session cookie it needs). Anyone else goes on to
Flask, where the view's wrapper stores and serves pages too.

When the shared cache stops answering, pages are rendered uncached (it is asked again once a
second) and the log says so; when it answers again, the generation is renewed first, because
writes made meanwhile could not mark the pages stale.
"""

import logging
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import NamedTuple

from flask import (
    Flask,
    Request,
    Response,
    current_app,
    g,
    has_app_context,
    make_response,
    request,
    session,
)
from flask.sessions import SessionMixin
from flask_login import current_user
from flask_login.config import AUTH_HEADER_NAME, COOKIE_NAME
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.sansio.response import Response as SansIOResponse

from .csrf_tokens import visitor_token
from .extensions import CACHE_DOWN, cache, db
from .i18n import locale_for
from .models import OutboxMessage
from .security import add_default_headers

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
RETRY_SECONDS = 1.0  # while it is down, one request a second tries it again
# Flask-Login's keys in the session: an account, or a remember cookie to set or clear.
ACCOUNT_KEYS = ("_user_id", "_remember")
MAX_HEADER_SETS = 256  # distinct stored header lists remembered (a few in practice)
# What Flask's URL adapter reads from the environ to match a request (werkzeug's
# Map.bind_to_environ: the host, the scheme or a WebSocket upgrade, the paths, the method).
URL_PARTS = (
    "REQUEST_METHOD",
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "PATH_INFO",
    "HTTP_CONNECTION",
    "HTTP_UPGRADE",
)
UNMATCHED = object()
MAX_URLS = 4096  # URLs whose match is remembered; more (a crawl of random paths) start afresh


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


class StoredPages:
    """A WSGI layer in front of Flask's own: stored pages go out before Flask builds a request.

    Only GET and HEAD of a cached view, by a visitor with no sign of an account; every other
    request goes on to Flask unchanged. What Flask would add to the page is added here: Vary,
    the security headers, and the session cookie when the visitor's CSRF token is new.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.flask_app = app.wsgi_app
        # A stored page's headers with what Flask adds (all but the cookie and the length), per
        # stored headers, endpoint and scheme: built once by werkzeug as for a rendered page.
        self._headers: dict[tuple, tuple[list[tuple[str, str]], int]] = {}
        self._endpoints: dict[tuple, str | None] = {}

    def __call__(self, environ, start_response):
        answer = None
        if environ["REQUEST_METHOD"] in ("GET", "HEAD"):
            answer = self._stored_page(environ)
        if answer is None:
            return self.flask_app(environ, start_response)
        body, headers = answer
        start_response("200 OK", headers)  # only 200s are stored
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]

    def _stored_page(self, environ) -> tuple[bytes, list[tuple[str, str]]] | None:
        """The page's body and all its headers, or None when Flask must answer."""
        app = self.app
        if app.config["PAGE_CACHE_SECONDS"] <= 0:
            return None
        request = app.request_class(environ)
        endpoint = self._cached_view(environ, request)
        if endpoint is None:
            return None
        session = app.session_interface.open_session(app, request)
        if session is None or _may_be_signed_in(app.config, request, session):
            return None
        found = _find(app, request, session)  # no app context: each function is given the app
        if found is None or found.page is None:
            return None
        stored_body, stored_headers = found.page
        body = _with_token(stored_body, lambda: visitor_token(app, session))
        headers, length_at = self._page_headers(stored_headers, endpoint, request.is_secure)
        headers = headers.copy()
        headers[length_at] = ("Content-Length", str(len(body)))
        cookie = SessionCookie(app.config["MAX_COOKIE_SIZE"])
        app.session_interface.save_session(app, session, cookie)
        headers.extend(cookie.headers)
        return body, headers

    def _cached_view(self, environ, request: Request) -> str | None:
        """The endpoint of the cached view the URL is for, None if it is for none (Flask
        answers it: not found, a redirect, an untrusted host, another view), as Flask matches
        it; remembered per URL: binding the URL map and matching were a fifth of a stored page."""
        url = tuple(map(environ.get, URL_PARTS))
        endpoint = self._endpoints.get(url, UNMATCHED)  # one look: another thread may clear it
        if endpoint is not UNMATCHED:
            return endpoint
        try:
            endpoint, _args = self.app.create_url_adapter(request).match()
        except HTTPException:
            endpoint = None
        if not getattr(self.app.view_functions.get(endpoint), "cached_for_visitors", False):
            endpoint = None
        if len(self._endpoints) >= MAX_URLS:
            self._endpoints.clear()
        self._endpoints[url] = endpoint
        return endpoint

    def _page_headers(self, stored, endpoint: str, is_secure: bool) -> tuple[list, int]:
        """The headers werkzeug and Flask give the page but the cookie, in their order, and
        where the Content-Length is among them (its value is the empty page's)."""
        key = (tuple(stored), endpoint, is_secure)
        found = self._headers.get(key)
        if found is None:
            if len(self._headers) >= MAX_HEADER_SETS:
                self._headers.clear()
            response = _varied(Response(b"", headers=stored))
            add_default_headers(response.headers, endpoint, is_secure)
            headers = response.headers.to_wsgi_list()
            names = [name.lower() for name, _value in headers]
            found = self._headers[key] = (headers, names.index("content-length"))
        return found


class SessionCookie:
    """The part of a response ``save_session`` writes to, for a stored page: the Set-Cookie
    header, made by werkzeug's own ``set_cookie``. (Its ``Vary: Cookie`` is there already.)"""

    set_cookie = SansIOResponse.set_cookie
    delete_cookie = SansIOResponse.delete_cookie

    def __init__(self, max_cookie_size: int) -> None:
        self.max_cookie_size = max_cookie_size
        self.vary: set[str] = set()
        self.headers = Headers()


def cached_for_visitors(view):
    """Serve the view's 200 responses from the cache to anonymous visitors without messages."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        found = None if current_user.is_authenticated else _find(current_app, request, session)
        if found is None:
            return _varied(make_response(view(*args, **kwargs)))
        if found.page is not None:
            return _varied(_restored(found.page, generate_csrf))
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.is_streamed:
            _store(found, response)
        return _varied(response)

    wrapper.cached_for_visitors = True
    return wrapper


def _may_be_signed_in(config, request: Request, session: SessionMixin) -> bool:
    """Whether Flask-Login could find an account: in the session, a remember cookie or a token.

    Deciding that from the request costs far less than loading the user; a visitor for whom it
    is true goes on to Flask, where Flask-Login decides.
    """
    return (
        any(key in session for key in ACCOUNT_KEYS)
        or config.get("AUTH_HEADER_NAME", AUTH_HEADER_NAME) in request.headers
        or config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies
    )


class Lookup(NamedTuple):
    """Where an anonymous visitor's page is stored, the generation read with it, and the page
    (its body and headers) if it was stored in that generation, else None."""

    key: str
    generation: str
    page: tuple[bytes, list[tuple[str, str]]] | None


def _find(app: Flask, request: Request, session: SessionMixin) -> Lookup | None:
    """An anonymous visitor's page as stored; None when the cache is not used."""
    if not _may_use_cache(app, request, session):
        return None
    key = _page_key(app, request, session)
    try:
        _recover(app)
        # Before the view reads the database: a write after this bumps the generation. One
        # round trip reads both (MGET on Redis).
        generation, stored = _pages(app).get_many(GENERATION_KEY, key)
        if generation is None:  # never set, or evicted: every stored page is stale
            generation = bump_generation(app)
    except CACHE_DOWN as error:
        _outage(app).began(error)
        return None
    if stored is None or stored[0] != generation:
        return Lookup(key, generation, None)
    return Lookup(key, generation, stored[1:])


def _may_use_cache(app: Flask, request: Request, session: SessionMixin) -> bool:
    """Flashed messages belong to one visitor."""
    return (
        request.method in ("GET", "HEAD")
        and app.config["PAGE_CACHE_SECONDS"] > 0
        and "_flashes" not in session
        and not _outage(app).is_waiting
    )


def _pages(app: Flask):
    """The cache's backend (``cache`` finds it only in an app context)."""
    return app.extensions["cache"][cache]


def _outage(app: Flask | None = None) -> Outage:
    return (app or current_app).extensions.setdefault("page_cache.outage", Outage())


def _recover(app: Flask) -> None:
    """After an outage, the first successful call renews the generation (raises if still down)."""
    outage = _outage(app)
    if outage.since is not None:
        bump_generation(app)
        outage.ended()


def _store(found: Lookup, response: Response) -> None:
    """Store the page rendered after ``found`` was looked up, in the generation read then: a
    write committed meanwhile has made it stale already."""
    stored = (found.generation, *_stored(response))
    try:
        cache.set(found.key, stored, timeout=current_app.config["PAGE_CACHE_SECONDS"])
    except CACHE_DOWN as error:
        _outage().began(error)


def _page_key(app: Flask, request: Request, session: SessionMixin) -> str:
    # The host is in the key because pages contain absolute links (webcal://host/...); read
    # from the request as is (request.host_url re-encodes the whole URL on every request).
    origin = f"{request.scheme}://{request.host}{request.root_path}"
    # The language select_locale() gives the page (a registrant's own is set only by pages
    # reached from their e-mails, never cached), without Flask-Babel parsing it.
    language = locale_for(app.config, session, request)
    return f"page:{language}:{origin}{request.full_path}"


def _stored(response: Response) -> tuple[bytes, list[tuple[str, str]]]:
    body = response.get_data()
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    if token:  # the page showed this visitor's token (flask_wtf keeps it in g for the request)
        body = body.replace(token.encode(), TOKEN_PLACEHOLDER)
    headers = [(name, value) for name, value in response.headers if name.lower() not in UNSHARED]
    return body, headers


def _restored(page: tuple[bytes, list[tuple[str, str]]], csrf_token: Callable[[], str]) -> Response:
    """The stored page with the visitor's own CSRF token (``csrf_token()``) where it needs one."""
    body, headers = page
    return Response(_with_token(body, csrf_token), headers=headers)


def _with_token(body: bytes, csrf_token: Callable[[], str]) -> bytes:
    if TOKEN_PLACEHOLDER in body:
        return body.replace(TOKEN_PLACEHOLDER, csrf_token().encode())
    return body


def _varied(response: Response) -> Response:
    response.vary.update(("Accept-Language", "Cookie"))
    return response


def bump_generation(app: Flask | None = None) -> str:
    """Make every stored page stale (the app's, else the current one's); the new generation."""
    generation = secrets.token_hex(8)  # random, never reused: a lost or evicted key is harmless
    _pages(app or current_app).set(GENERATION_KEY, generation, timeout=GENERATION_SECONDS)
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
    """Answer stored pages in front of Flask; a committed write to the database makes them stale.

    Called before security.init_app, so that its ProxyFix (behind a proxy) wraps this layer
    and the layer sees the visitor's own scheme, host and address.
    """
    app.wsgi_app = StoredPages(app)
    for name, listener in (
        ("after_flush", _note_flush),
        ("do_orm_execute", _note_bulk_write),
        ("after_commit", _bump_after_write),
        ("after_rollback", _forget_writes),
    ):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
