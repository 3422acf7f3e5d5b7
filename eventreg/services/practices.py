"""The library of practices: organisers publish, members propose, everyone reads and searches."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..database import locking, write_transaction
from ..extensions import db
from ..models import (
    Event,
    EventStatus,
    Member,
    MessageKind,
    Practice,
    PracticeDocument,
    PracticeStatus,
    PracticeText,
    ProcurementType,
    utcnow,
)
from . import edits, practice_search
from .network_mail import enqueue_for_member
from .storage import new_key, storage

TEXT_FIELDS = ("title", "summary", "clause", "results")  # of a text, as its page edits them


class PracticeError(Exception):
    """A change the rules refuse; nothing was written."""


@dataclass
class TextInput:
    """A practice written in one language."""

    language: str
    title: str
    summary: str | None = ""
    clause: str | None = ""
    results: str | None = ""


@dataclass
class PracticeInput:
    """What describes a practice whatever the language."""

    city: str
    country: str
    procurement_type: ProcurementType
    event_id: int | None = None
    contact: str | None = None
    texts: list[TextInput] = field(default_factory=list)


@dataclass
class LibraryFilter:
    """What a reader looks for in the library; empty fields filter nothing."""

    words: str = ""
    country: str = ""
    event_id: int | None = None
    procurement_type: ProcurementType | None = None
    language: str = ""


def publish_new(details: PracticeInput) -> Practice:
    """An organiser adds a practice to the library, published at once."""
    with write_transaction():
        practice = _create(details, PracticeStatus.PUBLISHED)
        _publish(practice)
    return practice


def propose(details: PracticeInput, member: Member) -> Practice:
    """A member proposes a practice; it appears once an organiser has reviewed it."""
    with write_transaction():
        practice = _create(details, PracticeStatus.PROPOSED)
        practice.proposed_by_id = member.id
    return practice


def review(practice: Practice, accept: bool, note: str = "") -> None:
    """An organiser publishes or rejects a proposed practice; its proposer is told by e-mail,
    a rejection with the organiser's note if there is one, a practice withdrawn before as
    published again."""
    with write_transaction():
        locked = _locked(practice.id)
        if not locked.is_proposed:
            raise PracticeError("already reviewed")
        if accept:
            kind = (
                MessageKind.NETWORK_PRACTICE_REPUBLISHED
                if locked.first_published_at
                else MessageKind.NETWORK_PRACTICE_PUBLISHED
            )
            _publish(locked)
        else:
            kind = MessageKind.NETWORK_PRACTICE_REJECTED
            locked.status = PracticeStatus.REJECTED
        _tell_proposer(locked, kind, note)


def unpublish(practice: Practice, note: str = "") -> None:
    """An organiser takes a published practice out of the library and the booklet, back to
    the proposals waiting for review; its proposer is told, with the organiser's note."""
    with write_transaction():
        locked = _locked(practice.id)
        if not locked.is_published:
            raise PracticeError("not published")
        locked.status = PracticeStatus.PROPOSED
        locked.published_at = None
        _tell_proposer(locked, MessageKind.NETWORK_PRACTICE_UNPUBLISHED, note)


def text_fingerprint(text: PracticeText | None) -> dict[str, str]:
    """What the text page shows of a text (or of none yet), as ``save_text`` compares it."""
    return edits.fingerprint(_text_values(text))


def save_text(practice: Practice, text: TextInput, seen: dict[str, str] | None = None) -> None:
    """Add the practice in another language, or correct the text of one it has; a field given
    as None keeps what the text says (an empty one for a new text).

    ``seen``: the fingerprint of the text the page showed (``text_fingerprint``); then only the
    fields the editor changed are saved, and edits.EditConflict refuses a change to a field
    someone else saved meanwhile (nothing is saved)."""
    with write_transaction():
        locked = _locked(practice.id)
        existing = next((t for t in locked.texts if t.language == text.language), None)
        submitted = {
            name: getattr(text, name) for name in TEXT_FIELDS if getattr(text, name) is not None
        }
        taken = edits.merge(seen, _text_values(existing), submitted)
        if not taken:
            return
        if existing is None:
            existing = PracticeText(language=text.language, summary="", clause="", results="")
            locked.texts.append(existing)
        for name, value in taken.items():
            setattr(existing, name, value)
        practice_search.index(existing)


def _text_values(text: PracticeText | None) -> dict[str, str]:
    return {name: (getattr(text, name) or "") if text else "" for name in TEXT_FIELDS}


def remove(practice: Practice) -> None:
    """Take a practice out of the library for good."""
    with write_transaction():
        locked = _locked(practice.id)
        practice_search.forget([text.id for text in locked.texts])
        keys = [document.storage_key for document in locked.documents]
        db.session.delete(locked)
    for key in keys:  # after the commit: a rollback must not lose files still referenced
        storage().delete(key)


