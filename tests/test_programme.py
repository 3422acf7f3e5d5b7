"""The programme file: loading, idempotence, updates, validation."""

import copy
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from eventreg.database import write_transaction
from eventreg.extensions import db
from eventreg.models import (
    Event,
    EventKind,
    EventMode,
    MessageKind,
    OutboxMessage,
    RegistrationStatus,
    utcnow,
)
from eventreg.services.agenda import agenda_text
from eventreg.services.events import update_event
from eventreg.services.programme import (
    SHIPPED_PROGRAMME,
    ProgrammeError,
    apply_update,
    load_programme,
    plan_update,
    read_programme,
)
from tests.support.admin_forms import edit_form


def events_by_slug():
    return {event.slug: event for event in db.session.scalars(select(Event))}


def test_shipped_programme_has_three_missions_and_three_webinars(app):
    report = load_programme()
    assert len(report.created) == 6
    events = events_by_slug()
    missions = {e.city or "virtual": e for e in events.values() if e.kind is EventKind.MISSION}
    assert set(missions) == {"Bergamo", "Odense", "virtual"}
    assert missions["Bergamo"].timezone == "Europe/Rome"
    assert missions["Odense"].timezone == "Europe/Copenhagen"
    assert missions["virtual"].timezone == "Europe/Lisbon"
    assert missions["virtual"].mode is EventMode.ONLINE
    webinars = [e for e in events.values() if e.kind is EventKind.WEBINAR]
    assert len(webinars) == 3 and all(e.mode is EventMode.ONLINE for e in webinars)


def test_shipped_programme_is_open_for_registration_now(app):
    """A new user can register at once: every event lies in the future and most are open."""
    load_programme()
    now = utcnow()
    events = events_by_slug().values()
    assert all(event.starts_at > now for event in events)
    assert any(event.is_registration_open(now) for event in events)


def test_local_times_are_read_in_the_events_zone(app):
    load_programme()
    bergamo = events_by_slug()["mission-bergamo"]
    assert bergamo.local_starts_at == datetime(2027, 3, 24, 9, 0, tzinfo=ZoneInfo("Europe/Rome"))
    assert bergamo.starts_at.utcoffset().total_seconds() == 0
    assert bergamo.starts_at.hour == 8  # CET is UTC+1 in March before the change


def test_loading_twice_changes_nothing(app):
    load_programme()
    before = {slug: e.updated_at for slug, e in events_by_slug().items()}
    report = load_programme()
    assert report.created == [] and len(report.existing) == 6
    db.session.expire_all()
    assert {slug: e.updated_at for slug, e in events_by_slug().items()} == before


def edited_programme(tmp_path, *replacements):
    path = tmp_path / "programme.toml"
    text = SHIPPED_PROGRAMME.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text, "utf-8")
    return path


def test_loading_an_edited_file_leaves_existing_events_alone(app, tmp_path):
    load_programme()
    edited = edited_programme(tmp_path, ('venue = "Palazzo Frizzoni', 'venue = "Sala Consiliare'))
    report = load_programme(edited)
    assert report.created == []
    db.session.expire_all()
    assert events_by_slug()["mission-bergamo"].venue.startswith("Palazzo Frizzoni")


def test_update_plan_lists_each_changed_field_with_the_mail_that_follows(app, tmp_path, sign_up):
    load_programme()
    bergamo = events_by_slug()["mission-bergamo"]
    sign_up(bergamo)
    sign_up(bergamo)
    edited = edited_programme(
        tmp_path,
        ('venue = "Palazzo Frizzoni', 'venue = "Sala Consiliare'),
        ("capacity = 40", "capacity = 45"),
    )
    plan = plan_update(edited)
    (update,) = plan.updates
    assert update.slug == "mission-bergamo"
    assert {c.name for c in update.changes} == {"venue", "capacity"}
    assert not update.conflicts
    assert update.invitations == 2 and update.promotions == 0
    db.session.expire_all()
    assert events_by_slug()["mission-bergamo"].capacity == 40  # a plan changes nothing

    apply_update(edited)
    db.session.expire_all()
    bergamo = events_by_slug()["mission-bergamo"]
    assert bergamo.venue.startswith("Sala Consiliare") and bergamo.capacity == 45
    assert plan_update(edited).is_empty


