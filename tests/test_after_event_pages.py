"""The pages after an event in real Chromium: axe-core finds no WCAG 2.1 AA violation in
English and Bulgarian, and the public ones fit 320 px."""

import pytest

from eventreg.models import MaterialVisibility
from eventreg.services import certificates, feedback, materials
from eventreg.services.manage_links import manage_token
from tests.support.accessibility import logged_in, violations
from tests.support.after_event import attend, end_event

pytestmark = pytest.mark.sqlite_only  # the pages are the same on both databases

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def after(make_event, sign_up, make_user):
    """An ended mission with an attendee, materials, a questionnaire and a certificate."""
    event = make_event(translations={"bg": {"title": "Учебна мисия в Бергамо"}})
    registrant = sign_up(event, first_name="Иван", last_name="Петров", language="bg")
    registration = attend(registrant.registrations[0])
    other = attend(sign_up(event).registrations[0])  # has not answered: the form is empty
    end_event(event)
    titles = {"en": "Slides", "bg": "Презентация"}
    materials.add_file(event, PDF, "slides.pdf", titles, MaterialVisibility.PUBLIC)
    materials.add_link(
        event, "https://example.org/rec", {"en": "Recording"}, MaterialVisibility.REGISTRANTS
    )
    feedback.send_requests(event)
    certificate = certificates.issue(registration)
    make_user("organiser")
    questions = feedback.questions(event)
    answers = {str(questions[0].id): "4", str(questions[1].id): "5", str(questions[2].id): "More"}
    shown = feedback.answers_fingerprint(questions)  # as the questionnaire page carries it
    feedback.save_answers(feedback.response_of(registration), answers, shown)
    token = manage_token(registrant)
    return {
        "slug": event.slug,
        "reference": registration.reference,
        "manage": f"/manage/{token}",
        "materials": f"/manage/{token}/materials/{registration.reference}",
        "feedback": f"/feedback/{feedback.response_of(other).token}",
        "certificate": f"/certificates/{certificate.code}",
        "question": f"/admin/feedback/questions/{questions[0].id}",
    }


@pytest.mark.parametrize("language", ["en", "bg"])
def test_public_and_personal_pages_have_no_violations(new_context, live_server, after, language):
    page = new_context(bypass_csp=True, locale=language).new_page()
    paths = [
        f"/events/{after['slug']}/materials",
        after["manage"],
        after["materials"],
        after["certificate"],
        "/certificates/NOT-A-REAL-CODE",
        after["feedback"],
    ]
    report = {}
    for path in paths:
        page.goto(live_server + path)
        report[path] = violations(page)
    page.goto(live_server + after["feedback"])
    page.click("form.questionnaire button[type=submit]")  # required ratings missing
    assert page.locator("#error-summary").is_visible()
    report["feedback with errors"] = violations(page)
    assert {path: found for path, found in report.items() if found} == {}


def test_feedback_with_the_keyboard_alone(new_context, live_server, after):
    page = new_context(locale="en").new_page()
    page.goto(live_server + after["feedback"])
    page.focus("form.questionnaire input[type=radio]")
    page.keyboard.press("ArrowRight")  # rating 2 of the first question
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    page.keyboard.type("Fewer slides")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("input[type=radio]:checked").evaluate_all(
        "els => els.map(e => e.value)"
    ) == ["2", "3"]
    assert page.locator("textarea").first.input_value() == "Fewer slides"


@pytest.mark.parametrize("language", ["en", "bg"])
def test_organiser_pages_have_no_violations(new_context, live_server, after, language):
    page = logged_in(new_context, live_server, language)
    paths = [
        f"/admin/events/{after['slug']}/materials",
        f"/admin/events/{after['slug']}/feedback",
        f"/admin/events/{after['slug']}/feedback/questions",
        after["question"],
        f"/admin/events/{after['slug']}/certificates",
        f"/admin/registrations/{after['reference']}/feedback",
    ]
    report = {}
    for path in paths:
        page.goto(live_server + path)
        report[path] = violations(page)
    assert {path: found for path, found in report.items() if found} == {}


@pytest.mark.parametrize("width", [320, 640])
def test_pages_fit_narrow_screens(new_context, live_server, after, width):
    page = new_context().new_page()
    page.set_viewport_size({"width": width, "height": 800})
    for path in (
        f"/events/{after['slug']}/materials",
        after["materials"],
        after["certificate"],
        after["feedback"],
    ):
        page.goto(live_server + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
