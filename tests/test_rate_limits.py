"""Rate limits on login, sign-up, manage links and the API; configurable and switchable off."""

import time

import pytest

from eventreg.extensions import limiter
from eventreg.services import accounts
from tests.support.factories import PASSWORD


@pytest.fixture
def app_config():
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_LOGIN": "3 per minute",
        "RATELIMIT_API": "2 per minute",
        "RATELIMIT_DOOR_SEARCH": "3 per minute",
    }


@pytest.fixture(autouse=True)
def fresh_limits(app):
    limiter.reset()
    yield
    limiter.reset()


def test_login_attempts_are_limited(client):
    for _ in range(3):
        response = client.post(
            "/login", data={"email": "x@example.org", "password": "wrong password"}
        )
        assert response.status_code == 422
    response = client.post("/login", data={"email": "x@example.org", "password": "wrong password"})
    assert response.status_code == 429
    assert "Too many requests" in response.text
    assert client.get("/login").status_code == 200  # reading the page is not limited


def test_api_is_limited_with_a_json_answer(client):
    # Rendered answers count (cached ones are free: test_page_cache.py); a new query each time.
    assert client.get("/api/v1/events?page=1").status_code == 200
    assert client.get("/api/v1/events?page=2").status_code == 200
    response = client.get("/api/v1/events?page=3")
    assert response.status_code == 429
    assert response.get_json()["error"] == "too_many_requests"


def test_the_door_search_is_limited_per_staff_account(app, make_event, make_user):
    event = make_event()
    browsers = {}
    for email in ("first@example.org", "second@example.org"):
        user = make_user("checkin", email)
        accounts.assign_checkin_events(user, [event])
        browsers[email] = app.test_client()
        browsers[email].post("/login", data={"email": email, "password": PASSWORD})
    first, second = browsers.values()
    url = f"/checkin/{event.slug}/search?q=silva"
    assert [first.get(url).status_code for _ in range(3)] == [200, 200, 200]
    assert first.get(url).status_code == 429
    # The same address, another account: its own allowance.
    assert second.get(url).status_code == 200


def test_limits_can_be_switched_off(make_app):
    app = make_app(RATELIMIT_ENABLED=False, RATELIMIT_API="1 per minute")
    with app.app_context():
        client = app.test_client()
        assert all(client.get("/api/v1/events").status_code == 200 for _ in range(5))


def test_counters_in_memory_start_no_thread_per_request(app):
    """memory:// sweeps expired counters once a second, not with a new thread every 10 ms."""
    storage = limiter._storage
    timers = []
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # 30 of limits' own sweep intervals
        storage.incr("test-sweep", 60)
        if not timers or storage.timer is not timers[-1]:
            timers.append(storage.timer)
    assert storage.get("test-sweep") > 30
    assert len(timers) <= 2


def test_signed_in_door_staff_scan_past_the_address_limit(client, make_event, make_user, sign_up):
    # A busy door's phones share the venue's address: the API's per-address limit (2 a minute
    # here) does not stop them; a wrong token is still limited like any API call.
    event = make_event()
    staff = make_user("checkin")
    accounts.assign_checkin_events(staff, [event])
    bearer = {"Authorization": f"Bearer {accounts.issue_api_token(staff)}"}
    tickets = [sign_up(event).registrations[0].ticket_secret for _ in range(3)]
    scans = [
        client.post("/api/v1/checkin", json={"event": event.slug, "secret": secret}, headers=bearer)
        for secret in [*tickets, tickets[0]]
    ]
    assert [scan.status_code for scan in scans] == [200] * 4  # answered, none limited
    guessing = {"Authorization": "Bearer ert_not-a-token"}
    answers = [
        client.post(
            "/api/v1/checkin", json={"event": event.slug, "secret": tickets[1]}, headers=guessing
        ).status_code
        for _ in range(3)
    ]
    assert answers == [401, 401, 429]


def test_api_sign_ups_count_against_the_sign_up_limit_as_the_form(make_app, make_event):
    """Each sign-up mails the address it names: the API allows no more than the form."""
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGNUP="2 per minute")
    limiter.reset()
    client = app.test_client()
    with app.app_context():
        slug = make_event().slug
    body = {
        "first_name": "Ana",
        "last_name": "Petrova",
        "organisation": "Община Габрово",
        "country": "BG",
        "target_group": "public_body",
        "language": "bg",
        "consent": True,
    }
    path = f"/api/v1/events/{slug}/registrations"
    for number in range(2):
        response = client.post(path, json=body | {"email": f"ana{number}@example.bg"})
        assert response.status_code == 201, response.get_json()
    response = client.post(path, json=body | {"email": "ana3@example.bg"})
    assert response.status_code == 429
    assert response.get_json()["error"] == "too_many_requests"
    limiter.reset()
