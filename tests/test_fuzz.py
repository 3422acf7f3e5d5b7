"""Bad input, tried systematically: schemathesis over the API, hypothesis over the form."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import Registrant, Registration
from tests.support.factories import person

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def counts():
    db.session.rollback()
    return (
        db.session.scalar(select(func.count()).select_from(Registrant)),
        db.session.scalar(select(func.count()).select_from(Registration)),
    )


@pytest.fixture
def open_event(make_event):
    return make_event(capacity=3)


@pytest.fixture
def operations(app, open_event):
    """Every operation of the API's OpenAPI document, loaded from the running app."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


@given(data=st.data())
@FUZZ
def test_api_conforms_and_rejected_input_changes_nothing(operations, open_event, data):
    """No 500, answers match the document, and an error never leaves anything written."""
    case = data.draw(st.sampled_from(operations).flatmap(lambda op: op.as_strategy()))
    if "slug" in (case.path_parameters or {}):
        case.path_parameters["slug"] = open_event.slug
    before = counts()
    response = case.call()
    case.validate_response(response, excluded_checks=[schemathesis.checks.positive_data_acceptance])
    assert response.status_code < 500
    if response.status_code >= 400:
        assert counts() == before


text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=150
)
hostile = st.sampled_from(
    [
        '=HYPERLINK("http://evil.example","x")',
        "<script>alert(1)</script>",
        "Ана\r\nBcc: victim@example.org",
        "مرحبا بالعالم",
        "👩‍👩‍👧‍👦 Ærø",
        "x" * 5000,
        "\x00\x01\x7f",
        "",
    ]
)


@given(first_name=text | hostile, organisation=text | hostile, email=text | hostile)
@FUZZ
def test_the_form_answers_every_input_clearly(client, open_event, first_name, organisation, email):
    """Whatever is typed: a redirect with the text stored as given, or 422 with nothing stored.

    NUL, which no text column holds (PostgreSQL refuses it), makes the whole request a 400.
    """
    data = person(first_name=first_name, organisation=organisation) | {
        "email": email if email else "",
        "events": [open_event.slug],
        "consent": "y",
    }
    before = counts()
    response = client.post("/register", data=data)
    has_nul = any("\x00" in value for value in (first_name, organisation, email))
    assert response.status_code == 400 if has_nul else response.status_code in (302, 422)
    if response.status_code == 400:
        assert counts() == before
    elif response.status_code == 422:
        assert counts() == before
        assert 'id="error-summary"' in response.text
        assert "<script>alert(1)</script>" not in response.text
    else:
        stored = db.session.scalar(select(Registrant).order_by(Registrant.id.desc()))
        assert stored.first_name == first_name.strip()
        assert stored.organisation == organisation.strip()


@given(body=st.binary(max_size=300))
@FUZZ
def test_the_api_answers_any_bytes_without_a_server_error(client, open_event, body):
    before = counts()
    response = client.post(
        f"/api/v1/events/{open_event.slug}/registrations",
        data=body,
        content_type="application/json",
    )
    assert response.status_code in (400, 409, 415, 422, 201)
    assert response.is_json
    if response.status_code != 201:
        assert counts() == before
