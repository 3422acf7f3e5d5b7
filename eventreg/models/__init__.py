"""The data model; import models from here."""

from .audit import AuditEntry
from .certificate import Certificate
from .event import AgendaDay, Event, EventDay, EventKind, EventMode, EventStatus, RegistrationWindow
from .feedback import FeedbackQuestion, FeedbackResponse, QuestionKind
from .material import Material, MaterialVisibility
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
    "Certificate",
    "Event",
    "EventDay",
    "EventKind",
    "EventMode",
    "EventStatus",
    "FeedbackQuestion",
    "FeedbackResponse",
    "Material",
    "MaterialVisibility",
    "MessageKind",
    "MessageStatus",
    "OutboxMessage",
    "QuestionKind",
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
