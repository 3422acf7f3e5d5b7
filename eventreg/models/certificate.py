"""Attendance certificates: one per registration that attended, verifiable by its code."""

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .registration import _REFERENCE_ALPHABET, Registration
from .types import UTCDateTime, utcnow


def new_certificate_code() -> str:
    """A random code of 20 characters (100 bits) that nobody can guess, easy to type."""
    return "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(20))


class Certificate(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), unique=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, default=new_certificate_code)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration] = relationship()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_valid(self) -> bool:
        registration = self.registration
        return (
            not self.is_revoked
            and registration.has_attended
            and not registration.registrant.is_purged  # nothing left to confirm
        )