def library(criteria: LibraryFilter) -> list[Practice]:
    """Published practices matching the filters and every word searched for."""
    query = (
        select(Practice)
        .where(Practice.status == PracticeStatus.PUBLISHED)
        .options(selectinload(Practice.texts), selectinload(Practice.event))
        .order_by(Practice.published_at.desc(), Practice.id.desc())
    )
    if criteria.words.strip():
        query = query.where(Practice.id.in_(practice_search.matching_practice_ids(criteria.words)))
    if criteria.country:
        query = query.where(Practice.country == criteria.country)
    if criteria.event_id:
        query = query.where(Practice.event_id == criteria.event_id)
    if criteria.procurement_type:
        query = query.where(Practice.procurement_type == criteria.procurement_type)
    if criteria.language:
        query = query.where(Practice.texts.any(PracticeText.language == criteria.language))
    return list(db.session.scalars(query))


def proposed() -> list[Practice]:
    """Proposals waiting for an organiser, oldest first."""
    return list(
        db.session.scalars(
            select(Practice)
            .where(Practice.status == PracticeStatus.PROPOSED)
            .options(selectinload(Practice.texts))
            .order_by(Practice.id)
        )
    )


def find(practice_id: int) -> Practice | None:
    return db.session.get(Practice, practice_id)


def source_events() -> list[Event]:
    """The missions and webinars practices may come from, in programme order: the published
    ones (a draft's title is not public yet; the library's filter lists these too)."""
    return list(
        db.session.scalars(
            select(Event).where(Event.status != EventStatus.DRAFT).order_by(Event.starts_at)
        )
    )


def chapters(published: Sequence[Practice]) -> list[tuple[Event | None, list[Practice]]]:
    """Practices grouped by the mission or webinar they came from, in programme order."""
    groups: dict[int | None, list[Practice]] = {}
    for practice in published:
        groups.setdefault(practice.event_id, []).append(practice)
    events = {p.event_id: p.event for p in published}
    order = sorted(
        groups,
        key=lambda event_id: (event_id is None, events[event_id].starts_at if event_id else 0),
    )
    return [(events[event_id], groups[event_id]) for event_id in order]


def _create(details: PracticeInput, status: PracticeStatus) -> Practice:
    if not details.texts:
        raise PracticeError("a practice needs a text in at least one language")
    practice = Practice(
        city=details.city,
        country=details.country,
        procurement_type=details.procurement_type,
        event_id=details.event_id,
        contact=details.contact,
        status=status,
        texts=[],
    )
    db.session.add(practice)
    for text in details.texts:
        practice_text = PracticeText(
            language=text.language,
            title=text.title,
            summary=text.summary,
            clause=text.clause,
            results=text.results,
        )
        practice.texts.append(practice_text)
        practice_search.index(practice_text)
    return practice


def _publish(practice: Practice) -> None:
    practice.status = PracticeStatus.PUBLISHED
    practice.published_at = utcnow()
    practice.first_published_at = practice.first_published_at or practice.published_at


def _tell_proposer(practice: Practice, kind: MessageKind, note: str) -> None:
    """The member who proposed the practice hears of the decision, in their language, unless
    they stopped the network's e-mails."""
    member = practice.proposed_by
    if member is None or member.is_pending or not member.receives_mail:
        return
    text = practice.text_in(member.language)
    enqueue_for_member(
        kind, member, practice_id=practice.id, title=text.title, language=text.language, note=note
    )


def _locked(practice_id: int) -> Practice:
    """The practice with its row locked, it and its texts read again: a text the request read
    before (it stays in the session) may have been saved by someone else since."""
    practice = db.session.scalar(
        locking(
            select(Practice).where(Practice.id == practice_id).options(selectinload(Practice.texts))
        )
    )
    if practice is None:
        raise PracticeError("no such practice")
    return practice


DOCUMENT_TYPES = {
    ".pdf": "application/pdf",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}


def attach(practice: Practice, filename: str, data: bytes) -> PracticeDocument:
    """Keep a document with the practice: the file in the storage, its record in the database."""
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix not in DOCUMENT_TYPES:
        raise PracticeError("type")
    if not data:
        raise PracticeError("empty")
    key = new_key(f"practices/{practice.id}")
    storage().put(key, data)
    try:
        with write_transaction():
            locked = _locked(practice.id)
            document = PracticeDocument(
                filename=PurePosixPath(filename.replace("\\", "/")).name[:200],
                content_type=DOCUMENT_TYPES[suffix],
                size=len(data),
                storage_key=key,
            )
            locked.documents.append(document)
    except Exception:
        storage().delete(key)  # the record was not written: keep no orphan file
        raise
    return document


def document_data(document: PracticeDocument) -> bytes:
    return storage().get(document.storage_key)
