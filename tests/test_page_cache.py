"""Public pages and API event reads are cached for anonymous visitors and never shared wrongly."""

import re
import time

import cachelib.simple
import pytest
import sqlalchemy as sa
from flask import session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf, validate_csrf
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import ValidationError

from eventreg.csrf_tokens import visitor_token
from eventreg.extensions import db, limiter
from eventreg.models import Event
from eventreg.services import outbox
from tests.support.factories import person

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
CSRF_ON = pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], ids=["csrf"])
# Flask-WTF's settings for its tokens, which stored pages must follow as Flask-WTF does.
CSRF_SETTINGS = pytest.mark.parametrize(
    "app_config",
    [
        {"WTF_CSRF_ENABLED": True},
        {"WTF_CSRF_ENABLED": True, "WTF_CSRF_SECRET_KEY": "a key for CSRF tokens only"},
    ],
    ids=["csrf", "csrf-own-key"],
)


@pytest.fixture
def statements(app):
    """The SQL statements sent to the database, as they happen."""
    sent = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    yield sent
    sa.event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def visitor(app):
    """Makes another anonymous visitor: a client with cookies of its own."""
    return app.test_client


def get_counting(client, statements, url, **kwargs):
    """GET a URL; returns the response and how many SQL statements it took."""
    before = len(statements)
    response = client.get(url, **kwargs)
    return response, len(statements) - before


def raw_token(client) -> str:
    """The unsigned token Flask-WTF keeps in the visitor's session."""
    with client.session_transaction() as visit:
        return visit["csrf_token"]


def pick_language(client, token):
    return client.post("/language", data={"csrf_token": token, "language": "da", "next": "/"})


def token_of(page: str) -> str:
    (token,) = set(TOKEN.findall(page))
    return token


def seats_left(client, event) -> str:
    return re.search(r"(\d+) seats? left", client.get(f"/events/{event.slug}").text).group(1)


def sign_up_by_api(client, event):
    return client.post(
        f"/api/v1/events/{event.slug}/registrations", json=person() | {"consent": True}
    )


def edit_title(client, event, title):
    """An organiser changes the event's title in the organiser area."""
    page = client.get(f"/admin/events/{event.slug}/edit").text
    data = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page))
    data |= {"kind": "mission", "mode": "in_person", "timezone": "Europe/Rome"}
    data |= {"title": title, "description": event.description}
    assert client.post(f"/admin/events/{event.slug}/edit", data=data).status_code == 302


