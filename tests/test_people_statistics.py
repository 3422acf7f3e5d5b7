"""People, not registrations: the programme counts each person once, whatever their sign-ups."""

import csv
import io
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from eventreg.extensions import db
from eventreg.models import utcnow
from eventreg.services import privacy, registrations, statistics
from tests.support.accessibility import logged_in, violations
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


BY_COUNTRY = [
    ["Italy", "2", "2"],
    ["Sweden", "2", "1"],
    ["Portugal", "1", "1"],
    ["Bulgaria", "1", "0"],
    ["Denmark", "1", "0"],
]
BY_TARGET_GROUP = {
    "Social economy actor": ["3", "1"],
    "Local or regional authority": ["1", "1"],
    "Other public body": ["1", "1"],
    "Business": ["2", "1"],
}
BY_ORGANISATION_TYPE = {
    "Foundation": ["1", "0"],
    "Association": ["0", "0"],
    "Social enterprise": ["0", "0"],
    "Cooperative": ["1", "1"],
    "Other social-economy organisation": ["0", "0"],
    "Social-economy actor, type not given": ["1", "0"],
    "Not a social-economy actor": ["4", "3"],
}
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
    assert (figures.totals.registered, figures.totals.attended) == (7, 4)
    assert figures.totals.registered == stats.people  # the summary's People tile
    assert stats.totals.attended == 5  # attendances, which the people figures do not repeat
    assert {c: (n.registered, n.attended) for c, n in figures.by_country.items()} == {
        "IT": (2, 2),
        "SE": (2, 1),
        "PT": (1, 1),
        "BG": (1, 0),
        "DK": (1, 0),
    }
    assert figures.attending_countries == ["IT", "SE", "PT"]


def test_the_page_shows_every_people_figure(organiser, programme):
    page = organiser.get("/admin/statistics").text
    tables = Tables(page).tables
    assert '<dd id="people-registered">7</dd>' in page
    assert '<dd id="people-attended">4</dd>' in page
    assert "counted under their most recent registration" in page

    country = tables["people-country"]
    assert country[0] == ["Country", "People registered", "People who attended"]
    assert country[1:-1] == BY_COUNTRY and country[-1] == ["Total", "7", "4"]
    groups = {row[0]: row[1:] for row in tables["people-target-group"][1:-1]}
    assert {g: n for g, n in groups.items() if n != ["0", "0"]} == BY_TARGET_GROUP
    assert len(groups) == 6  # every group, even with nobody in it
    assert tables["people-target-group"][-1] == ["Total", "7", "4"]
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
    assert rows[0] == ["People (each counted once)", "People registered", "People who attended"]
    assert rows[1] == ["Total", "7", "4"]
    blocks = _blocks(rows)
    country = blocks["People by country"]
    assert country[0] == ["Country", "People registered", "People who attended"]
    assert country[1:] == [*BY_COUNTRY, ["Total", "7", "4"]]
    groups = {row[0]: row[1:] for row in blocks["People by target group"][1:-1]}
    assert {g: n for g, n in groups.items() if n != ["0", "0"]} == BY_TARGET_GROUP
    kinds = blocks["People by type of social-economy organisation"]
    assert {row[0]: row[1:] for row in kinds[1:-1]} == BY_ORGANISATION_TYPE
    assert blocks["People who attended, by event and country"] == CROSS
    assert "most recent registration" in rows[-1][0]


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
    assert '"Total"' not in text and '"Totale","1","1"' in text
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
