"""The diary's persistent entities (SQLAlchemy 2, typed): the domain's tables only.

What the gateway keeps for itself (sessions, sign-in events, the portal's clients, tokens and
signed documents) has its own ``MetaData`` in gateway/storage/."""

from diary_core.models.announcements import (
    Announcement,
    AnnouncementClass,
    AnnouncementReceipt,
    Notification,
)
from diary_core.models.audit import AuditEvent
from diary_core.models.base import Base, UTCDateTime
from diary_core.models.lesson_history import LessonHistoryEntry
from diary_core.models.marks import Attendance, ChangeLogEntry, Mark, PeriodMark
from diary_core.models.messaging import Conversation, ConversationParticipant, Message
from diary_core.models.people import (
    ExternalIdentity,
    Guardianship,
    OneTimeCode,
    Pupil,
    User,
    UserRole,
)
from diary_core.models.school import (
    AcademicYear,
    BellTime,
    Period,
    School,
    SchoolClass,
    Subject,
    TeachingAssignment,
    WorkType,
)
from diary_core.models.timetable import Lesson, Timetable, TimetableChange, TimetableSlot

__all__ = [
    "AcademicYear",
    "Announcement",
    "AnnouncementClass",
    "AnnouncementReceipt",
    "Attendance",
    "AuditEvent",
    "Base",
    "BellTime",
    "ChangeLogEntry",
    "Conversation",
    "ConversationParticipant",
    "ExternalIdentity",
    "Guardianship",
    "Lesson",
    "LessonHistoryEntry",
    "Mark",
    "Message",
    "Notification",
    "OneTimeCode",
    "Period",
    "PeriodMark",
    "Pupil",
    "School",
    "SchoolClass",
    "Subject",
    "TeachingAssignment",
    "Timetable",
    "TimetableChange",
    "TimetableSlot",
    "UTCDateTime",
    "User",
    "UserRole",
    "WorkType",
]
