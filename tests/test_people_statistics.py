"""People, not registrations: the programme counts each person once, whatever their sign-ups."""

import csv
import io
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from eventreg.extensions import db
from eventreg.models import TargetGroup, utcnow
from eventreg.services import events, privacy, registrations, statistics
from eventreg.services.manage_links import manage_token
from tests.support.accessibility import logged_in, violations
from tests.support.after_event import end_event
from tests.test_accessibility import REFLOW


class Tables(HTMLParser):
    """Each table with an id: its rows as lists of cell texts (th and td alike)."""

    def __init__(self, page: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.captions: dict[str, str] = {}
        self._table = self._cell = self._caption = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = attrs["id"]
            self.tables[self._table] = []
        elif self._table and tag == "tr":
            self.tables[self._table].append([])
        elif self._table and tag in ("th", "td"):
            self._cell = ""
        elif self._table and tag == "caption":
            self._caption = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif self._table and tag in ("th", "td") and self._cell is not None:
            self.tables[self._table][-1].append(self._cell.strip())
            self._cell = None
        elif self._table and tag == "caption":
            self.captions[self._table] = self._caption.strip()
            self._caption = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._caption is not None:
            self._caption += data


def attend(registrant, event, *, online: bool = False) -> None:
    registration = next(r for r in registrant.registrations if r.event_id == event.id)
    if online:
        registration.joined_online_at = utcnow()
    else:
        registration.checked_in_at = utcnow()
    db.session.commit()


@pytest.fixture
def programme(make_event, sign_up):
    """Three events; seven people; five attendances by four people."""
    mission = make_event(slug="mission", title="Mission to Bergamo")
    visit = make_event(slug="visit", title="Mission to Aarhus")
    webinar = make_event(slug="webinar", title="Webinar on clauses", capacity=1)
    anna = sign_up(
        mission,
        visit,
        webinar,
        email="anna@example.org",
        country="IT",
        social_economy_type="cooperative",
    )
    ben_first = sign_up(mission, email="ben@example.org", country="DK", target_group="business")
    # The same address again, later, from another country and group: counted under these.
    sign_up(visit, email="ben@example.org", country="SE", target_group="public_body")
    carla = sign_up(mission, country="PT", target_group="local_regional_authority")
    dora = sign_up(mission, country="BG", social_economy_type="foundation")
    emil = sign_up(visit, country="DK", target_group="business")
    registrations.cancel(emil.registrations[0])
    fay = sign_up(webinar, country="SE")
    assert fay.registrations[0].status.value == "waitlisted"
    gus = sign_up(visit, country="IT", target_group="business")
    attend(anna, mission)
    attend(anna, webinar, online=True)
    attend(ben_first, mission)
    attend(carla, mission)
    attend(gus, visit, online=True)
    privacy.erase(carla)  # anonymised after attending: still one person, who attended
    privacy.erase(dora)  # anonymised too: an empty address, yet not the same person as carla
    return mission, visit, webinar


@pytest.fixture
def organiser(client, auth, make_user):
    make_user("organiser")
    auth.login("organiser@example.org")
    return client


# Registered (kept a registration or came), attended, cancelled every registration.
BY_COUNTRY = [
    ["Italy", "2", "2", "0"],
    ["Sweden", "2", "1", "0"],
    ["Portugal", "1", "1", "0"],  # carla came, then her registration was cancelled by erasure
    ["Bulgaria", "0", "0", "1"],  # dora's erasure cancelled her only registration
    ["Denmark", "0", "0", "1"],  # emil withdrew
]
BY_TARGET_GROUP = {
    "Social economy actor": ["2", "1", "1"],
    "Local or regional authority": ["1", "1", "0"],
    "Other public body": ["1", "1", "0"],
    "Business": ["1", "1", "1"],
}
BY_ORGANISATION_TYPE = {
    "Foundation": ["0", "0", "1"],
    "Association": ["0", "0", "0"],
    "Social enterprise": ["0", "0", "0"],
    "Cooperative": ["1", "1", "0"],
    "Other social-economy organisation": ["0", "0", "0"],
    "Social-economy actor, type not given": ["1", "0", "0"],
    "Not a social-economy actor": ["3", "3", "1"],
}
COLUMNS = [
    "People registered (kept a place or a waiting-list place)",
    "People who attended (checked in or joined online)",
    "People who cancelled every registration",
]
CROSS = [
    ["Event", "Italy", "Sweden", "Portugal", "Total"],
    ["Mission to Bergamo", "1", "1", "1", "3"],
    ["Mission to Aarhus", "1", "0", "0", "1"],
    ["Webinar on clauses", "1", "0", "0", "1"],
    ["At least one event", "2", "1", "1", "4"],
]


def test_people_are_counted_once_under_their_latest_registration(programme):
    figures = statistics.people_figures()
    stats = statistics.programme_statistics()
    totals = figures.totals
    assert (totals.registered, totals.attended, totals.cancelled) == (5, 4, 2)
    assert totals.registered + totals.cancelled == stats.people  # the summary's People tile
    assert stats.totals.attended == 5  # attendances, which the people figures do not repeat
    assert {c: (n.registered, n.attended, n.cancelled) for c, n in figures.by_country.items()} == {
        "IT": (2, 2, 0),
        "SE": (2, 1, 0),
        "PT": (1, 1, 0),
        "BG": (0, 0, 1),
        "DK": (0, 0, 1),
    }
    assert figures.attending_countries == ["IT", "SE", "PT"]


def test_the_page_shows_every_people_figure(organiser, programme):
    page = organiser.get("/admin/statistics").text
    tables = Tables(page).tables
    assert '<dd id="people-registered">5</dd>' in page
    assert '<dd id="people-attended">4</dd>' in page
    assert '<dd id="people-cancelled">2</dd>' in page
    assert all(f"<dt>{column}</dt>" in page for column in COLUMNS)
    assert "most recent registration that was not cancelled or that they attended" in page
    assert "counted apart, not among the people registered" in page

    country = tables["people-country"]
    assert country[0] == ["Country", *COLUMNS]
    assert country[1:-1] == BY_COUNTRY and country[-1] == ["Total", "5", "4", "2"]
    groups = {row[0]: row[1:] for row in tables["people-target-group"][1:-1]}
    assert {g: n for g, n in groups.items() if n != ["0", "0", "0"]} == BY_TARGET_GROUP
    assert len(groups) == 6  # every group, even with nobody in it
    assert tables["people-target-group"][-1] == ["Total", "5", "4", "2"]
    kinds = {row[0]: row[1:] for row in tables["people-organisation-type"][1:-1]}
    assert kinds == BY_ORGANISATION_TYPE
    assert tables["people-event-country"] == CROSS
    for key in ("people-country", "people-event-country"):
        assert f'<table class="numbers" id="{key}">' in page
    assert page.count('<th scope="col"') >= 3 * 3 + 5
    assert 'href="/admin/statistics/people.csv"' in page


def test_the_event_page_has_no_programme_people_figures(organiser, programme):
    mission, _visit, _webinar = programme
    page = organiser.get(f"/admin/events/{mission.slug}/statistics").text
    assert 'id="people-country"' not in page and "people.csv" not in page


def test_the_csv_has_the_same_numbers_as_the_page(organiser, programme):
    response = organiser.get("/admin/statistics/people.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert "programme-people-" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    notes = rows[: rows.index([])]  # the header notes: how people are counted, as on the page
    assert [len(note) for note in notes] == [1, 1, 1, 1]
    assert "anonymised together still count as one person" in notes[0][0]
    assert "People registered kept at least one registration that was not cancelled" in notes[1][0]
    assert "counted apart, not among the people registered" in notes[2][0]
    assert "most recent registration that was not cancelled or that they attended" in notes[3][0]
    rows = rows[len(notes) + 1 :]
    assert rows[0] == ["People (each counted once)", *COLUMNS]
    assert rows[1] == ["Total", "5", "4", "2"]
    blocks = _blocks(rows)
    country = blocks["People by country"]
    assert country[0] == ["Country", *COLUMNS]
    assert country[1:] == [*BY_COUNTRY, ["Total", "5", "4", "2"]]
    groups = {row[0]: row[1:] for row in blocks["People by target group"][1:-1]}
    assert {g: n for g, n in groups.items() if n != ["0", "0", "0"]} == BY_TARGET_GROUP
    kinds = blocks["People by type of social-economy organisation"]
    assert {row[0]: row[1:] for row in kinds[1:-1]} == BY_ORGANISATION_TYPE
    assert blocks["People who attended, by event and country"] == CROSS


def _blocks(rows: list[list[str]]) -> dict[str, list[list[str]]]:
    """The CSV's titled blocks (a title line, then rows, then an empty line)."""
    blocks, current = {}, None
    for row in rows[3:]:
        if not row:
            current = None
        elif current is None and len(row) == 1:
            current = blocks.setdefault(row[0], [])
        elif current is not None:
            current.append(row)
    return blocks


def test_the_csv_is_in_the_organisers_language_and_formula_safe(organiser, make_event, sign_up):
    event = make_event(title='=HYPERLINK("http://x")')
    person = sign_up(event, country="PT")
    person.registrations[0].checked_in_at = utcnow()
    db.session.commit()
    text = organiser.get(
        "/admin/statistics/people.csv", headers={"Accept-Language": "it"}
    ).data.decode("utf-8-sig")
    assert "Portogallo" in text and "Portugal" not in text
    assert '"Total"' not in text and '"Totale","1","1","0"' in text
    assert "People registered" not in text and "Persone iscritte" in text
    assert '"\'=HYPERLINK(""http://x"")"' in text
    assert '"=HYPERLINK' not in text


@pytest.mark.parametrize("url", ["/admin/statistics", "/admin/statistics/people.csv"])
def test_only_organisers_see_the_people_figures(client, auth, make_user, programme, url):
    assert client.get(url).status_code in (302, 401)
    make_user("checkin")
    auth.login("checkin@example.org")
    assert client.get(url).status_code == 403


def test_people_figures_cost_the_same_queries_however_many_people(organiser, programme, sign_up):
    mission, visit, _webinar = programme

    def statements() -> int:
        seen = []
        engine = db.engine

        def count(*_args):
            seen.append(1)

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert organiser.get("/admin/statistics/people.csv").status_code == 200
            assert organiser.get("/admin/statistics").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    before = statements()
    for n in range(6):
        attend(sign_up(mission, visit, country=["FI", "ES"][n % 2]), mission)
    assert statements() == before


@pytest.mark.sqlite_only  # the page is the same on both databases
@pytest.mark.parametrize("language", ["en", "bg"])
def test_the_people_tables_read_at_390px_and_pass_axe(
    new_context, live_server, make_user, programme, language
):
    make_user("organiser")
    page = logged_in(new_context, live_server, language, width=390)
    page.goto(f"{live_server}/admin/statistics")
    assert page.locator("#people-event-country caption").is_visible()
    assert page.evaluate(REFLOW) == []
    assert violations(page) == []
    # Each table scrolls in its own focusable box, the page itself does not.
    boxes = page.locator(".people .table-wrap")
    assert boxes.count() == 4
    assert all(boxes.nth(n).get_attribute("tabindex") == "0" for n in range(4))


def counts(headcount) -> tuple[int, int, int]:
    return headcount.registered, headcount.attended, headcount.cancelled


def test_people_who_cancelled_every_registration_are_counted_apart(make_event, make_user, sign_up):
    mission, visit, called_off = make_event(), make_event(), make_event()
    withdrew = sign_up(mission, country="DK")
    registrations.cancel(withdrew.registrations[0])
    kept_one = sign_up(mission, visit, country="IT")
    registrations.cancel(kept_one.registrations[1])
    erased = sign_up(visit, country="SE")
    privacy.erase(erased)
    sign_up(called_off, country="PT")
    came_then_erased = sign_up(mission, country="BG")
    attend(came_then_erased, mission)
    privacy.erase(came_then_erased)  # a coming event's registration: cancelled, though they came
    moved = sign_up(mission, country="ES")
    registrations.move(moved.registrations[0], visit, actor=make_user("organiser"))
    events.cancel_event(called_off, actor=make_user("admin", "admin@example.org"))

    figures = statistics.people_figures()
    assert counts(figures.totals) == (3, 1, 3)
    assert {code: counts(n) for code, n in figures.by_country.items()} == {
        "BG": (1, 1, 0),
        "ES": (1, 0, 0),  # moved: the new registration is kept
        "IT": (1, 0, 0),
        "DK": (0, 0, 1),
        "PT": (0, 0, 1),
        "SE": (0, 0, 1),
    }
    assert statistics.programme_statistics().people == 6  # everyone who signed up


def test_a_person_counts_under_their_latest_registration_that_counts(make_event, sign_up):
    first, second = make_event(), make_event()
    sign_up(first, email="kept@example.org", country="BG", target_group="business")
    later = sign_up(second, email="kept@example.org", country="IT", target_group="public_body")
    registrations.cancel(later.registrations[0])  # the newer details came with a cancelled one
    earlier = sign_up(first, email="gone@example.org", country="DK")
    gone = sign_up(second, email="gone@example.org", country="SE")
    registrations.cancel(gone.registrations[0])
    registrations.cancel(earlier.registrations[0])

    figures = statistics.people_figures()
    assert {code: counts(n) for code, n in figures.by_country.items()} == {
        "BG": (1, 0, 0),  # the details of the registration they kept
        "SE": (0, 0, 1),  # cancelled everything: their most recent registration's
    }
    assert counts(figures.by_target_group[TargetGroup.BUSINESS]) == (1, 0, 0)
    assert counts(figures.by_target_group[TargetGroup.PUBLIC_BODY]) == (0, 0, 0)


@pytest.fixture
def two_sign_ups(make_event, sign_up):
    """One person (one address) signed up twice, for two events that have ended, and came to
    one; and someone else at one of them."""
    mission, visit = make_event(), make_event()
    first = sign_up(mission, email="twice@example.org", country="IT")
    second = sign_up(visit, email="twice@example.org", country="IT")
    other = sign_up(visit, country="IT")
    end_event(mission)
    end_event(visit)
    attend(first, mission)
    return first, second, other


def figures_now() -> tuple:
    """Every people figure: totals, Italy's, the cross-table, the summary's People tile."""
    figures = statistics.people_figures()
    cross = [(event.slug, counts) for event, counts in figures.attended_by_event]
    people = statistics.programme_statistics().people
    return counts(figures.totals), counts(figures.by_country["IT"]), cross, people


def test_an_organisers_erasure_keeps_a_persons_sign_ups_one_person(organiser, two_sign_ups):
    first, second, other = two_sign_ups
    before = figures_now()
    assert before[:2] == ((2, 1, 0), (2, 1, 0)) and before[3] == 2
    reference = second.registrations[0].reference
    response = organiser.post(f"/admin/registrations/{reference}/erase", data={"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert first.is_purged and second.is_purged and first.email == second.email == ""
    assert figures_now() == before
    # One key for the rows erased together, random: not the address, not another person's.
    assert first.person_key == second.person_key and len(first.person_key) == 32
    assert "twice" not in first.person_key
    privacy.erase(other)
    db.session.expire_all()
    assert other.person_key not in (None, first.person_key)
    assert figures_now() == before


def test_a_persons_own_erasure_keeps_their_registrations_one_person(client, make_event, sign_up):
    mission, visit = make_event(), make_event()
    person = sign_up(mission, visit, country="IT")
    end_event(mission)
    end_event(visit)
    attend(person, visit)
    before = figures_now()
    assert before[:2] == ((1, 1, 0), (1, 1, 0))
    response = client.post(f"/manage/{manage_token(person)}/erase", data={"confirm": "y"})
    assert "Your data is erased" in response.text
    db.session.expire_all()
    assert person.is_purged and person.person_key
    assert figures_now() == before


def test_the_retention_purge_keeps_a_persons_sign_ups_one_person(two_sign_ups):
    first, second, other = two_sign_ups
    for registrant in (first, second):
        end_event(registrant.registrations[0].event, days_ago=400)
    before = figures_now()
    assert privacy.purge() == 3
    db.session.expire_all()
    assert first.person_key == second.person_key != other.person_key
    assert figures_now() == before


def test_people_anonymised_before_keys_count_one_per_sign_up(two_sign_ups):
    first, second, _other = two_sign_ups
    privacy.erase(first)
    privacy.erase(second)
    for registrant in (first, second):
        registrant.person_key = None  # as the upgrade leaves those anonymised before it
    db.session.commit()
    assert counts(statistics.people_figures().totals) == (3, 1, 0)
    assert statistics.programme_statistics().people == 3
