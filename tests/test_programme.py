"""The programme file: loading, idempotence, updates, validation."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.models import Event, EventKind, EventMode, RegistrationStatus, utcnow
from eventreg.services.programme import (
    SHIPPED_PROGRAMME,
    ProgrammeError,
    load_programme,
    read_programme,
)


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
    assert report.created == [] and report.updated == []
    assert len(report.unchanged) == 6
    db.session.expire_all()
    assert {slug: e.updated_at for slug, e in events_by_slug().items()} == before


def test_loading_an_edited_file_updates_the_event(app, tmp_path):
    load_programme()
    edited = tmp_path / "programme.toml"
    text = SHIPPED_PROGRAMME.read_text(encoding="utf-8")
    edited.write_text(
        text.replace('venue = "Palazzo Frizzoni', 'venue = "Sala Consiliare'), "utf-8"
    )
    report = load_programme(edited)
    assert report.updated == ["mission-bergamo"]
    db.session.expire_all()
    assert events_by_slug()["mission-bergamo"].venue.startswith("Sala Consiliare")


def test_a_larger_capacity_in_the_file_promotes_the_waiting_list(app, tmp_path, sign_up):
    path = tmp_path / "programme.toml"
    path.write_text(
        SHIPPED_PROGRAMME.read_text(encoding="utf-8").replace("capacity = 40", "capacity = 1"),
        "utf-8",
    )
    load_programme(path)
    bergamo = events_by_slug()["mission-bergamo"]
    first, second = sign_up(bergamo), sign_up(bergamo)
    assert second.registrations[0].status is RegistrationStatus.WAITLISTED
    path.write_text(path.read_text("utf-8").replace("capacity = 1", "capacity = 2", 1), "utf-8")
    load_programme(path)
    db.session.expire_all()
    assert first.registrations[0].status is RegistrationStatus.CONFIRMED
    assert second.registrations[0].status is RegistrationStatus.CONFIRMED


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
    assert "0 created, 0 updated, 6 unchanged" in result.output


def test_cli_reports_a_broken_file(runner, tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[[events]]\nslug = 'x'\n", "utf-8")
    result = runner.invoke(args=["programme", "load", str(path)])
    assert result.exit_code != 0
    assert "missing" in result.output
