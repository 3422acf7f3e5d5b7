"""Staff sessions end on logout, on a password change or reset, and after idle time."""

import statistics
import time

import pytest

from eventreg.database import write_transaction
from eventreg.services import accounts
from tests.support.factories import PASSWORD

EIGHT_HOURS = 8 * 3600


def copy_session(source, target) -> None:
    """Give a second browser the first one's session cookie, as a thief would."""
    cookie = source.get_cookie("session", domain="eventreg.test")
    target.set_cookie("session", cookie.value, domain="eventreg.test")


def test_a_copied_session_cookie_stops_working_at_logout(app, client, auth, make_user):
    make_user("organiser")
    auth.login("organiser@example.org")
    thief = app.test_client()
    copy_session(client, thief)
    assert thief.get("/admin/").status_code == 200

    auth.logout()

    assert thief.get("/admin/").status_code == 302
    assert client.get("/admin/").status_code == 302


def test_logout_ends_the_accounts_sessions_in_every_browser(app, make_user):
    make_user("organiser")
    phone, laptop = app.test_client(), app.test_client()
    for browser in (phone, laptop):
        browser.post("/login", data={"email": "organiser@example.org", "password": PASSWORD})
        assert browser.get("/admin/").status_code == 200

    phone.post("/logout")

    assert laptop.get("/admin/").status_code == 302


def test_a_password_change_ends_every_session(app, client, auth, make_user):
    user = make_user("organiser")
    auth.login("organiser@example.org")
    assert client.get("/admin/").status_code == 200

    with write_transaction():  # a password change or reset: one use case
        user.set_password("a brand new password")
        accounts.end_all_sessions(user)

    assert client.get("/admin/").status_code == 302
    assert auth.login("organiser@example.org", "a brand new password").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_ending_sessions_leaves_other_accounts_logged_in(app, make_user):
    organiser, admin = make_user("organiser"), make_user("admin")
    browser = app.test_client()
    browser.post("/login", data={"email": admin.email, "password": PASSWORD})

    accounts.end_all_sessions(organiser)

    assert browser.get("/admin/").status_code == 200


def idle_for(client, seconds: int) -> None:
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - seconds


def test_a_session_idle_for_eight_hours_ends(client, auth, make_user):
    make_user("organiser")
    auth.login("organiser@example.org")

    idle_for(client, EIGHT_HOURS - 120)
    assert client.get("/admin/").status_code == 200  # and the clock starts again

    idle_for(client, EIGHT_HOURS + 1)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_use_keeps_a_session_alive(client, auth, make_user):
    make_user("organiser")
    auth.login("organiser@example.org")
    idle_for(client, EIGHT_HOURS - 120)
    assert client.get("/admin/").status_code == 200
    with client.session_transaction() as session:
        assert time.time() - session["seen_at"] < 60


def test_the_idle_time_is_configurable(make_app, make_user):
    app = make_app(SESSION_IDLE_MINUTES=30)
    with app.app_context():
        make_user("organiser")
    browser = app.test_client()
    browser.post("/login", data={"email": "organiser@example.org", "password": PASSWORD})
    idle_for(browser, 29 * 60)
    assert browser.get("/admin/").status_code == 200
    idle_for(browser, 31 * 60)
    assert browser.get("/admin/").status_code == 302


@pytest.mark.parametrize("user_id", ["1", "1.x", "abc", "1.1.1", ""])
def test_sessions_from_before_versions_or_forged_ids_are_anonymous(client, make_user, user_id):
    make_user("organiser")
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["seen_at"] = int(time.time())
    assert client.get("/admin/").status_code == 302


def median_seconds(action, runs: int = 5) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def test_an_unknown_address_takes_as_long_as_a_wrong_password(app, make_user):
    make_user("organiser")
    accounts.authenticate("warm@example.org", "up")  # the dummy hash is made once per process
    wrong_password = median_seconds(
        lambda: accounts.authenticate("organiser@example.org", "wrong password")
    )
    unknown_address = median_seconds(
        lambda: accounts.authenticate("nobody@example.org", "wrong password")
    )
    # Without the dummy hash an unknown address answers in a database lookup (~1 ms) against
    # a scrypt hash (~50 ms): a ratio of 50; the same work makes it about 1.
    assert unknown_address > wrong_password / 3
