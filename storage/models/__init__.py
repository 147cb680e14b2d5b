"""All tables of trajectbot; importing this package registers them on ``Base.metadata``."""

from storage.models.appointments import (
    COACH_CELL_MINUTES,
    HOLDING_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentResource,
    AppointmentSlot,
    AppointmentStatus,
    AppointmentType,
    BookingSettings,
    ClosedDay,
    CoachAvailability,
    OpeningHours,
    TimeoutRequest,
    TimeoutRequestReason,
)
from storage.models.audit import AuditLog
from storage.models.base import NAMING_CONVENTION, Base, UTCDateTime, utcnow
from storage.models.consent import (
    Consent,
    ConsentGiver,
    ConsentPurpose,
    DistrictCoachRequest,
)
from storage.models.conversations import Conversation, ConversationStatus
from storage.models.health import HealthCheck
from storage.models.invites import Invite
from storage.models.outbox import Outbox, OutboxStatus
from storage.models.people import Guardianship, Mentorship, Person, PersonRole, Role
from storage.models.queue import (
    QueueDecision,
    QueueItem,
    QueueKind,
    QueueNote,
    QueueStatus,
    WaitingReason,
)
from storage.models.referrals import (
    Absence,
    ExternalCare,
    ObservationFocus,
    Referral,
    SupportKind,
    Urgency,
    Weekday,
    YesNoUnknown,
)
from storage.models.school import School
from storage.models.surveys import RespondentType, SurveyAnswer, SurveyInvitation, SurveyResponse
from storage.models.trajectories import (
    DEFAULT_TIMEOUTS_PER_WEEK,
    EvaluationKind,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
)
from storage.models.updates import ProcessedUpdate
from storage.models.web import LogbookEntry, LoginFailure, LoginLink, StaffAccount, WebSession
from storage.models.web_chat import WebChatSession

__all__ = [
    "COACH_CELL_MINUTES",
    "DEFAULT_TIMEOUTS_PER_WEEK",
    "HOLDING_STATUSES",
    "NAMING_CONVENTION",
    "Absence",
    "Appointment",
    "AppointmentKind",
    "AppointmentResource",
    "AppointmentSlot",
    "AppointmentStatus",
    "AppointmentType",
    "AuditLog",
    "Base",
    "BookingSettings",
    "ClosedDay",
    "CoachAvailability",
    "Consent",
    "ConsentGiver",
    "ConsentPurpose",
    "Conversation",
    "ConversationStatus",
    "DistrictCoachRequest",
    "EvaluationKind",
    "ExternalCare",
    "Guardianship",
    "HealthCheck",
    "Invite",
    "LogbookEntry",
    "LoginFailure",
    "LoginLink",
    "Mentorship",
    "ObservationFocus",
    "OpeningHours",
    "Outbox",
    "OutboxStatus",
    "Person",
    "PersonRole",
    "ProcessedUpdate",
    "QueueDecision",
    "QueueItem",
    "QueueKind",
    "QueueNote",
    "QueueStatus",
    "Referral",
    "RespondentType",
    "Role",
    "School",
    "StaffAccount",
    "SupportKind",
    "SurveyAnswer",
    "SurveyInvitation",
    "SurveyResponse",
    "TimeoutRequest",
    "TimeoutRequestReason",
    "Trajectory",
    "TrajectoryEvaluation",
    "TrajectoryStatus",
    "UTCDateTime",
    "Urgency",
    "WaitingReason",
    "WebChatSession",
    "WebSession",
    "Weekday",
    "YesNoUnknown",
    "utcnow",
]