def retitle_elsewhere(app, event, title):
    """Write as another process would: its own engine, none of this app's session events."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    events = Event.__table__
    with engine.begin() as conn:
        conn.execute(sa.update(events).where(events.c.id == event.id).values(title=title))
    engine.dispose()


def test_the_second_visitor_gets_the_programme_without_a_query(
    client, visitor, make_event, statements
):
    make_event(title="Study mission to Odense")
    first, first_count = get_counting(client, statements, "/")
    second, second_count = get_counting(visitor(), statements, "/")
    assert first_count > 0
    assert second_count == 0
    assert "Study mission to Odense" in second.text
    assert second.headers["Vary"] == "Accept-Language, Cookie"
    assert first.text.replace(token_of(first.text), "T") == second.text.replace(
        token_of(second.text), "T"
    )


@CSRF_SETTINGS
def test_each_visitor_gets_a_token_of_their_own_that_works(client, visitor, make_event, statements):
    event = make_event()
    first = client.get(f"/events/{event.slug}").text
    other = visitor()
    second, count = get_counting(other, statements, f"/events/{event.slug}")
    assert count == 0  # served from the cache
    mine, theirs = token_of(first), token_of(second.text)
    assert mine != theirs

    def pick(client, token):
        return client.post("/language", data={"csrf_token": token, "language": "da", "next": "/"})

    assert pick(other, mine).status_code == 400
    assert pick(client, theirs).status_code == 400
    assert pick(client, mine).status_code == 302
    assert pick(other, theirs).status_code == 302


def test_a_sign_up_shows_on_the_next_visit(client, visitor, make_event, sign_up):
    event = make_event(capacity=10)
    assert seats_left(client, event) == "10"
    assert seats_left(visitor(), event) == "10"
    signup_form = person() | {"events": [event.slug], "consent": "y"}
    assert client.post("/register", data=signup_form).status_code == 302
    assert seats_left(visitor(), event) == "9"
    assert sign_up_by_api(client, event).status_code == 201
    assert seats_left(visitor(), event) == "8"
    sign_up(event, email="service@example.org")  # the service, in the test's own session
    assert seats_left(visitor(), event) == "7"


def test_the_mail_sender_delivering_leaves_the_cached_pages_alone(
    client, make_event, sign_up, statements
):
    """Marking messages sent changes nothing a page shows (with Redis: on every server)."""
    event = make_event(capacity=10)
    sign_up(event)
    assert seats_left(client, event) == "9"  # stored
    assert outbox.deliver_all().sent == 1  # saved as an .eml file: no mail server configured
    _, count = get_counting(client, statements, f"/events/{event.slug}")
    assert count == 0


def test_an_organisers_change_shows_on_the_next_visit(client, visitor, auth, make_user, make_event):
    event = make_event(title="Study mission to Bergamo")
    anonymous = visitor()
    assert "Study mission to Bergamo" in anonymous.get(f"/events/{event.slug}").text
    assert "Study mission to Bergamo" in anonymous.get("/").text
    make_user("organiser")
    auth.login("organiser@example.org")
    edit_title(client, event, "Study mission to Bergamo and Milan")
    assert "Study mission to Bergamo and Milan" in anonymous.get(f"/events/{event.slug}").text
    assert "Study mission to Bergamo and Milan" in anonymous.get("/").text


@pytest.mark.parametrize("app_config", [{"PAGE_CACHE_SECONDS": 2}], ids=["2s"])
def test_another_process_writing_shows_within_the_cache_time(app, client, make_event, monkeypatch):
    """A worker process caches its own pages: it learns of others' writes only when they expire
    (SimpleCache counts whole seconds, so a page lives between 1 and 2 seconds here)."""
    event = make_event(title="Study mission to Bergamo")
    assert "Study mission to Bergamo" in client.get(f"/events/{event.slug}").text
    retitle_elsewhere(app, event, "Webinar")
    assert "Study mission to Bergamo" in client.get(f"/events/{event.slug}").text
    now = time.time()
    monkeypatch.setattr(cachelib.simple, "time", lambda: now + 2.1)  # the cache's clock moves on
    assert "Webinar" in client.get(f"/events/{event.slug}").text


def test_staff_and_visitors_never_get_each_others_pages(
    client, visitor, auth, make_user, make_event, statements
):
    make_event()
    make_user("organiser")
    auth.login("organiser@example.org")
    anonymous = visitor()
    assert "Organiser area" in client.get("/").text
    page, count = get_counting(anonymous, statements, "/")
    assert count > 0  # the organiser's page was not stored
    assert "Log out" not in page.text and "Organiser area" not in page.text
    assert "Staff login" in page.text
    staff_page = client.get("/").text  # the anonymous page is stored now
    assert "Organiser area" in staff_page and "Log out" in staff_page
    assert "Log out" not in anonymous.get("/").text


def test_a_page_with_a_flashed_message_is_neither_stored_nor_served_from_the_cache(
    client, visitor, make_event
):
    make_event()
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Your own message")]
    assert "Your own message" in client.get("/").text
    assert "Your own message" not in visitor().get("/").text

    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Another message of yours")]
    assert "Another message of yours" in client.get("/").text  # despite the cached page


def test_languages_are_cached_apart(client, visitor, make_event, statements):
    make_event()
    for language, heading in [("da", "Studieture og webinarer"), ("en", "Missions and webinars")]:
        for who in (client, visitor()):
            page = who.get("/", headers={"Accept-Language": language}).text
            assert f'<html lang="{language}">' in page and heading in page
    page, count = get_counting(visitor(), statements, "/", headers={"Accept-Language": "da"})
    assert count == 0 and '<html lang="da">' in page.text

    picker = visitor()
    picker.post("/language", data={"language": "da", "next": "/"})
    page = picker.get("/", headers={"Accept-Language": "en"}).text
    assert '<html lang="da">' in page
    assert '<html lang="en">' in visitor().get("/", headers={"Accept-Language": "en"}).text


def test_the_query_string_is_part_of_the_page(client, make_event):
    """The language picker sends people back to the same address, query string and all."""
    make_event()
    client.get("/?from=newsletter")
    assert 'value="/?from=leaflet"' in client.get("/?from=leaflet").text


def test_not_found_is_not_cached(client, make_event, statements):
    assert client.get("/events/later").status_code == 404
    response, count = get_counting(client, statements, "/events/later")
    assert response.status_code == 404 and count > 0
    make_event(slug="later", title="A later mission")
    assert "A later mission" in client.get("/events/later").text


def test_the_api_event_reads_are_cached_and_made_stale_by_sign_ups(
    client, visitor, make_event, statements
):
    event = make_event(capacity=5)
    client.get("/api/v1/events")
    client.get(f"/api/v1/events/{event.slug}")
    listed, list_count = get_counting(visitor(), statements, "/api/v1/events")
    one, one_count = get_counting(visitor(), statements, f"/api/v1/events/{event.slug}")
    assert (list_count, one_count) == (0, 0)
    assert listed.get_json()["events"][0]["seats_left"] == 5 and one.get_json()["seats_left"] == 5
    assert one.mimetype == "application/json"
    assert "Set-Cookie" not in one.headers  # no session is started for API clients

    assert sign_up_by_api(client, event).status_code == 201
    assert visitor().get("/api/v1/events").get_json()["events"][0]["seats_left"] == 4
    assert visitor().get(f"/api/v1/events/{event.slug}").get_json()["seats_left"] == 4


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_API": "3 per minute"}], ids=["limit"]
)
def test_cached_api_answers_are_free_but_every_rendered_answer_counts(client, make_event):
    limiter.reset()
    url = f"/api/v1/events/{make_event().slug}"
    # The first read renders and counts; the stored answer is served without counting.
    assert [client.get(url).status_code for _ in range(10)] == [200] * 10
    # A new query string misses the cache: each such read renders, so each counts.
    assert [client.get(f"{url}?n={n}").status_code for n in range(3)] == [200, 200, 429]
    assert client.get(url).status_code == 200  # still stored, still free
    limiter.reset()


@pytest.mark.parametrize(
    "app_config",
    [{"RATELIMIT_ENABLED": True, "RATELIMIT_API": "2 per minute", "PAGE_CACHE_SECONDS": 0}],
    ids=["limit-no-cache"],
)
def test_without_the_page_cache_every_api_read_counts(client, make_event):
    limiter.reset()
    url = f"/api/v1/events/{make_event().slug}"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
    limiter.reset()


@pytest.mark.parametrize("app_config", [{"PAGE_CACHE_SECONDS": 0}], ids=["off"])
def test_page_cache_seconds_0_renders_every_time(client, make_event, statements):
    make_event()
    client.get("/")
    _, count = get_counting(client, statements, "/")
    assert count > 0


def headers_of(response) -> list[tuple[str, str]]:
    """The response's headers, with the session cookie's value left out (each visitor's own)."""
    return [
        (name, re.sub(r"^session=[^;]*", "session=…", value) if name == "Set-Cookie" else value)
        for name, value in response.headers
    ]


@CSRF_ON
@pytest.mark.parametrize("path", ["/", "/events/{slug}", "/api/v1/events"])
def test_a_stored_page_has_exactly_the_headers_of_a_rendered_one(
    visitor, make_event, statements, path
):
    """Stored pages leave before Flask's hooks run: what those add must be there all the same."""
    url = path.format(slug=make_event().slug)
    expected = {}
    for scheme in ("http", "https"):
        base_url = f"{scheme}://localhost"
        rendered, rendered_count = get_counting(visitor(), statements, url, base_url=base_url)
        stored, stored_count = get_counting(visitor(), statements, url, base_url=base_url)
        assert rendered_count > 0 and stored_count == 0
        assert headers_of(stored) == headers_of(rendered)
        expected[scheme] = headers_of(rendered)
        assert dict(headers_of(stored)).keys() >= {"Content-Security-Policy", "Vary"}
        assert ("Strict-Transport-Security" in stored.headers) == (scheme == "https")
        assert int(stored.headers["Content-Length"]) == len(stored.data)
        head = visitor().head(url, base_url=base_url)
        assert head.data == b"" and headers_of(head) == headers_of(rendered)
    again = visitor().get(url, base_url="http://localhost")  # the layer kept them apart
    assert headers_of(again) == expected["http"]


@CSRF_ON
def test_a_visitor_with_a_session_gets_the_stored_page_with_their_own_token(
    client, visitor, make_event, statements
):
    event = make_event()
    visitor().get(f"/events/{event.slug}")  # stored
    client.get("/register")  # a page that is never stored starts this visitor's session
    raw = raw_token(client)
    response, count = get_counting(client, statements, f"/events/{event.slug}")
    assert count == 0
    assert "Set-Cookie" not in response.headers  # their session is unchanged: same raw token
    assert raw_token(client) == raw
    token = token_of(response.text)
    forged = URLSafeTimedSerializer("not the key", salt="wtf-csrf-token").dumps(raw)
    signed, signature = token.rsplit(".", 1)
    tampered = f"{signed}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    for refused in (forged, tampered):
        assert pick_language(client, refused).status_code == 400
    assert pick_language(client, token).status_code == 302
    assert pick_language(visitor(), token).status_code == 400  # not anyone else's


@CSRF_ON
def test_a_session_token_flask_wtf_would_replace_is_replaced_on_a_stored_page(
    client, visitor, make_event, statements
):
    """Flask-WTF makes a new raw token when the session's cannot be signed (not JSON)."""
    event = make_event()
    visitor().get(f"/events/{event.slug}")  # stored
    with client.session_transaction() as visit:
        visit["csrf_token"] = b"bytes, not a token"
    response, count = get_counting(client, statements, f"/events/{event.slug}")
    assert count == 0 and "Set-Cookie" in response.headers
    assert isinstance(raw_token(client), str)
    assert pick_language(client, token_of(response.text)).status_code == 302


@pytest.mark.parametrize(
    "app_config",
    [
        {"WTF_CSRF_ENABLED": True},
        {
            "WTF_CSRF_ENABLED": True,
            "WTF_CSRF_SECRET_KEY": "a key for CSRF tokens only",
            "WTF_CSRF_FIELD_NAME": "form_token",
        },
        {"WTF_CSRF_ENABLED": True, "WTF_CSRF_SECRET_KEY": ["retired key", "current key"]},
    ],
    ids=["defaults", "own-key-and-field", "key-rotation"],
)
def test_a_visitors_token_is_the_one_flask_wtf_makes(app):
    """Stored pages sign tokens without Flask-WTF: if its format or settings change, this fails."""
    field = app.config["WTF_CSRF_FIELD_NAME"]
    deadline = time.monotonic() + 10
    while True:  # tokens carry the second they were signed in
        with app.test_request_context():
            ours = visitor_token(app, session)
            raw = session[field]
            theirs = generate_csrf()  # finds the raw token ours put in the session
            assert session[field] == raw
            validate_csrf(ours)  # Flask-WTF's own check accepts it
            again = visitor_token(app, session)  # an existing session keeps its raw token
            assert session[field] == raw
        if ours == theirs == again:
            break
        assert time.monotonic() < deadline, (ours, theirs, again)
    with app.test_request_context():
        visitor_token(app, session)  # another visitor's session
        with pytest.raises(ValidationError, match="do not match"):
            validate_csrf(ours)


@pytest.mark.parametrize(
    "app_config",
    [{"TRUSTED_PROXIES": 1, "RATELIMIT_ENABLED": True, "RATELIMIT_API": "2 per minute"}],
    ids=["proxy"],
)
def test_behind_a_proxy_stored_pages_are_found_by_the_visitors_own_scheme(client, make_event):
    """The stored-page layer sits inside ProxyFix: it sees https as Flask does, so a stored
    https page is found there, before the rate limiter, and not given to http visitors."""
    limiter.reset()
    url = f"/api/v1/events/{make_event().slug}"
    https = {"X-Forwarded-Proto": "https"}
    assert [client.get(url, headers=https).status_code for _ in range(5)] == [200] * 5
    assert "Strict-Transport-Security" in client.get(url, headers=https).headers
    plain = client.get(url)  # another key: rendered, so counted (the second of two)
    assert plain.status_code == 200 and "Strict-Transport-Security" not in plain.headers
    assert client.get(f"{url}?n=1", headers=https).status_code == 429
    limiter.reset()


def test_sessions_follow_the_secret_key_and_its_fallbacks(make_app):
    """Session cookies are signed as Flask signs them, with the keys configured at the time."""
    app = make_app(SECRET_KEY="old key", PAGE_CACHE_SECONDS=0)
    browsers = [app.test_client() for _ in range(2)]
    for browser in browsers:
        browser.post("/language", data={"language": "da", "next": "/"})
    app.config.update(SECRET_KEY="new key", SECRET_KEY_FALLBACKS=["old key"])
    assert '<html lang="da">' in browsers[0].get("/").text
    app.config["SECRET_KEY_FALLBACKS"] = []  # the old key retired: its cookies no longer open
    assert '<html lang="en">' in browsers[1].get("/").text


def test_session_cookies_are_the_ones_flask_makes(make_app):
    """Sessions are signed with serializers kept per key: the same cookies Flask's own make."""
    app = make_app(SECRET_KEY="current key", SECRET_KEY_FALLBACKS=["old key"])
    ours = app.session_interface.get_signing_serializer(app)
    flasks = SecureCookieSessionInterface().get_signing_serializer(app)
    data = {"csrf_token": "0" * 40, "language": "da", "pair": (1, 2), "raw": b"\x00"}
    deadline = time.monotonic() + 10
    while (cookie := ours.dumps(data)) != flasks.dumps(data):  # the same second: the same cookie
        assert time.monotonic() < deadline, cookie
    assert flasks.loads(cookie) == ours.loads(cookie) == data
    app.config.update(SECRET_KEY="old key", SECRET_KEY_FALLBACKS=[])
    old_cookie = SecureCookieSessionInterface().get_signing_serializer(app).dumps(data)
    assert ours.loads(old_cookie) == data  # a fallback key still opens a session
    with pytest.raises(BadSignature):
        ours.loads(old_cookie[:-5] + ("AAAAA" if old_cookie[-5:] != "AAAAA" else "BBBBB"))


def test_the_layer_remembers_which_urls_are_stored_pages_but_asks_flask_for_the_rest(
    client, visitor, make_event, statements, monkeypatch
):
    """URLs matched once are remembered (at most MAX_URLS): a redirect, a page for another
    host or another view still goes to Flask every time, and forgetting them changes nothing."""
    monkeypatch.setattr("eventreg.page_cache.MAX_URLS", 3)
    event = make_event()
    urls = ["/", f"/events/{event.slug}", "/api/v1/events", "/?from=newsletter"]
    for url in urls:
        client.get(url)  # stored
    for _ in range(2):
        for url in urls:
            response, count = get_counting(visitor(), statements, url)
            assert response.status_code == 200 and count == 0
        assert visitor().get("/", base_url="http://other.test").status_code == 200
        assert client.get(f"/events/{event.slug}/").status_code in (308, 404)
        assert client.get("/register").status_code == 200  # not a stored page: rendered
