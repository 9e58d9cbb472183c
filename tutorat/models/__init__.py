"""The ORM models, one module per aggregate; importing this package registers them all."""

from tutorat.models.access import AccessAction, AccessLog
from tutorat.models.applications import (
    ApplicationEvent,
    ApplicationSource,
    ApplicationStatus,
    ChecklistItem,
    TutorApplication,
)
from tutorat.models.audit import EventEntity, StatusEvent
from tutorat.models.caseload import (
    BeneficiaryImport,
    CaseloadStatus,
    ImportRowStatus,
    ReferentChange,
)
from tutorat.models.checkins import CheckIn, CheckInAnswer
from tutorat.models.goals import Goal, GoalStatus
from tutorat.models.health import HealthCheck
from tutorat.models.indicators import IndicatorMonth, IndicatorMonthPending
from tutorat.models.letters import Letter, LetterPerson, letter_person
from tutorat.models.meetings import Meeting, MeetingChange, MeetingChangeKind, NextMeeting
from tutorat.models.outbox import (
    MessageStatus,
    OutboxEmail,
    OutboxEmailPerson,
    OutboxSms,
    OutboxSmsPerson,
    outbox_email_person,
    outbox_sms_person,
)
from tutorat.models.pairs import Pair, PairAnswer, PairOutcome, PairStatus, StopReason
from tutorat.models.pool import POOL_TABLES, PoolVersion
from tutorat.models.reference import (
    Commune,
    RomeAppellation,
    RomeDomaine,
    RomeGrandDomaine,
    RomeMetier,
)
from tutorat.models.reports import PairReport, ReportKind
from tutorat.models.requests import TutoringRequest, TutoringRequestStatus
from tutorat.models.settings import Setting
from tutorat.models.users import MenteeProfile, Role, TutorProfile, User

__all__ = [
    "POOL_TABLES",
    "AccessAction",
    "AccessLog",
    "ApplicationEvent",
    "ApplicationSource",
    "ApplicationStatus",
    "BeneficiaryImport",
    "CaseloadStatus",
    "CheckIn",
    "CheckInAnswer",
    "ChecklistItem",
    "Commune",
    "EventEntity",
    "Goal",
    "GoalStatus",
    "HealthCheck",
    "ImportRowStatus",
    "IndicatorMonth",
    "IndicatorMonthPending",
    "Letter",
    "LetterPerson",
    "Meeting",
    "MeetingChange",
    "MeetingChangeKind",
    "MenteeProfile",
    "MessageStatus",
    "NextMeeting",
    "OutboxEmail",
    "OutboxEmailPerson",
    "OutboxSms",
    "OutboxSmsPerson",
    "Pair",
    "PairAnswer",
    "PairOutcome",
    "PairReport",
    "PairStatus",
    "PoolVersion",
    "ReferentChange",
    "ReportKind",
    "Role",
    "RomeAppellation",
    "RomeDomaine",
    "RomeGrandDomaine",
    "RomeMetier",
    "Setting",
    "StatusEvent",
    "StopReason",
    "TutorApplication",
    "TutorProfile",
    "TutoringRequest",
    "TutoringRequestStatus",
    "User",
    "letter_person",
    "outbox_email_person",
    "outbox_sms_person",
]
