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
from storage.models.cache import CacheVersion
from storage.models.care_team import CareTeamCase, CareTeamDecision, CareTeamMeeting
from storage.models.conversations import Conversation, ConversationStatus
from storage.models.health import HealthCheck
from storage.models.indicators import (
    ActivityKind,
    IndicatorTarget,
    ObservationAim,
    StudentEvent,
    StudentEventKind,
    StudentEventSource,
    SupportActivity,
    TeacherSupportKind,
    VisitationReport,
)
from storage.models.invites import Invite
from storage.models.outbox import Outbox, OutboxRate, OutboxStatus
from storage.models.people import Guardianship, Mentorship, Person, PersonRole, Role
from storage.models.queue import (
    QueueDecision,
    QueueItem,
    QueueKind,
    QueueNote,
    QueueStatus,
    WaitingReason,
)
from storage.models.referrals import Referral, SupportKind, Urgency, Weekday
from storage.models.school import School, SchoolAboutText
from storage.models.surveys import RespondentType, SurveyAnswer, SurveyInvitation, SurveyResponse
from storage.models.trajectories import (
    DEFAULT_TIMEOUTS_PER_WEEK,
    EvaluationKind,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
)
from storage.models.updates import ProcessedUpdate
from storage.models.web import (
    LogbookEntry,
    LoginFailure,
    LoginLink,
    QueueFilterSet,
    StaffAccount,
    WebSession,
)
from storage.models.web_chat import WebChatSession

__all__ = [
    "COACH_CELL_MINUTES",
    "DEFAULT_TIMEOUTS_PER_WEEK",
    "HOLDING_STATUSES",
    "NAMING_CONVENTION",
    "ActivityKind",
    "Appointment",
    "AppointmentKind",
    "AppointmentResource",
    "AppointmentSlot",
    "AppointmentStatus",
    "AppointmentType",
    "AuditLog",
    "Base",
    "BookingSettings",
    "CacheVersion",
    "CareTeamCase",
    "CareTeamDecision",
    "CareTeamMeeting",
    "ClosedDay",
    "CoachAvailability",
    "Conversation",
    "ConversationStatus",
    "EvaluationKind",
    "Guardianship",
    "HealthCheck",
    "IndicatorTarget",
    "Invite",
    "LogbookEntry",
    "LoginFailure",
    "LoginLink",
    "Mentorship",
    "ObservationAim",
    "OpeningHours",
    "Outbox",
    "OutboxRate",
    "OutboxStatus",
    "Person",
    "PersonRole",
    "ProcessedUpdate",
    "QueueDecision",
    "QueueFilterSet",
    "QueueItem",
    "QueueKind",
    "QueueNote",
    "QueueStatus",
    "Referral",
    "RespondentType",
    "Role",
    "School",
    "SchoolAboutText",
    "StaffAccount",
    "StudentEvent",
    "StudentEventKind",
    "StudentEventSource",
    "SupportActivity",
    "SupportKind",
    "SurveyAnswer",
    "SurveyInvitation",
    "SurveyResponse",
    "TeacherSupportKind",
    "TimeoutRequest",
    "TimeoutRequestReason",
    "Trajectory",
    "TrajectoryEvaluation",
    "TrajectoryStatus",
    "UTCDateTime",
    "Urgency",
    "VisitationReport",
    "WaitingReason",
    "WebChatSession",
    "WebSession",
    "Weekday",
    "utcnow",
]
