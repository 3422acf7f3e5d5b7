"""The data model; import models from here."""

from .audit import AuditEntry
from .event import AgendaDay, Event, EventDay, EventKind, EventMode, EventStatus, RegistrationWindow
from .outbox import MessageKind, MessageStatus, OutboxMessage
from .registration import (
    Registrant,
    Registration,
    RegistrationStatus,
    SocialEconomyType,
    TargetGroup,
)
from .types import utcnow
from .user import ApiToken, Role, User, event_staff

__all__ = [
    "AgendaDay",
    "ApiToken",
    "AuditEntry",
    "Event",
    "EventDay",
    "EventKind",
    "EventMode",
    "EventStatus",
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
    "event_staff",
    "utcnow",
]
