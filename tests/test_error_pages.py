"""Error pages say what happened and what to do: a form that expired (a missing or stale CSRF
token after a long pause) gets its own page, in the visitor's language, leading back to the form
when it came from this site; JSON clients get JSON; any other bad request a clearer page."""

import re

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import Member
from tests.support.accessibility import audited_context, violations

EXPIRED = "This form has expired"
NOTHING_SAVED = "For your security, a form stops working when it has been open for a long time"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def join_data(**overrides):
    return {"email": "ana@example.bg", "name": "Ana Petrova", "consent": "y"} | overrides


def in_language(language: str, text: str) -> str:
    with force_locale(language):
        return gettext(text)


def stale_token(app) -> str:
    """A token from another browser's session: what a form holds once its session has ended."""
    page = app.test_client().get("/network/join").text
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]


def member_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Member))


def test_a_form_sent_after_its_session_ended_says_it_expired_and_leads_back_to_it(app, client):
    response = client.post(
        "/network/join",
        data=join_data(csrf_token=stale_token(app)),
        headers={"Referer": "http://eventreg.test/network/join?next=/practices/propose"},
    )
    assert response.status_code == 400
    page = response.text
    assert f"<title>{EXPIRED}" in page and f"<h1>{EXPIRED}</h1>" in page
    assert NOTHING_SAVED in page and "Nothing you sent was saved." in page
    steps = page.split("<ol>", 1)[1].split("</ol>", 1)[0]
    assert "Go back to the form" in steps and "Reload the page" in steps
    assert "send the form again" in steps
    assert '<a class="button" href="/network/join?next=/practices/propose">' in page
    assert "Bad Request" not in page and "Bad request" not in page
    assert member_count() == 0


def test_a_form_sent_without_any_token_gets_the_same_page(client):
    response = client.post("/network/join", data=join_data())
    assert response.status_code == 400 and f"<h1>{EXPIRED}</h1>" in response.text
    assert 'class="button"' not in response.text  # no referring page: no link back
    assert member_count() == 0


@pytest.mark.parametrize("language", ["bg", "es"])
def test_the_expired_form_page_is_in_the_visitors_language(app, client, language):
    response = client.post(
        "/network/join",
        data=join_data(),
        headers={"Accept-Language": language, "Referer": "http://eventreg.test/network/join"},
    )
    assert response.status_code == 400
    assert f'<html lang="{language}">' in response.text
    for text in (EXPIRED, "Nothing you sent was saved.", "Open the form again"):
        translated = in_language(language, text)
        assert translated != text and translated in response.text


@pytest.mark.parametrize(
    "referrer",
    [
        "https://evil.example/network/join",
        "http://eventreg.test//evil.example/x",
        "http://eventreg.test/\\evil.example/x",
        "javascript:alert(1)",
    ],
)
def test_the_link_back_never_leads_to_another_site(client, referrer):
    response = client.post("/network/join", data=join_data(), headers={"Referer": referrer})
    assert response.status_code == 400 and f"<h1>{EXPIRED}</h1>" in response.text
    assert 'class="button"' not in response.text and "evil" not in response.text


def test_a_json_client_gets_a_json_error_with_a_specific_message(client):
    response = client.post(
        "/network/join", data=join_data(), headers={"Accept": "application/json"}
    )
    assert response.status_code == 400 and response.is_json
    body = response.get_json()
    assert body["error"] == "csrf_token_missing_or_invalid"
    assert body["message"] == (
        "The form's security token is missing or has expired, so nothing was saved."
        " Reload the page and send the form again."
    )
    spanish = client.post(
        "/network/join",
        data=join_data(),
        headers={"Accept": "application/json", "Accept-Language": "es"},
    ).get_json()["message"]
    assert spanish == in_language("es", body["message"]) != body["message"]


def test_any_other_bad_request_says_nothing_was_saved_and_what_to_try(app, client):
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/network/join", data={"email": "ana\x00@example.bg"})
    assert response.status_code == 400
    page = response.text
    assert "<h1>This request could not be read</h1>" in page
    assert "Nothing was saved." in page
    assert EXPIRED not in page
    assert member_count() == 0


@pytest.mark.sqlite_only  # the page is the same on both databases
@pytest.mark.parametrize("language", ["en", "bg"])
def test_the_expired_form_page_in_a_browser_is_accessible_and_leads_back(
    new_context, live_server, language
):
    page = audited_context(new_context, language, width=320)
    page.goto(f"{live_server}/network/join")
    page.evaluate("document.querySelector('form.stack input[name=csrf_token]').value = 'expired'")
    with page.expect_navigation():
        page.locator("form.stack button[type=submit]").click()
    assert page.locator("h1").inner_text() == in_language(language, EXPIRED)
    assert violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.get_by_role("link", name=in_language(language, "Open the form again")).click()
    page.wait_for_url(f"{live_server}/network/join")
    assert page.locator("form.stack input[name=csrf_token]").input_value() not in ("", "expired")
