"""Statistics: the numbers match the exports, no-shows count only events that took place."""

import csv
import io
import re
from collections import Counter
from datetime import date, timedelta

import pytest

from eventreg.admin.reports.charts import day_columns, nice_ceiling, stacked_bars
from eventreg.extensions import db
from eventreg.models import EventStatus, TargetGroup, utcnow
from eventreg.services import registrations, statistics
from eventreg.services.statistics import Tally


@pytest.fixture
def organiser(client, auth, make_user):
    make_user("organiser")
    auth.login("organiser@example.org")
    return client


def move_to_past(event, days: int = 7) -> None:
    """Registration happened while the event was ahead; now it has taken place."""
    event.starts_at = utcnow() - timedelta(days=days, hours=3)
    event.ends_at = utcnow() - timedelta(days=days)
    db.session.commit()


def attend(registrant, *, online: bool = False) -> None:
    registration = registrant.registrations[0]
    if online:
        registration.joined_online_at = utcnow()
    else:
        registration.checked_in_at = utcnow()
    db.session.commit()


@pytest.fixture
def programme(make_event, sign_up):
    """Two events with every status, target group mix, countries, opt-ins and attendance."""
    held = make_event(slug="mission-held", capacity=4)
    ahead = make_event(slug="webinar-ahead", title="Webinar", capacity=2)
    people = [
        sign_up(held, country="DK", target_group="business", network_opt_in=True),
        sign_up(held, country="DK"),
        sign_up(held, country="BG", target_group="public_body"),
        sign_up(held, country="PT", network_opt_in=True),
        sign_up(held, country="PT"),  # waiting list
        sign_up(ahead, country="IT", target_group="business"),
        sign_up(ahead, country="IT", network_opt_in=True),
        sign_up(ahead, country="IT"),  # waiting list
    ]
    registrations.cancel(people[3].registrations[0])  # frees a seat: people[4] gets it
    sign_up(held, ahead, country="SE", email="both@example.org")  # waits at both
    move_to_past(held)
    attend(people[0])
    attend(people[2], online=True)
    return held, ahead


def csv_rows(client, url="/admin/attendees.csv") -> list[dict]:
    return list(csv.DictReader(io.StringIO(client.get(url).data.decode("utf-8-sig"))))


def tally_from(rows: list[dict]) -> Tally:
    tally = Tally()
    for row in rows:
        setattr(tally, row["status"], getattr(tally, row["status"]) + 1)
        tally.attended += row["attended"] == "yes"
        tally.confirmed_attended += row["attended"] == "yes" and row["status"] == "confirmed"
    return tally


def grouped(rows: list[dict], column: str) -> dict[str, Tally]:
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row[column], []).append(row)
    return {key: tally_from(group) for key, group in groups.items()}


def test_programme_statistics_match_the_csv_export(organiser, programme):
    rows = csv_rows(organiser)
    stats = statistics.programme_statistics()

    assert stats.totals == tally_from(rows)
    assert stats.totals.total == len(rows) == 10
    assert {e.slug: t for e, t in stats.by_event} == grouped(rows, "event")
    assert {g.value: t for g, t in stats.by_target_group.items() if t.total} == grouped(
        rows, "target_group"
    )
    assert stats.by_country == grouped(rows, "country")
    assert stats.people == len({row["email"] for row in rows})
    opted_in = {row["email"] for row in rows if row["network_opt_in"] == "yes"}
    assert stats.network_opt_ins == len(opted_in) == 3
    per_day = Counter(row["registered_at_utc"][:10] for row in rows)
    assert {d.isoformat(): n for d, n in stats.per_day if n} == per_day


def test_event_statistics_match_that_events_csv(organiser, programme):
    held, _ahead = programme
    rows = csv_rows(organiser, f"/admin/events/{held.slug}/attendees.csv")
    stats = statistics.event_statistics(held)
    assert stats.totals == tally_from(rows)
    assert stats.by_country == grouped(rows, "country")
    assert [event.slug for event, _tally in stats.by_event] == [held.slug]


def test_no_show_rate_counts_confirmed_people_at_events_that_took_place(programme):
    held, ahead = programme
    stats = statistics.programme_statistics()
    # held: four confirmed (one came in person, one joined online); ahead has not happened yet
    assert (stats.no_shows.expected, stats.no_shows.absent) == (4, 2)
    assert stats.no_shows.rate == statistics.event_statistics(held).no_shows.rate == 0.5
    assert statistics.event_statistics(ahead).no_shows.rate is None


def test_an_event_called_off_has_no_no_shows(programme):
    held, _ahead = programme
    held.status = EventStatus.CANCELLED
    db.session.commit()
    assert statistics.event_statistics(held).no_shows.expected == 0


def test_every_target_group_is_listed_even_when_nobody_chose_it(make_event, sign_up):
    sign_up(make_event(), target_group="business")
    stats = statistics.programme_statistics()
    assert list(stats.by_target_group) == list(TargetGroup)
    assert stats.by_target_group[TargetGroup.OTHER].total == 0


