"""Two organisers editing one event: neither silently undoes what the other saved.

Before, the edit form wrote every field it showed, so the organiser who saved last put back
the values their page had loaded: a capacity raised meanwhile fell back (with its promoted
people still holding seats), a moved time went back and everyone was sent the old one."""

import re

import pytest
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import AuditEntry, Event, OutboxMessage
from eventreg.services import edits
from tests.support.admin_forms import edit_form
from tests.support.factories import PASSWORD


@pytest.fixture
def organisers(app, client, make_user):
    """Two organisers, each signed in on their own browser."""
    make_user("organiser", "anna@example.org")
    make_user("organiser", "bruno@example.org")
    other = app.test_client()
    for browser, email in ((client, "anna@example.org"), (other, "bruno@example.org")):
        browser.post("/login", data={"email": email, "password": PASSWORD})
    return client, other


def opened(browser, event) -> dict:
    """The edit page as a browser loads it: the fields it shows and what it saw."""
    page = browser.get(f"/admin/events/{event.slug}/edit").text
    (seen,) = re.findall(r'name="seen" type="hidden" value="([^"]*)"', page)
    return edit_form(event) | {"seen": seen}


def saved(event) -> Event:
    db.session.expire_all()
    return db.session.get(Event, event.id)


def test_saving_keeps_what_another_organiser_saved_meanwhile(organisers, make_event):
    anna, bruno = organisers
    event = make_event(capacity=40)
    annas_form = opened(anna, event)
    brunos_form = opened(bruno, event)
    assert bruno.post(f"/admin/events/{event.slug}/edit", data=brunos_form | {"capacity": "60"})
    response = anna.post(f"/admin/events/{event.slug}/edit", data=annas_form | {"title": "Odense"})
    assert response.status_code == 302
    event = saved(event)
    assert (event.title, event.capacity) == ("Odense", 60)
    updates = select(AuditEntry.details).where(AuditEntry.action == "event_updated")
    fields = db.session.scalars(updates.order_by(AuditEntry.id)).all()
    assert "capacity" in fields[0]["fields"] and fields[1]["fields"] == ["title"]


def test_a_field_both_changed_is_refused_until_saved_again_knowingly(organisers, make_event):
    anna, bruno = organisers
    event = make_event(capacity=40)
    annas_form = opened(anna, event)
    bruno.post(f"/admin/events/{event.slug}/edit", data=opened(bruno, event) | {"capacity": "60"})
    messages = db.session.scalar(select(func.count()).select_from(OutboxMessage))

    mine = annas_form | {"capacity": "50", "title": "Odense"}
    response = anna.post(f"/admin/events/{event.slug}/edit", data=mine)
    assert response.status_code == 422
    assert "Someone else saved this event after you opened the page" in response.text
    assert "it is now: 60. Save again to replace it" in response.text
    assert (saved(event).capacity, saved(event).title) == (60, event.title)  # nothing saved
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == messages

    (seen,) = re.findall(r'name="seen" type="hidden" value="([^"]*)"', response.text)
    again = anna.post(f"/admin/events/{event.slug}/edit", data=mine | {"seen": seen})
    assert again.status_code == 302
    assert (saved(event).capacity, saved(event).title) == (50, "Odense")


def test_times_changed_by_another_organiser_are_not_mixed_with_mine(organisers, make_event):
    """The start from one page and the end from another made an event end before it began."""
    anna, bruno = organisers
    event = make_event()
    annas_form = opened(anna, event)
    later = {
        "starts_at": "2031-06-02T10:00",
        "ends_at": "2031-06-02T12:00",
        "registration_closes_at": "2031-06-01T18:00",
    }
    assert bruno.post(f"/admin/events/{event.slug}/edit", data=opened(bruno, event) | later)
    response = anna.post(
        f"/admin/events/{event.slug}/edit", data=annas_form | {"ends_at": "2031-05-05T13:00"}
    )
    assert response.status_code == 422
    event = saved(event)
    assert event.local_starts_at.strftime("%Y-%m-%dT%H:%M") == later["starts_at"]
    assert event.local_ends_at.strftime("%Y-%m-%dT%H:%M") == later["ends_at"]


def test_translations_and_other_fields_merge(organisers, make_event):
    anna, bruno = organisers
    event = make_event()
    annas_form = opened(anna, event)
    brunos_form = opened(bruno, event) | {"title_it": "Webinar sugli appalti"}
    assert bruno.post(f"/admin/events/{event.slug}/edit", data=brunos_form).status_code == 302
    response = anna.post(f"/admin/events/{event.slug}/edit", data=annas_form | {"capacity": "7"})
    assert response.status_code == 302
    event = saved(event)
    assert event.translations["it"]["title"] == "Webinar sugli appalti"
    assert event.capacity == 7


def test_the_same_form_sent_twice_changes_nothing_the_second_time(organisers, make_event):
    anna, _bruno = organisers
    event = make_event()
    form = opened(anna, event) | {"title": "Odense"}
    assert anna.post(f"/admin/events/{event.slug}/edit", data=form).status_code == 302
    assert anna.post(f"/admin/events/{event.slug}/edit", data=form).status_code == 302
    entries = select(func.count()).where(AuditEntry.action == "event_updated")
    assert db.session.scalar(entries) == 1


def test_a_damaged_fingerprint_is_refused_and_changes_nothing(organisers, make_event):
    anna, _bruno = organisers
    event = make_event()
    form = opened(anna, event) | {"title": "Odense", "seen": "capacity:zz"}
    response = anna.post(f"/admin/events/{event.slug}/edit", data=form)
    assert response.status_code == 422
    assert "This page was changed on the way. Reload it and edit again." in response.text
    assert saved(event).title != "Odense"


def test_merge_unit_by_unit():
    seen = edits.fingerprint({"a": 1, "b": 2, "c": 3})
    assert edits.merge(seen, {"a": 1, "b": 9, "c": 3}, {"a": 5, "b": 2, "c": 3}) == {
        "a": 5,
        "b": 9,
        "c": 3,
    }
    with pytest.raises(edits.EditConflict) as refused:
        edits.merge(seen, {"a": 1, "b": 9, "c": 3}, {"a": 1, "b": 8, "c": 3})
    assert refused.value.fields == ["b"] and refused.value.stored == {"b": 9}
    # both made the same change: nothing to decide
    assert edits.merge(seen, {"a": 1, "b": 9, "c": 3}, {"a": 1, "b": 9, "c": 3})["b"] == 9
    # a group: someone else's change to one member keeps the editor's change to another out
    with pytest.raises(edits.EditConflict) as refused:
        edits.merge(seen, {"a": 7, "b": 2, "c": 3}, {"a": 1, "b": 4, "c": 3}, [("a", "b")])
    assert refused.value.fields == ["a", "b"]
    assert edits.merge(None, {"a": 7}, {"a": 1}) == {"a": 1}  # no fingerprint: as before
