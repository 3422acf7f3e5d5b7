"""Feedback after an event: the event's questions and one answer sheet per registration."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .event import Event, enum_column
from .registration import Registration, new_secret
from .types import UTCDateTime, utcnow


class QuestionKind(enum.StrEnum):
    RATING = "rating"  # 1 to 5
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    TEXT = "text"


class FeedbackQuestion(db.Model):
    """One question of an event's questionnaire, its text and options in every language.

    Answers are stored by the question's id, so an id is never given again (SQLite would give
    a removed last question's id to the next one): a page showing a removed question must not
    answer the one added in its place."""

    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(enum_column(QuestionKind))
    # {"en": "How useful ...?", "bg": "..."}: English is always there.
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Choice questions: [{"en": "Yes", "bg": "Да"}, ...]; empty for ratings and texts.
    options: Mapped[list[Any]] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(default=False)

    event: Mapped[Event] = relationship()

    @property
    def is_rating(self) -> bool:
        return self.kind is QuestionKind.RATING

    @property
    def is_text(self) -> bool:
        return self.kind is QuestionKind.TEXT

    @property
    def is_choice(self) -> bool:
        return self.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)

    @property
    def is_multiple(self) -> bool:
        return self.kind is QuestionKind.MULTIPLE_CHOICE

    def text_in(self, language: str) -> str:
        return self.texts.get(language) or self.texts.get("en", "")

    def options_in(self, language: str) -> list[str]:
        return [option.get(language) or option.get("en", "") for option in self.options or []]


class FeedbackResponse(db.Model):
    """A registration's personal questionnaire link and, once given, its answers."""

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_secret)
    # {str(question id): 4 | "text" | [option index, ...] | option index}
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration] = relationship()

    @property
    def is_answered(self) -> bool:
        return self.submitted_at is not None