def test_a_larger_capacity_in_the_file_promotes_the_waiting_list(app, tmp_path, sign_up):
    path = edited_programme(tmp_path, ("capacity = 40", "capacity = 1"))
    load_programme(path)
    bergamo = events_by_slug()["mission-bergamo"]
    first, second = sign_up(bergamo), sign_up(bergamo)
    assert second.registrations[0].status is RegistrationStatus.WAITLISTED
    path.write_text(path.read_text("utf-8").replace("capacity = 1", "capacity = 2", 1), "utf-8")
    (update,) = plan_update(path).updates
    assert update.promotions == 1 and update.invitations == 0
    apply_update(path)
    db.session.expire_all()
    assert first.registrations[0].status is RegistrationStatus.CONFIRMED
    assert second.registrations[0].status is RegistrationStatus.CONFIRMED


def test_fields_an_organiser_changed_are_conflicts_kept_unless_overwritten(
    app, tmp_path, make_user
):
    load_programme()
    bergamo = events_by_slug()["mission-bergamo"]
    update_event(bergamo, {"capacity": 3}, actor=make_user("organiser"))
    edited = edited_programme(
        tmp_path,
        ("capacity = 40", "capacity = 45"),
        ('venue = "Palazzo Frizzoni', 'venue = "Sala Consiliare'),
    )
    (update,) = plan_update(edited).updates
    assert [(c.name, c.old, c.new) for c in update.conflicts] == [("capacity", 3, 45)]
    apply_update(edited)
    db.session.expire_all()
    bergamo = events_by_slug()["mission-bergamo"]
    assert bergamo.capacity == 3 and bergamo.venue.startswith("Sala Consiliare")
    assert [c.name for c in plan_update(edited).updates[0].conflicts] == ["capacity"]

    apply_update(edited, overwrite_edits=True)
    db.session.expire_all()
    assert events_by_slug()["mission-bergamo"].capacity == 45


def test_events_from_before_the_record_treat_every_difference_as_an_edit(app, tmp_path):
    load_programme()
    bergamo = events_by_slug()["mission-bergamo"]
    bergamo.programme_values = None  # as migrated from a release that kept no record
    db.session.commit()
    edited = edited_programme(tmp_path, ("capacity = 40", "capacity = 45"))
    (update,) = plan_update(edited).updates
    assert [c.name for c in update.conflicts] == ["capacity"]


def test_translations_are_compared_text_by_text(app, tmp_path, make_user):
    """An organiser's Italian title is kept; the file's other new texts still arrive."""
    load_programme()
    bergamo = events_by_slug()["mission-bergamo"]
    translations = copy.deepcopy(bergamo.translations)
    translations["it"]["title"] = "Bergamo: il titolo dell'organizzatrice"
    del translations["sv"]  # the organiser removed the Swedish texts
    update_event(bergamo, {"translations": translations}, actor=make_user("organiser"))
    edited = edited_programme(
        tmp_path,
        ("Missione di studio a Bergamo:", "Missione a Bergamo:"),
        ("Tre giorni con il Comune di Bergamo", "Tre giornate con il Comune di Bergamo"),
        ('2027-03-25 = "Visite alle cooperative sociali"', '2027-03-25 = "Visite sul campo"'),
        ('2027-03-25 = "Besøg hos sociale kooperativer"', '2027-03-25 = "Besøg på stedet"'),
    )

    (update,) = plan_update(edited).updates
    changes = {c.name: c for c in update.changes}
    assert {name for name, c in changes.items() if not c.edited} == {
        "translations.it.description",
        "translations.it.days.2027-03-25",
        "translations.da.days.2027-03-25",
    }
    assert {c.name for c in update.conflicts} == {"translations.it.title"} | {
        name for name in changes if name.startswith("translations.sv.")
    }
    assert changes["translations.sv.title"].old is None  # the file would bring it back

    apply_update(edited)
    db.session.expire_all()
    texts = events_by_slug()["mission-bergamo"].translations
    assert texts["it"]["title"] == "Bergamo: il titolo dell'organizzatrice"
    assert texts["it"]["description"].startswith("Tre giornate con il Comune")
    assert texts["it"]["days"]["2027-03-25"] == "Visite sul campo"
    assert texts["it"]["days"]["2027-03-24"].startswith("Co-progettazione")
    assert texts["da"]["days"]["2027-03-25"] == "Besøg på stedet"
    assert "sv" not in texts
    assert {c.name for c in plan_update(edited).updates[0].changes} == {
        c.name for c in update.conflicts
    }

    apply_update(edited, overwrite_edits=True)
    db.session.expire_all()
    texts = events_by_slug()["mission-bergamo"].translations
    assert texts["it"]["title"] == "Missione a Bergamo: appalti responsabili di servizi sociali"
    assert texts["sv"]["title"] and texts["sv"]["days"]
    assert plan_update(edited).is_empty


