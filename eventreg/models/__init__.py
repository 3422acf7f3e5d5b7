"""The data model; import models from here."""

from .event import Event, EventKind, EventMode, RegistrationWindow
from .outbox import MessageKind, MessageStatus, OutboxMessage
from .registration import (
    Registrant,
    Registration,
    RegistrationStatus,
    SocialEconomyType,
    TargetGroup,
)
from .types import utcnow
from .user import ApiToken, Role, User

__all__ = [
    "ApiToken",
    "Event",
    "EventKind",
    "EventMode",
    "MessageKind",
    "MessageStatus",
    "OutboxMessage",
    "Registrant",
    "Registration",
    "RegistrationStatus",
    "RegistrationWindow",
    "Role",
    "SocialEconomyType",
    "TargetGroup",
    "User",
    "utcnow",
]
