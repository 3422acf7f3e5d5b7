"""The library of practices: each practice with its texts in one or more languages."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .event import Event, enum_column
from .network import Member
from .types import UTCDateTime, utcnow

# SQLite's FTS5 index of practice texts (and its shadow tables); kept by the search service.
SEARCH_TABLE = "practice_search"
# PostgreSQL's GIN index of the same texts' tsvector (services/practice_search.py).
SEARCH_INDEX = "ix_practice_text_search"


def is_modelled(name: str | None, type_: str, parent_names) -> bool:
    """Whether Alembic compares this object with the models (not the search indexes)."""
    if type_ == "table" and name and name.startswith(SEARCH_TABLE):
        return False
    return not (type_ == "index" and name == SEARCH_INDEX)


class ProcurementType(enum.StrEnum):
    SERVICES = "services"
    SUPPLIES = "supplies"
    WORKS = "works"
    CONCESSION = "concession"
    RESERVED = "reserved"


class PracticeStatus(enum.StrEnum):
    PROPOSED = "proposed"  # a member's proposal, waiting for an organiser
    PUBLISHED = "published"
    REJECTED = "rejected"


class Practice(db.Model):
    """A procurement practice seen at a mission or webinar."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"))
    city: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))
    procurement_type: Mapped[ProcurementType] = mapped_column(enum_column(ProcurementType))
    contact: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[PracticeStatus] = mapped_column(
        enum_column(PracticeStatus), default=PracticeStatus.PROPOSED
    )
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Kept when the practice is taken out of the library: publishing it again is no news.
    first_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event | None] = relationship()
    proposed_by: Mapped[Member | None] = relationship()
    texts: Mapped[list["PracticeText"]] = relationship(
        back_populates="practice", cascade="all, delete-orphan", order_by="PracticeText.language"
    )
    documents: Mapped[list["PracticeDocument"]] = relationship(
        cascade="all, delete-orphan", order_by="PracticeDocument.id"
    )

    @property
    def is_published(self) -> bool:
        return self.status is PracticeStatus.PUBLISHED

    @property
    def is_proposed(self) -> bool:
        return self.status is PracticeStatus.PROPOSED

    @property
    def is_rejected(self) -> bool:
        return self.status is PracticeStatus.REJECTED

    @property
    def languages(self) -> list[str]:
        return [text.language for text in self.texts]

    def text_in(self, language: str) -> "PracticeText":
        """The text in a language, else English, else the first one there is."""
        by_language = {text.language: text for text in self.texts}
        return by_language.get(language) or by_language.get("en") or self.texts[0]

    def text_written_in(self, language: str) -> "PracticeText | None":
        """The text in exactly this language, if the practice has one."""
        return next((text for text in self.texts if text.language == language), None)


class PracticeText(db.Model):
    """A practice written in one language."""

    __table_args__ = (UniqueConstraint("practice_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    clause: Mapped[str] = mapped_column(Text, default="")  # the social or ecological clause used
    results: Mapped[str] = mapped_column(Text, default="")  # results and impact
    # Every text in lower case without accents, for the full-text search of both databases.
    search_text: Mapped[str] = mapped_column(Text, default="")

    practice: Mapped[Practice] = relationship(back_populates="texts")


class PracticeDocument(db.Model):
    """A file attached to a practice (a tender, a clause, a report), kept in the file storage."""

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(
        ForeignKey("practice.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