def test_a_translation_the_file_drops_is_removed_unless_an_organiser_changed_it(
    app, tmp_path, make_user
):
    load_programme()
    bergamo = events_by_slug()["mission-bergamo"]
    translations = copy.deepcopy(bergamo.translations)
    translations["da"]["title"] = "Studietur til Bergamo (rettet)"
    update_event(bergamo, {"translations": translations}, actor=make_user("organiser"))
    text = SHIPPED_PROGRAMME.read_text(encoding="utf-8")
    start, end = text.index('slug = "mission-bergamo"'), text.index('slug = "mission-torres')
    bergamo_part = text[start:end]
    for language in ("da", "pt"):
        bergamo_part = re.sub(
            rf"\n\[events\.translations\.{language}(\.days)?\]\n(?:[^\[\n].*\n)+",
            "\n",
            bergamo_part,
        )
    assert "translations.pt" not in bergamo_part and "translations.da" not in bergamo_part
    edited = tmp_path / "programme.toml"
    edited.write_text(text[:start] + bergamo_part + text[end:], encoding="utf-8")

    (update,) = plan_update(edited).updates
    assert all(c.new is None for c in update.changes)
    assert {c.name for c in update.conflicts} == {"translations.da.title"}
    apply_update(edited)
    db.session.expire_all()
    texts = events_by_slug()["mission-bergamo"].translations
    assert "pt" not in texts
    assert texts["da"] == {"title": "Studietur til Bergamo (rettet)"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('timezone = "Europe/Rome"', 'timezone = "Europe/Nowhere"'), "unknown time zone"),
        (('kind = "mission"', 'kind = "excursion"'), "excursion"),
        (("starts_at = 2027-03-24T09:00:00", "starts_at = 2027-03-27T09:00:00"), "ends_at"),
        (('slug = "mission-odense"', 'slug = "mission-bergamo"'), "slug used twice"),
        (("capacity = 40", "capacity = -3"), "capacity"),
        (
            ("starts_at = 2027-03-24T09:00:00", "starts_at = 2027-03-24T09:00:00Z"),
            "local date-time",
        ),
    ],
)
def test_invalid_programme_files_are_refused_with_the_reason(tmp_path, change, message):
    path = tmp_path / "programme.toml"
    path.write_text(SHIPPED_PROGRAMME.read_text("utf-8").replace(*change, 1), "utf-8")
    with pytest.raises(ProgrammeError, match=message):
        read_programme(path)


def test_cli_loads_the_programme(runner):
    result = runner.invoke(args=["programme", "load"])
    assert result.exit_code == 0, result.output
    assert "6 created" in result.output
    result = runner.invoke(args=["programme", "load"])
    assert "0 created, 6 already there" in result.output


