"""The data model; import models from here."""

from .audit import AuditEntry
from .certificate import Certificate
from .event import AgendaDay, Event, EventDay, EventKind, EventMode, EventStatus, RegistrationWindow
from .feedback import FeedbackQuestion, FeedbackResponse, QuestionKind
from .material import Material, MaterialVisibility
from .network import (
    AbuseReport,
    ContactBlock,
    ContactRequest,
    FormerMember,
    Member,
    MemberStatus,
    ReportReason,
    ReportStatus,
    Topic,
    member_topic,
)
from .outbox import MessageKind, MessageStatus, OutboxMessage, SkipReason
from .practice import (
    Practice,
    PracticeDocument,
    PracticeStatus,
    PracticeText,
    ProcurementType,
)
from .registration import (
    CancelReason,
    DayCheckIn,
    Registrant,
    Registration,
    RegistrationStatus,
    SocialEconomyType,
    TargetGroup,
)
from .types import utcnow
from .user import ApiToken, Role, User, event_staff

__all__ = [
    "AbuseReport",
    "AgendaDay",
    "ApiToken",
    "AuditEntry",
    "CancelReason",
    "Certificate",
    "ContactBlock",
    "ContactRequest",
    "DayCheckIn",
    "Event",
    "EventDay",
    "EventKind",
    "EventMode",
    "EventStatus",
    "FeedbackQuestion",
    "FeedbackResponse",
    "FormerMember",
    "Material",
    "MaterialVisibility",
    "Member",
    "MemberStatus",
    "MessageKind",
    "MessageStatus",
    "OutboxMessage",
    "Practice",
    "PracticeDocument",
    "PracticeStatus",
    "PracticeText",
    "ProcurementType",
    "QuestionKind",
    "Registrant",
    "Registration",
    "RegistrationStatus",
    "RegistrationWindow",
    "ReportReason",
    "ReportStatus",
    "Role",
    "SkipReason",
    "SocialEconomyType",
    "TargetGroup",
    "Topic",
    "User",
    "event_staff",
    "member_topic",
    "utcnow",
]
