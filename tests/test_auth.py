"""Staff accounts: login, roles on organiser URLs, API tokens, the users CLI."""

import pytest
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.models import ApiToken, User
from eventreg.models.user import hash_token
from eventreg.services import accounts

# Every organiser URL is walked for every role in test_admin; these also check the answers.
ORGANISER_URLS = ["/admin/", "/admin/statistics", "/admin/attendees.csv", "/admin/attendees.xlsx"]


def test_passwords_are_stored_hashed(make_user):
    user = make_user("organiser")
    assert "correct horse" not in user.password_hash
    assert user.password_hash.startswith("scrypt:")


def test_login_and_logout(client, auth, make_user):
    make_user("organiser")
    response = auth.login("organiser@example.org")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    auth.logout()
    assert client.get("/admin/").status_code == 302


def test_an_address_with_a_domain_in_another_script_logs_in_however_it_is_typed(
    client, auth, make_user
):
    user = make_user("organiser", " Staff@Пример.БГ ")
    assert user.email == "staff@xn--e1afmkfd.xn--90ae"  # as the forms keep every address
    assert auth.login("staff@пример.бг").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_wrong_password_is_refused_without_saying_which_part(client, auth, make_user):
    make_user("organiser")
    response = auth.login("organiser@example.org", "wrong password")
    assert response.status_code == 422
    assert "The e-mail address or the password is not right." in response.text
    response = auth.login("nobody@example.org", "wrong password")
    assert "The e-mail address or the password is not right." in response.text


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example/", "/\\/evil.example"],
)
def test_login_never_redirects_off_site(client, make_user, target):
    """``/\\evil.example`` passed: browsers read it as ``//evil.example``, another site."""
    make_user("organiser")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "organiser@example.org", "password": "correct horse battery"},
    )
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize("url", ORGANISER_URLS)
@pytest.mark.parametrize(
    ("role", "expected"),
    [(None, 302), ("checkin", 403), ("organiser", 200), ("admin", 200)],
)
def test_organiser_urls_by_role(client, auth, make_user, url, role, expected):
    if role:
        make_user(role)
        auth.login(f"{role}@example.org")
    response = client.get(url)
    assert response.status_code == expected
    if role is None:
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("url", ORGANISER_URLS)
def test_organiser_urls_accept_bearer_tokens(client, make_user, url):
    organiser = make_user("organiser")
    token = accounts.issue_api_token(organiser)
    assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    checkin_token = accounts.issue_api_token(make_user("checkin"))
    assert client.get(url, headers={"Authorization": f"Bearer {checkin_token}"}).status_code == 403
    assert client.get(url, headers={"Authorization": "Bearer ert_forged"}).status_code == 401


def test_revoked_tokens_stop_working(client, make_user):
    organiser = make_user("organiser")
    token = accounts.issue_api_token(organiser)
    accounts.revoke_api_tokens(organiser)
    assert client.get("/admin/", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_cli_creates_accounts_and_prints_tokens(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Ana@Example.org",
            "--role",
            "checkin",
            "--password",
            "a long password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert (user.email, user.role.value) == ("ana@example.org", "checkin")
    assert user.check_password("a long password")

    result = runner.invoke(args=["users", "token", "ana@example.org"])
    token = result.output.strip()
    assert token.startswith("ert_") and len(token) > 40
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash == hash_token(token) and token not in stored.token_hash


def test_cli_refuses_duplicates_short_passwords_and_unknown_accounts(runner, make_user):
    make_user("admin")
    result = runner.invoke(args=["users", "create", "admin@example.org", "--role", "admin"])
    assert result.exit_code != 0 and "already exists" in result.output
    result = runner.invoke(
        args=["users", "create", "b@example.org", "--role", "admin", "--password", "short"]
    )
    assert result.exit_code != 0 and "at least 10" in result.output
    result = runner.invoke(args=["users", "token", "ghost@example.org"])
    assert result.exit_code != 0 and "no account" in result.output


def test_first_organiser_is_created_once(runner):
    first = runner.invoke(args=["users", "ensure-organiser"])
    assert "Log in at /login as organiser@example.org with password:" in first.output
    password = first.output.rsplit(":", 1)[1].strip()
    assert accounts.authenticate("organiser@example.org", password) is not None
    second = runner.invoke(args=["users", "ensure-organiser"])
    assert "Staff accounts exist" in second.output


def test_checkin_staff_start_at_the_door_of_their_event(client, auth, make_user, make_event):
    staff = make_user("checkin")
    event = make_event()
    accounts.assign_checkin_events(staff, [event])
    response = auth.login("checkin@example.org")
    assert response.headers["Location"] == f"/checkin/{event.slug}"
    assert client.get(response.headers["Location"]).status_code == 200
