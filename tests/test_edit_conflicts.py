"""Two organisers editing one event: neither silently undoes what the other saved.

Before, the edit form wrote every field it showed, so the organiser who saved last put back
the values their page had loaded: a capacity raised meanwhile fell back (with its promoted
people still holding seats), a moved time went back and everyone was sent the old one."""

import re
import threading
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import AuditEntry, Event, OutboxMessage
from eventreg.services import edits, events
from tests.support.factories import PASSWORD
from tests.support.missions import three_day_mission


@pytest.fixture
def organisers(app, client, make_user):
    """Two organisers, each signed in on their own browser."""
    make_user("organiser", "anna@example.org")
    make_user("organiser", "bruno@example.org")
    other = app.test_client()
    for browser, email in ((client, "anna@example.org"), (other, "bruno@example.org")):
        browser.post("/login", data={"email": email, "password": PASSWORD})
    return client, other


ITALIAN_DAYS = {"2031-03-24": "Co-progettazione", "2031-03-25": "Visite in loco"}


class _FormReader(HTMLParser):
    """Every field of the page's form, as a browser would submit it untouched."""

    def __init__(self):
        super().__init__()
        self.values, self._textarea, self._select, self._first_option = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.values[a["name"]] = a.get("value", "y")
            else:
                self.values[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[self._textarea] = ""
        elif tag == "select":
            self._select, self._first_option = a["name"], None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value")
            if "selected" in a:
                self.values[self._select] = a.get("value")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self.values.setdefault(self._select, self._first_option)
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


def opened(browser, slug) -> dict:
    """The whole edit form as the browser shows it (translations included)."""
    reader = _FormReader()
    reader.feed(browser.get(f"/admin/events/{slug}/edit").text)
    values = reader.values
    for name, value in values.items():  # a textarea's first newline is not part of its value
        values[name] = value[1:] if value.startswith("\n") else value
    return values


def saved(event) -> Event:
    db.session.expire_all()
    return db.session.get(Event, event.id)


def test_saving_keeps_what_another_organiser_saved_meanwhile(organisers, make_event):
    anna, bruno = organisers
    event = make_event(capacity=40)
    annas_form = opened(anna, event.slug)
    brunos_form = opened(bruno, event.slug)
    assert bruno.post(f"/admin/events/{event.slug}/edit", data=brunos_form | {"capacity": "60"})
    response = anna.post(f"/admin/events/{event.slug}/edit", data=annas_form | {"title": "Odense"})
    assert response.status_code == 302
    event = saved(event)
    assert (event.title, event.capacity) == ("Odense", 60)
    updates = select(AuditEntry.details).where(AuditEntry.action == "event_updated")
    fields = db.session.scalars(updates.order_by(AuditEntry.id)).all()
    assert "capacity" in fields[0]["fields"] and fields[1]["fields"] == ["title"]


def test_a_draft_renamed_while_the_page_was_open_is_saved_under_its_new_slug(
    organisers, make_event
):
    anna, bruno = organisers
    draft = make_event(slug="study-visit", status="draft")
    annas_form = opened(anna, "study-visit")
    renamed = bruno.post(
        "/admin/events/study-visit/edit",
        data=opened(bruno, "study-visit") | {"slug": "odense-visit"},
    )
    assert renamed.status_code == 302

    response = anna.post("/admin/events/study-visit/edit", data=annas_form | {"title": "Odense"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/events/odense-visit"
    draft = saved(draft)
    assert (draft.slug, draft.title) == ("odense-visit", "Odense")


@pytest.mark.parametrize("mangled", ["99999999999999999999", "-99999999999999999999", "0", "x"])
def test_a_mangled_event_id_edits_the_event_the_address_names(organisers, make_event, mangled):
    anna, _bruno = organisers
    event = make_event(slug="study-visit", status="draft")
    form = opened(anna, "study-visit") | {"event_id": mangled, "title": "Odense"}

    response = anna.post("/admin/events/study-visit/edit", data=form)

    assert response.status_code == 302
    assert saved(event).title == "Odense"


def test_an_edit_lands_on_the_event_it_was_opened_for_whatever_its_slug_is_now(
    organisers, make_event
):
    """Bruno renames the draft, and gives its old slug to another draft: Anna's save still
    goes to the event her page showed."""
    anna, bruno = organisers
    first = make_event(slug="study-visit", status="draft", title="First")
    second = make_event(slug="webinar-draft", status="draft", title="Second")
    annas_form = opened(anna, "study-visit")
    for slug, new in (("study-visit", "first-visit"), ("webinar-draft", "study-visit")):
        answer = bruno.post(f"/admin/events/{slug}/edit", data=opened(bruno, slug) | {"slug": new})
        assert answer.status_code == 302

    response = anna.post("/admin/events/study-visit/edit", data=annas_form | {"capacity": "12"})

    assert response.status_code == 302
    assert (saved(first).capacity, saved(second).capacity) == (12, second.capacity)
    assert (saved(first).slug, saved(second).slug) == ("first-visit", "study-visit")


def test_a_field_both_changed_is_refused_until_saved_again_knowingly(organisers, make_event):
    anna, bruno = organisers
    event = make_event(capacity=40)
    annas_form = opened(anna, event.slug)
    bruno.post(
        f"/admin/events/{event.slug}/edit", data=opened(bruno, event.slug) | {"capacity": "60"}
    )
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
    annas_form = opened(anna, event.slug)
    later = {
        "starts_at": "2031-06-02T10:00",
        "ends_at": "2031-06-02T12:00",
        "registration_closes_at": "2031-06-01T18:00",
    }
    assert bruno.post(f"/admin/events/{event.slug}/edit", data=opened(bruno, event.slug) | later)
    response = anna.post(
        f"/admin/events/{event.slug}/edit", data=annas_form | {"ends_at": "2031-05-05T13:00"}
    )
    assert response.status_code == 422
    page = unescape(response.text)
    assert "Someone else changed this after you opened the page, and it goes with" in page
    # the start now shows the colleague's; the end keeps what Anna typed, told what it holds
    assert 'value="2031-06-02T10:00"' in page and 'value="2031-05-05T13:00"' in page
    assert "it is now: 2031-06-02T12:00" in page
    event = saved(event)
    assert event.local_starts_at.strftime("%Y-%m-%dT%H:%M") == later["starts_at"]
    assert event.local_ends_at.strftime("%Y-%m-%dT%H:%M") == later["ends_at"]


def test_translations_and_other_fields_merge(organisers, make_event):
    anna, bruno = organisers
    event = make_event()
    annas_form = opened(anna, event.slug)
    brunos_form = opened(bruno, event.slug) | {"title_it": "Webinar sugli appalti"}
    assert bruno.post(f"/admin/events/{event.slug}/edit", data=brunos_form).status_code == 302
    response = anna.post(f"/admin/events/{event.slug}/edit", data=annas_form | {"capacity": "7"})
    assert response.status_code == 302
    event = saved(event)
    assert event.translations["it"]["title"] == "Webinar sugli appalti"
    assert event.capacity == 7


def test_the_same_form_sent_twice_changes_nothing_the_second_time(organisers, make_event):
    anna, _bruno = organisers
    event = make_event()
    form = opened(anna, event.slug) | {"title": "Odense"}
    assert anna.post(f"/admin/events/{event.slug}/edit", data=form).status_code == 302
    assert anna.post(f"/admin/events/{event.slug}/edit", data=form).status_code == 302
    entries = select(func.count()).where(AuditEntry.action == "event_updated")
    assert db.session.scalar(entries) == 1


def test_a_damaged_fingerprint_is_refused_and_changes_nothing(organisers, make_event):
    anna, _bruno = organisers
    event = make_event()
    form = opened(anna, event.slug) | {"title": "Odense", "seen": "capacity:zz"}
    response = anna.post(f"/admin/events/{event.slug}/edit", data=form)
    assert response.status_code == 422
    assert "This page was changed on the way. Reload it and edit again." in response.text
    assert saved(event).title != "Odense"


@pytest.fixture
def mission(make_event):
    """The three-day mission, its title and two days' titles in Italian."""
    return three_day_mission(
        make_event, translations={"it": {"title": "Missione di tre giorni", "days": ITALIAN_DAYS}}
    )


def test_an_untouched_form_round_trips(organisers, mission):
    """Sanity check of the form reader: an untouched form saves nothing."""
    anna, _bruno = organisers
    form = opened(anna, mission.slug)
    response = anna.post(f"/admin/events/{mission.slug}/edit", data=form)
    assert response.status_code == 302
    assert "0 field(s) changed" in unescape(anna.get(response.location).text)


def test_a_translated_title_does_not_conflict_with_a_new_end(organisers, mission):
    """A translation and a time are different fields: neither is refused, and nobody is told
    the time they left alone was saved by someone else."""
    anna, bruno = organisers
    annas = opened(anna, mission.slug)
    brunos = opened(bruno, mission.slug) | {"title_it": "Missione a Roma"}
    assert bruno.post(f"/admin/events/{mission.slug}/edit", data=brunos).status_code == 302
    response = anna.post(
        f"/admin/events/{mission.slug}/edit", data=annas | {"ends_at": "2031-03-26T14:00"}
    )
    text = unescape(response.text)
    assert "it is now: 2031-03-26T13:00" not in text  # nobody else changed the end
    assert response.status_code == 302
    event = saved(mission)
    assert event.translations["it"]["title"] == "Missione a Roma"
    assert event.local_ends_at.hour == 14


def test_two_languages_translated_at_once_both_kept(organisers, mission):
    """Each translated text is a field of its own."""
    anna, bruno = organisers
    annas = opened(anna, mission.slug)
    brunos = opened(bruno, mission.slug) | {"title_da": "Tre dages mission"}
    assert bruno.post(f"/admin/events/{mission.slug}/edit", data=brunos).status_code == 302
    response = anna.post(
        f"/admin/events/{mission.slug}/edit", data=annas | {"title_it": "Missione a Bergamo"}
    )
    assert response.status_code == 302
    translations = saved(mission).translations
    assert (translations["da"]["title"], translations["it"]["title"]) == (
        "Tre dages mission",
        "Missione a Bergamo",
    )


def test_a_new_venue_and_a_new_meeting_link_both_kept(organisers, make_event):
    """Only the format, city and venue go together: a meeting link is a field of its own."""
    anna, bruno = organisers
    event = make_event()
    annas = opened(anna, event.slug)
    brunos = opened(bruno, event.slug) | {"venue": "Palazzo Frizzoni, Sala Consiliare"}
    assert bruno.post(f"/admin/events/{event.slug}/edit", data=brunos).status_code == 302
    response = anna.post(
        f"/admin/events/{event.slug}/edit",
        data=annas | {"online_url": "https://meet.example.org/b"},
    )
    assert response.status_code == 302
    event = saved(event)
    assert (event.venue, event.online_url) == (
        "Palazzo Frizzoni, Sala Consiliare",
        "https://meet.example.org/b",
    )


def test_a_translation_conflict_points_only_at_the_field_that_differs(organisers, mission):
    """Not at every empty translation field ("it is now: (empty)")."""
    anna, bruno = organisers
    annas = opened(anna, mission.slug)
    brunos = opened(bruno, mission.slug) | {"title_it": "Missione a Roma"}
    assert bruno.post(f"/admin/events/{mission.slug}/edit", data=brunos).status_code == 302
    response = anna.post(
        f"/admin/events/{mission.slug}/edit", data=annas | {"title_it": "Missione in Lombardia"}
    )
    assert response.status_code == 422
    text = unescape(response.text)
    assert "it is now: Missione a Roma" in text
    assert text.count("Someone else saved this after you opened the page") == 1 * 2  # summary+field
    assert "it is now: (empty)" not in text


def test_a_validation_error_after_a_conflict_keeps_the_resolution(organisers, make_event):
    """A conflict, then a validation error, then a valid save: the values saved knowingly win."""
    anna, bruno = organisers
    event = make_event(capacity=40)
    annas = opened(anna, event.slug)
    bruno.post(
        f"/admin/events/{event.slug}/edit", data=opened(bruno, event.slug) | {"capacity": "60"}
    )
    mine = annas | {"capacity": "50"}
    response = anna.post(f"/admin/events/{event.slug}/edit", data=mine)
    assert response.status_code == 422
    (seen,) = re.findall(r'name="seen" type="hidden" value="([^"]*)"', response.text)
    response = anna.post(
        f"/admin/events/{event.slug}/edit", data=mine | {"seen": seen, "title": ""}
    )
    assert response.status_code == 422 and "Someone else saved" not in unescape(response.text)
    (seen,) = re.findall(r'name="seen" type="hidden" value="([^"]*)"', response.text)
    response = anna.post(f"/admin/events/{event.slug}/edit", data=mine | {"seen": seen})
    assert response.status_code == 302
    assert saved(event).capacity == 50


def test_a_stale_day_title_does_not_make_every_edit_a_schedule_edit(organisers, mission):
    """A day title for a date the agenda no longer has (tests/test_agenda.py) is dropped by the
    form on every save: compared through the form, that is no edit of the schedule, so a
    colleague's new end and Anna's new capacity both stay."""
    mission.translations = {"it": {"days": {"2031-03-17": "Vecchio giorno", **ITALIAN_DAYS}}}
    db.session.commit()
    anna, bruno = organisers
    annas = opened(anna, mission.slug)
    brunos = opened(bruno, mission.slug) | {"ends_at": "2031-03-26T14:00"}
    brunos["agenda"] = brunos["agenda"].replace("09:00-13:00", "09:00-14:00")
    assert bruno.post(f"/admin/events/{mission.slug}/edit", data=brunos).status_code == 302
    response = anna.post(f"/admin/events/{mission.slug}/edit", data=annas | {"capacity": "25"})
    assert response.status_code == 302, "Anna changed only the capacity"
    event = saved(mission)
    assert (event.capacity, event.local_ends_at.hour) == (25, 14)


def test_days_saved_while_anothers_save_is_under_way_are_not_overwritten(
    organisers, mission, monkeypatch
):
    """Bruno's new hours commit after Anna's request read the event with its days (an older
    page, without the event's id, finds it by slug), before her save locks it: the days her
    request read stay in its session, and must not be what her changes are compared with (nor
    what the guards for check-ins look at)."""
    anna, bruno = organisers
    annas = opened(anna, mission.slug)
    brunos = opened(bruno, mission.slug) | {"ends_at": "2031-03-26T14:00"}
    brunos["agenda"] = brunos["agenda"].replace("09:00-13:00", "09:00-14:00")
    mine = {name: value for name, value in annas.items() if name != "event_id"} | {
        "ends_at": "2031-03-26T12:30"
    }
    mine["agenda"] = annas["agenda"].replace("09:00-13:00", "09:00-12:30")
    update_event = events.update_event
    bruno_saved, started = [], []

    def bruno_saves_first(*args, **kwargs):
        if not started:  # Anna's save: Bruno's request runs, and commits, first
            started.append(True)
            url = f"/admin/events/{mission.slug}/edit"
            thread = threading.Thread(
                target=lambda: bruno_saved.append(bruno.post(url, data=brunos).status_code)
            )
            thread.start()
            thread.join(30)
        return update_event(*args, **kwargs)

    monkeypatch.setattr(events, "update_event", bruno_saves_first)

    response = anna.post(f"/admin/events/{mission.slug}/edit", data=mine)

    assert bruno_saved == [302]
    assert response.status_code == 422  # Anna is told, as when Bruno saved a moment earlier
    assert saved(mission).local_ends_at.hour == 14
    assert [day.ends_at.astimezone(mission.zone).hour for day in saved(mission).days][-1] == 14


def test_merge_unit_by_unit():
    """What the editor changed is taken; what someone else changed is left; both: refused."""
    seen = edits.fingerprint({"a": 1, "b": 2, "c": 3})
    assert edits.merge(seen, {"a": 1, "b": 9, "c": 3}, {"a": 5, "b": 2, "c": 3}) == {"a": 5}
    with pytest.raises(edits.EditConflict) as refused:
        edits.merge(seen, {"a": 1, "b": 9, "c": 3}, {"a": 1, "b": 8, "c": 3})
    assert (refused.value.both, refused.value.theirs) == (["b"], [])
    # both made the same change: nothing to decide
    assert edits.merge(seen, {"a": 1, "b": 9, "c": 3}, {"a": 1, "b": 9, "c": 3}) == {"b": 9}
    # a group: someone else's change to one member keeps the editor's change to another out,
    # and the field to look at is theirs
    with pytest.raises(edits.EditConflict) as refused:
        edits.merge(seen, {"a": 7, "b": 2, "c": 3}, {"a": 1, "b": 4, "c": 3}, [("a", "b")])
    assert (refused.value.both, refused.value.theirs) == ([], ["a"])
    assert refused.value.seen["a"] == edits.fingerprint({"a": 7})["a"]
    assert edits.merge(None, {"a": 7}, {"a": 1}) == {"a": 1}  # no fingerprint: as before