def test_cli_reports_a_broken_file(runner, tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[[events]]\nslug = 'x'\n", "utf-8")
    result = runner.invoke(args=["programme", "load", str(path)])
    assert result.exit_code != 0
    assert "missing" in result.output


def test_restarting_the_service_keeps_organiser_edits_and_sends_nothing(
    client, runner, auth, make_user
):
    """An organiser moves Bergamo and shrinks it; scripts/run starts twice; nothing reverts."""
    assert runner.invoke(args=["prepare"]).exit_code == 0
    bergamo = events_by_slug()["mission-bergamo"]
    auth.login(make_user("organiser", "lead@example.org").email)
    form = edit_form(
        bergamo,
        capacity="3",
        starts_at=bergamo.local_starts_at.strftime("%Y-%m-%dT09:30"),
        agenda=agenda_text(bergamo).replace("09:00-18:00", "09:30-18:00"),
    )
    assert client.post(f"/admin/events/{bergamo.slug}/edit", data=form).status_code == 302
    outbox = outbox_rows()

    for _ in range(2):  # what scripts/run runs before serving, on each start
        result = runner.invoke(args=["prepare"])
        assert result.exit_code == 0, result.output
        assert "0 created, 6 already there" in result.output

    db.session.expire_all()
    bergamo = events_by_slug()["mission-bergamo"]
    assert bergamo.capacity == 3
    assert (bergamo.local_starts_at.hour, bergamo.local_starts_at.minute) == (9, 30)
    assert outbox_rows() == outbox


def test_update_without_yes_shows_the_changes_and_conflicts_and_applies_nothing(
    client, runner, auth, make_user, sign_up, tmp_path
):
    runner.invoke(args=["programme", "load"])
    bergamo = events_by_slug()["mission-bergamo"]
    sign_up(bergamo)
    auth.login(make_user("organiser").email)
    assert (
        client.post(
            f"/admin/events/{bergamo.slug}/edit", data=edit_form(bergamo, capacity="3")
        ).status_code
        == 302
    )
    edited = edited_programme(
        tmp_path,
        ("starts_at = 2027-03-24T09:00:00", "starts_at = 2027-03-24T10:30:00"),
        ("start = 09:00:00", "start = 10:30:00"),  # its first day, which must not start earlier
        ("capacity = 40", "capacity = 45"),
    )
    outbox = outbox_rows()

    result = runner.invoke(args=["programme", "load", str(edited), "--update"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "mission-bergamo:" in lines
    assert "  starts_at: 2027-03-24 09:00 (Europe/Rome) -> 2027-03-24 10:30 (Europe/Rome)" in lines
    assert "  capacity: 3 -> 45" in lines
    assert any(line.strip().startswith("conflict: changed in the organiser area") for line in lines)
    assert "  e-mails: 1 'event changed' e-mail(s) with updated invitations" in lines
    assert "Nothing changed. Run again with --yes to apply this." in lines
    db.session.expire_all()
    assert events_by_slug()["mission-bergamo"].capacity == 3
    assert outbox_rows() == outbox

    result = runner.invoke(args=["programme", "load", str(edited), "--update", "--yes"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    bergamo = events_by_slug()["mission-bergamo"]
    assert bergamo.capacity == 3  # the organiser's edit is kept
    assert bergamo.local_starts_at.hour == 10
    assert [kind for kind, _ in outbox_rows()[len(outbox) :]] == [MessageKind.EVENT_CHANGED]


def test_yes_without_update_is_refused(runner):
    result = runner.invoke(args=["programme", "load", "--yes"])
    assert result.exit_code == 2
    assert "--update" in result.output


def outbox_rows():
    return db.session.execute(
        select(OutboxMessage.kind, OutboxMessage.registration_id).order_by(OutboxMessage.id)
    ).all()


@pytest.mark.parametrize("weeks", [1, -1])
def test_a_kept_edit_of_the_time_holds_back_the_files_other_time_changes(
    app, tmp_path, make_user, sign_up, weeks
):
    """The organiser moved the start; the file moves the whole webinar. Applying the file's end
    alone made it run for a week, or crashed on the database's check (ends after it starts)."""
    load_programme()
    webinar = events_by_slug()["webinar-mission-results"]
    sign_up(webinar)
    later = webinar.starts_at + timedelta(minutes=30)
    update_event(webinar, {"starts_at": later}, actor=make_user("organiser"))
    day = (date(2027, 6, 16) + timedelta(weeks=weeks)).isoformat()
    edited = edited_programme(
        tmp_path,
        (
            "starts_at = 2027-06-16T10:00:00\nends_at = 2027-06-16T12:00:00",
            f"starts_at = {day}T10:00:00\nends_at = {day}T12:00:00",
        ),
    )
    (update,) = plan_update(edited).updates
    changes = {change.name: change for change in update.changes}
    assert changes["starts_at"].edited and not changes["ends_at"].edited
    assert changes["ends_at"].held_by == "starts_at"
    assert {"starts_at", "ends_at"} <= {change.name for change in update.conflicts}
    assert update.invitations == 0
    sent = outbox_rows()

    apply_update(edited)
    db.session.expire_all()
    webinar = events_by_slug()["webinar-mission-results"]
    assert (webinar.local_starts_at.isoformat(), webinar.local_ends_at.isoformat()) == (
        "2027-06-16T10:30:00+02:00",
        "2027-06-16T12:00:00+02:00",
    )
    assert outbox_rows() == sent

    apply_update(edited, overwrite_edits=True)
    db.session.expire_all()
    webinar = events_by_slug()["webinar-mission-results"]
    assert webinar.local_starts_at.isoformat() == f"{day}T10:00:00+02:00"
    assert webinar.local_ends_at.isoformat() == f"{day}T12:00:00+02:00"
    assert [kind for kind, _ in outbox_rows()[len(sent) :]] == [MessageKind.EVENT_CHANGED]


def test_a_change_held_back_with_an_edit_arrives_once_the_edit_is_gone(app, tmp_path, make_user):
    """The file's new end was held back with the organiser's new start, but recorded as
    loaded: once the organiser put the start back, the end counted as an edit of their own,
    and no update could bring it."""
    load_programme()
    webinar = events_by_slug()["webinar-mission-results"]
    organiser, start = make_user("organiser"), webinar.starts_at
    update_event(webinar, {"starts_at": start + timedelta(minutes=30)}, actor=organiser)
    longer = edited_programme(
        tmp_path, ("ends_at = 2027-06-16T12:00:00", "ends_at = 2027-06-16T12:30:00")
    )
    apply_update(longer)
    db.session.expire_all()
    webinar = events_by_slug()["webinar-mission-results"]
    assert webinar.local_ends_at.strftime("%H:%M") == "12:00"  # held back with the start

    update_event(webinar, {"starts_at": start}, actor=organiser)  # as the file has it again
    (update,) = plan_update(longer).updates
    assert [(change.name, change.is_conflict) for change in update.changes] == [("ends_at", False)]
    apply_update(longer)
    db.session.expire_all()
    assert events_by_slug()["webinar-mission-results"].local_ends_at.strftime("%H:%M") == "12:30"


def test_an_installation_loaded_before_agendas_gets_the_files_days_as_no_conflict(app, runner):
    """Loaded before multi-day agendas existed, the record has no agenda: the event's empty one
    was not an organiser's edit, and the file's days and their titles arrive together."""
    load_programme()
    bergamo = events_by_slug()["mission-bergamo"]
    record = copy.deepcopy(bergamo.programme_values)
    del record["agenda"]
    translations = copy.deepcopy(bergamo.translations)
    for texts in (*record["translations"].values(), *translations.values()):
        texts.pop("days", None)
    with write_transaction():
        bergamo.agenda = []
        bergamo.translations = translations
        bergamo.programme_values = record

    (update,) = plan_update().updates
    assert update.changes and not update.conflicts
    shown = runner.invoke(args=["programme", "load", "--update"]).output
    assert "agenda: [] -> [2027-03-24 09:00-18:00" in shown and "AgendaDay(" not in shown
    apply_update()
    db.session.expire_all()
    bergamo = events_by_slug()["mission-bergamo"]
    assert len(bergamo.days) == 3
    assert bergamo.day_titles_in("it")["2027-03-25"] == "Visite alle cooperative sociali"
    assert plan_update().is_empty


def test_a_local_time_the_clock_change_skips_is_refused_in_the_file(app, tmp_path):
    path = edited_programme(
        tmp_path, ("starts_at = 2027-03-24T09:00:00", "starts_at = 2027-03-28T02:30:00")
    )
    with pytest.raises(ProgrammeError, match="2027-03-28 02:30 does not exist in Europe/Rome"):
        read_programme(path)
