"""Word search in the practices library, on SQLite's FTS5 and PostgreSQL's tsvector alike."""

import pytest
from sqlalchemy import func, select, text

from eventreg.extensions import db
from eventreg.models import Member, PracticeText, ProcurementType, TargetGroup
from eventreg.services import practices
from eventreg.services.practice_search import SIMPLE
from eventreg.services.practices import LibraryFilter, PracticeInput, TextInput


@pytest.fixture
def library(app):
    """Three published practices in Italian, Bulgarian and Spanish (one also in English)."""
    made = {
        "bergamo": practices.publish_new(
            PracticeInput(
                city="Bergamo",
                country="IT",
                procurement_type=ProcurementType.SERVICES,
                texts=[
                    TextInput("it", "Servizi di assistenza domiciliare", "Città di Bergamo"),
                    TextInput("en", "Home care services", "Employment clauses for carers"),
                ],
            )
        ),
        "gabrovo": practices.publish_new(
            PracticeInput(
                city="Габрово",
                country="BG",
                procurement_type=ProcurementType.RESERVED,
                texts=[TextInput("bg", "Запазени поръчки", "Социални предприятия в Габрово")],
            )
        ),
        "cadiz": practices.publish_new(
            PracticeInput(
                city="Cádiz",
                country="ES",
                procurement_type=ProcurementType.SUPPLIES,
                texts=[TextInput("es", "Compra pública de alimentación ecológica", "Cádiz")],
            )
        ),
    }
    return {name: practice.id for name, practice in made.items()}


def found(words, **filters):
    return {p.id for p in practices.library(LibraryFilter(words=words, **filters))}


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("cadiz", {"cadiz"}),  # no accent typed, accent in the text
        ("CÁDIZ", {"cadiz"}),
        ("ecologica", {"cadiz"}),
        ("citta", {"bergamo"}),
        ("габрово", {"gabrovo"}),  # Cyrillic, lower case
        ("ГАБРОВО", {"gabrovo"}),  # Cyrillic, upper case
        ("предприят", {"gabrovo"}),  # the start of a word
        ("home care", {"bergamo"}),  # every word, in the English text
        ("home cadiz", set()),
        ("clause", {"bergamo"}),
        ("zzz", set()),
    ],
)
def test_word_search_copes_with_accents_case_and_cyrillic(library, words, expected):
    assert found(words) == {library[name] for name in expected}


def test_search_treats_query_syntax_as_words(library):
    assert found('"cadiz"* ( - ^') == {library["cadiz"]}
    assert found("cadiz OR bergamo") == set()  # OR is a word, and no text has it
    assert found("'; DROP TABLE practice; --") == set()


def test_filters_combine_with_words(library):
    assert found("", country="BG") == {library["gabrovo"]}
    assert found("", language="en") == {library["bergamo"]}
    assert found("", procurement_type=ProcurementType.SUPPLIES) == {library["cadiz"]}
    assert found("cadiz", country="IT") == set()


def test_a_corrected_text_is_found_by_its_new_words_only(library):
    practice = practices.find(library["cadiz"])
    practices.save_text(practice, TextInput("es", "Comedores escolares sostenibles", "Rota"))
    assert found("comedores") == {library["cadiz"]}
    assert found("alimentacion") == set()


def test_proposals_are_not_in_the_library_until_published(library, app):
    from eventreg.extensions import db

    member = Member(
        email="m@example.org",
        name="M",
        country="SE",
        target_group=TargetGroup.OTHER,
        language="sv",
    )
    db.session.add(member)
    db.session.commit()
    proposal = practices.propose(
        PracticeInput(
            city="Östersund",
            country="SE",
            procurement_type=ProcurementType.WORKS,
            texts=[TextInput("sv", "Östersunds sociala krav", "")],
        ),
        member,
    )
    assert found("ostersunds") == set()
    practices.review(proposal, accept=True)
    assert found("ostersunds") == {proposal.id}
    with pytest.raises(practices.PracticeError):
        practices.review(proposal, accept=False)


@pytest.mark.postgresql_only
def test_postgresql_answers_the_search_from_its_gin_index(library, app):
    query = select(PracticeText.id).where(
        func.to_tsvector(SIMPLE, PracticeText.search_text).op("@@")(
            func.to_tsquery(SIMPLE, "cadiz:*")
        )
    )
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = "\n".join(db.session.execute(text(f"EXPLAIN {compiled}")).scalars())
    db.session.rollback()
    assert "ix_practice_text_search" in plan
