"""Materials of an event: uploaded files and links, each public or for registrants only."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .event import Event, enum_column
from .types import UTCDateTime, utcnow


class MaterialVisibility(enum.StrEnum):
    PUBLIC = "public"
    REGISTRANTS = "registrants"  # confirmed registrants, from their manage page


class Material(db.Model):
    """A file (kept in storage, typed from its content) or a link, titled in several languages."""

    __table_args__ = (
        CheckConstraint("(url IS NULL) <> (storage_key IS NULL)", name="file_or_link"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # Titles in other languages: {"bg": "...", "it": "..."}; English is ``title``.
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    visibility: Mapped[MaterialVisibility] = mapped_column(enum_column(MaterialVisibility))
    url: Mapped[str | None] = mapped_column(String(500))
    storage_key: Mapped[str | None] = mapped_column(String(120))
    filename: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(120))
    size: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship()

    @property
    def is_link(self) -> bool:
        return self.url is not None

    @property
    def is_public(self) -> bool:
        return self.visibility is MaterialVisibility.PUBLIC

    def title_in(self, language: str) -> str:
        """The title in a language, falling back to English."""
        return (self.translations or {}).get(language) or self.title
