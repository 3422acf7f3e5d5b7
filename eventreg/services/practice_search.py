"""Word search in practice texts with the database's own full-text index.

SQLite: an FTS5 table (``practice_search``) kept beside ``practice_text``. PostgreSQL: a
``tsvector`` of the same text with the ``simple`` configuration. Both index the text lower-cased
and without accents, so "cadiz" finds "Cádiz" and "ГАБРОВО" finds "Габрово".
"""

import re

from sqlalchemy import bindparam, func, literal_column, select, text

from ..extensions import db
from ..folding import fold
from ..models import PracticeText
from ..models.practice import SEARCH_TABLE

_WORD = re.compile(r"\w+")
SIMPLE = literal_column("'simple'")


normalise = fold  # the texts are indexed folded and the words typed are folded alike


def index(practice_text: PracticeText) -> None:
    """Store the searchable form of a text (inside the caller's transaction, after a flush)."""
    practice_text.search_text = normalise(
        " ".join(
            (
                practice_text.title,
                practice_text.summary,
                practice_text.clause,
                practice_text.results,
            )
        )
    )
    if _uses_fts5():
        db.session.flush()
        _execute(f"DELETE FROM {SEARCH_TABLE} WHERE rowid = :id", id=practice_text.id)
        _execute(
            f"INSERT INTO {SEARCH_TABLE} (rowid, body) VALUES (:id, :body)",
            id=practice_text.id,
            body=practice_text.search_text,
        )


def forget(text_ids: list[int]) -> None:
    """Drop deleted texts from the SQLite index (PostgreSQL's follows the rows themselves)."""
    if _uses_fts5():
        for text_id in text_ids:
            _execute(f"DELETE FROM {SEARCH_TABLE} WHERE rowid = :id", id=text_id)


def matching_practice_ids(words: str) -> set[int]:
    """The practices with a text holding every word (a word may be the start of a longer one)."""
    tokens = _WORD.findall(normalise(words))
    if not tokens:
        return set()
    if _uses_fts5():
        query = " ".join(f'"{token}"*' for token in tokens)
        text_ids = (
            select(text("rowid"))
            .select_from(text(SEARCH_TABLE))
            .where(text(f"{SEARCH_TABLE} MATCH :query").bindparams(bindparam("query", query)))
        )
        condition = PracticeText.id.in_(text_ids)
    else:
        query = " & ".join(f"{token}:*" for token in tokens)
        # The literal configuration makes the expression the one the GIN index is built on.
        condition = func.to_tsvector(SIMPLE, PracticeText.search_text).op("@@")(
            func.to_tsquery(SIMPLE, query)
        )
    return set(db.session.scalars(select(PracticeText.practice_id).where(condition)))


def _uses_fts5() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def _execute(statement: str, **params) -> None:
    db.session.execute(text(statement), params)