def test_days_without_registrations_appear_as_zero(make_event, sign_up):
    event = make_event()
    early, _today = sign_up(event), sign_up(event)
    early.registrations[0].created_at = utcnow() - timedelta(days=3)
    db.session.commit()
    assert [count for _day, count in statistics.event_statistics(event).per_day] == [1, 0, 0, 1]


def test_statistics_pages_show_the_numbers_and_charts(organiser, programme):
    held, _ahead = programme
    page = organiser.get("/admin/statistics").text
    assert "Programme statistics" in page
    assert re.search(r"<dt>No-show rate</dt>\s*<dd>50%", page)
    assert "2 of 4 confirmed did not come" in page
    assert page.count('role="img"') >= 3 and "<title" in page and "<desc" in page
    assert f'href="/admin/events/{held.slug}/statistics"' in page
    assert 'href="/admin/attendees.csv"' in page
    assert " style=" not in page  # ready for a strict Content-Security-Policy

    event_page = organiser.get(f"/admin/events/{held.slug}/statistics").text
    assert held.title in event_page
    assert f'href="/admin/events/{held.slug}/attendees.pdf"' in event_page


def test_statistics_pages_escape_what_organisers_and_registrants_typed(
    organiser, make_event, sign_up
):
    script = "<script>alert(1)</script>"
    event = make_event(title=f"Mission {script}")
    sign_up(event, first_name=script, organisation=script)
    for url in ("/admin/statistics", f"/admin/events/{event.slug}/statistics"):
        page = organiser.get(url).text
        assert script not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_statistics_pages_with_no_registrations(organiser, make_event):
    event = make_event()
    for url in ("/admin/statistics", f"/admin/events/{event.slug}/statistics"):
        response = organiser.get(url)
        assert response.status_code == 200 and "No registrations yet." in response.text


def test_axis_ends_at_a_round_number():
    assert [nice_ceiling(n) for n in (0, 1, 3, 7, 11, 38, 101)] == [1, 1, 5, 10, 20, 50, 200]


def test_bars_share_one_scale_and_stack_waiting_after_confirmed():
    chart = stacked_bars([("A", Tally(confirmed=6, waitlisted=2)), ("B", Tally(confirmed=3))])
    assert chart.extent == 8
    first, second = chart.bars
    assert [(s.series, s.x, s.value) for s in first.segments] == [
        ("confirmed", 0, 6),
        ("waitlisted", 6, 2),
    ]
    assert second.value == 3 and len(second.segments) == 1


def test_day_columns_stand_on_the_baseline(app):
    start = date(2026, 11, 1)
    with app.test_request_context():
        chart = day_columns([(start + timedelta(days=n), n) for n in range(30)])
    assert len(chart.date_ticks) == 6 and chart.peak == 29
    assert all(abs(c.y + c.height - chart.baseline) < 1e-9 for c in chart.columns)
    tallest = chart.columns[-1]
    assert tallest.y >= chart.value_ticks[-1].position  # under the axis's top (50)


def test_an_event_title_shown_in_english_on_a_translated_page_is_marked_english(
    organiser, make_event, sign_up
):
    translated = make_event(title="Mission", translations={"bg": {"title": "Мисия"}})
    english_only = make_event(title="Webinar on clauses")
    sign_up(translated)
    sign_up(english_only)
    page = organiser.get("/admin/statistics", headers={"Accept-Language": "bg"}).text
    assert '<span class="bar-label" lang="en">Webinar on clauses</span>' in page
    assert '<span class="bar-label">Мисия</span>' in page
    assert re.search(r'<th scope="row" lang="en"><a [^>]*>Webinar on clauses</a>', page)
    assert re.search(r'<th scope="row"><a [^>]*>Мисия</a>', page)


# A page's figures come from several statements; a sign-up made while they are read must not
# make them disagree (database.read_snapshot).


def test_an_events_figures_are_read_at_one_moment(app, programme, added, monkeypatch):
    held, _ahead = programme
    tallies = statistics._tallies
    calls = []

    def then_someone_signs_up(*args):
        found = tallies(*args)
        if not calls:  # after the events' counts, before the target groups' and countries'
            calls.append(True)
            with app.app_context():
                added(db.session.get(type(held), held.id), country="IT")  # held: by organisers
                db.session.remove()
        return found

    monkeypatch.setattr(statistics, "_tallies", then_someone_signs_up)
    with app.test_request_context():
        stats = statistics.event_statistics(db.session.get(type(held), held.id))
    by_group, by_country = Tally(), Tally()
    for tally in stats.by_target_group.values():
        by_group.absorb(tally)
    for tally in stats.by_country.values():
        by_country.absorb(tally)
    assert by_group == stats.totals and by_country == stats.totals
    assert "IT" not in stats.by_country  # the moment before the sign-up


def test_the_programme_pages_figures_are_read_at_one_moment(app, programme, sign_up):
    _held, ahead = programme
    with app.test_request_context():
        stats = statistics.programme_statistics()
        first = statistics.people_figures()
        with app.app_context():
            sign_up(db.session.get(type(ahead), ahead.id), country="SE")
            db.session.remove()
        again = statistics.people_figures()
    assert again == first  # the moment the page's first figures were read
    assert stats.totals.total == 10  # the programme fixture's registrations, none added
