"""Staff accounts (admin, organiser, check-in) and their API tokens."""

import enum
import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .event import enum_column
from .types import UTCDateTime, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    ORGANISER = "organiser"
    CHECKIN = "checkin"


# Which events each check-in staff member may check people in at.
event_staff = Table(
    "event_staff",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("event_id", ForeignKey("event.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Part of every session's user id: raising it ends every session of the account at once.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # The language of the staff member's e-mails: the one they last used the site in.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user")
    checkin_events: Mapped[list["Event"]] = relationship(secondary=event_staff)  # noqa: F821

    def get_id(self) -> str:
        """What the session stores: the id and the session version, e.g. ``"7.3"``."""
        return f"{self.id}.{self.session_version}"

    def can_check_in_at(self, event) -> bool:
        """Organisers may check in everywhere; check-in staff at the events they are assigned to."""
        return self.is_organiser or (
            self.role is Role.CHECKIN and any(e.id == event.id for e in self.checkin_events)
        )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)  # scrypt

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_checkin_staff(self) -> bool:
        return self.role is Role.CHECKIN

    @property
    def is_organiser(self) -> bool:
        return self.role in (Role.ADMIN, Role.ORGANISER)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def hash_token(token: str) -> str:
    """API tokens are long random strings, so one fast hash suffices to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
