"""The named JSON schemas of the API's answers (the OpenAPI document's
``components.schemas``); the request bodies are in :mod:`gateway.api.bodies`.

Conventions: ids are positive integers; dates ``YYYY-MM-DD``; instants ISO 8601 in UTC
(``2025-10-15T10:00:00Z``); averages are decimal strings with two places (``"4.50"``,
rounded half up, as the core computes them), so no client meets binary floating point.
"""

from __future__ import annotations

from diary_core.announcements import KINDS as ANNOUNCEMENT_KINDS
from diary_core.grading import ATTENDANCE_KINDS, MARK_VALUES
from diary_core.roles import Role
from diary_core.timetable import CHANGE_KINDS
from gateway.api.spec import (
    BOOL,
    DATE,
    DATETIME,
    ID,
    INT,
    STR,
    Schema,
    array,
    nullable,
    nullable_ref,
    obj,
    ref,
)

AVERAGE: Schema = {"type": ["string", "null"], "pattern": r"^\d+\.\d{2}$"}
ATTENDANCE_KIND: Schema = {"type": "string", "enum": list(ATTENDANCE_KINDS)}
#: A lesson's start or end as the school's bell schedule says it (``08:30``): local time,
#: hours and minutes; not ``format: time``, which is RFC 3339's (seconds and an offset).
TIME: Schema = {
    "type": ["string", "null"],
    "pattern": r"^([01]\d|2[0-3]):[0-5]\d$",
    "description": "local time at the school, HH:MM",
}
SNAPSHOT: Schema = {"type": ["object", "null"], "description": "the record as it was"}
MARK_VALUE: Schema = {
    "type": "string",
    "enum": list(MARK_VALUES),
    "description": "the mark as written",
}

_PROBLEM = obj(
    {
        "type": STR,
        "title": STR,
        "status": INT,
        "detail": STR,
        "code": {
            "type": "string",
            "description": "stable, for machines: not_found, forbidden, invalid_input, "
            "conflict, unauthorized, method_not_allowed, internal_error",
        },
    },
    {"field": {"type": "string", "description": "the request field at fault"}},
)

_SESSION = obj(
    {
        "user_id": ID,
        "name": STR,
        "roles": array({"type": "string", "enum": [r.value for r in Role]}),
        "school_id": nullable(ID),
        "csrf_token": {
            "type": "string",
            "description": "send it as the X-CSRF-Token header with POST, PUT, PATCH, DELETE",
        },
    }
)

_PUPIL = obj(
    {
        "id": ID,
        "full_name": STR,
        "class_id": ID,
        "class_name": STR,
        "school_id": ID,
        "school_name": STR,
    }
)

_MARK_ENTRY = obj(
    {
        "id": ID,
        "subject_id": ID,
        "date": DATE,
        "value": MARK_VALUE,
        "numeric": nullable(INT),
        "weight": INT,
        "counts": BOOL,
        "work_type": STR,
        "comment": STR,
        "lesson_id": nullable(ID),
        "topic": {"type": "string", "description": "what the mark was for: the lesson's topic"},
    }
)

_SUBJECT_MARKS = obj(
    {
        "subject_id": ID,
        "subject": STR,
        "average": AVERAGE,
        "suggested_period_mark": nullable(INT),
        "period_marks": array(obj({"period_id": ID, "value": STR})),
        "marks": array(ref("MarkEntry")),
    }
)

_PUPIL_MARKS = obj(
    {
        "pupil_id": ID,
        "full_name": STR,
        "class_id": ID,
        "class_name": STR,
        "from": DATE,
        "to": DATE,
        "subjects": array(ref("SubjectMarks")),
    }
)

_ATTENDANCE_ENTRY = obj(
    {
        "date": DATE,
        "lesson_number": INT,
        "subject_id": ID,
        "subject": STR,
        "kind": ATTENDANCE_KIND,
    }
)

_PUPIL_ATTENDANCE = obj(
    {"pupil_id": ID, "from": DATE, "to": DATE, "attendance": array(ref("AttendanceEntry"))}
)

_LESSON = obj(
    {
        "id": ID,
        "date": DATE,
        "lesson_number": INT,
        "subject_id": ID,
        "subject": STR,
        "teacher_id": ID,
        "topic": STR,
        "homework": STR,
    }
)

_RECORDED_LESSON = obj(
    {
        "id": ID,
        "class_id": ID,
        "subject_id": ID,
        "teacher_id": ID,
        "date": DATE,
        "lesson_number": INT,
        "topic": STR,
        "homework": STR,
    }
)

_SLOT = obj({"subject_id": ID, "subject": STR, "teacher_id": ID, "teacher": STR, "room": STR})
_LESSON_REF = nullable(obj({"date": DATE, "lesson_number": INT}))

_TIMETABLE_CELL = obj(
    {
        "lesson_number": INT,
        "starts_at": TIME,
        "ends_at": TIME,
        "planned": nullable_ref("Slot"),
        "actual": nullable_ref("Slot"),
        "change": {"type": ["string", "null"], "enum": [*CHANGE_KINDS, "moved_in", None]},
        "moved_to": _LESSON_REF,
        "moved_from": _LESSON_REF,
        "note": STR,
        "draft": BOOL,
    }
)

_WEEK = obj(
    {
        "class_id": ID,
        "class_name": STR,
        "monday": DATE,
        "days": array(obj({"date": DATE, "lessons": array(ref("TimetableCell"))})),
    }
)

_GRID_ROW = obj(
    {
        "pupil_id": ID,
        "full_name": STR,
        "average": AVERAGE,
        "period_mark": nullable(STR),
        "cells": array(obj({"lesson_id": ID, "marks": array(ref("MarkEntry"))})),
        "unplaced": array(ref("MarkEntry")),
        "attendance": array(obj({"lesson_id": ID, "kind": ATTENDANCE_KIND})),
    }
)

_GRADEBOOK = obj(
    {
        "class_id": ID,
        "class_name": STR,
        "subject_id": ID,
        "subject": STR,
        "period_id": ID,
        "period_name": STR,
        "lessons": array(
            obj(
                {
                    "id": ID,
                    "date": DATE,
                    "lesson_number": INT,
                    "topic": STR,
                    "homework": STR,
                }
            )
        ),
        "rows": array(ref("GradebookRow")),
    }
)

_MARK = obj(
    {
        "id": ID,
        "pupil_id": ID,
        "subject_id": ID,
        "lesson_id": nullable(ID),
        "date": DATE,
        "value": MARK_VALUE,
        "numeric": nullable(INT),
        "work_type_id": ID,
        "weight": INT,
        "counts": BOOL,
        "comment": STR,
        "created_at": DATETIME,
        "updated_at": DATETIME,
    }
)

_MARK_CHANGE = obj(
    {
        "action": {"type": "string", "enum": ["create", "update", "delete"]},
        "old": SNAPSHOT,
        "new": SNAPSHOT,
        "by": nullable(ID),
        "at": DATETIME,
    }
)

_ATTENDANCE_STATE = obj(
    {
        "pupil_id": ID,
        "lesson_id": ID,
        "kind": {"type": ["string", "null"], "enum": [*ATTENDANCE_KINDS, None]},
    }
)

_CONVERSATION = obj(
    {
        "id": ID,
        "school_id": ID,
        "kind": {"type": "string", "enum": ["direct", "admin_question"]},
        "topic": STR,
        "pupil_id": nullable(ID),
        "others": array(STR),
        "last_message_at": DATETIME,
        "unread": INT,
        "awaiting_reply_since": nullable(DATETIME),
        "overdue": BOOL,
    }
)

_MESSAGE = obj({"id": ID, "author_id": ID, "author_name": STR, "body": STR, "created_at": DATETIME})

_THREAD = obj(
    {
        "id": ID,
        "kind": {"type": "string", "enum": ["direct", "admin_question"]},
        "topic": STR,
        "pupil_id": nullable(ID),
        "participants": array(STR),
        "messages": array(ref("Message")),
        "awaiting_reply_since": nullable(DATETIME),
        "overdue": BOOL,
    }
)

_ANNOUNCEMENT = obj(
    {
        "id": ID,
        "school_id": ID,
        "class_id": nullable(ID),
        "kind": {"type": "string", "enum": list(ANNOUNCEMENT_KINDS)},
        "title": STR,
        "body": STR,
        "author_id": ID,
        "author_name": STR,
        "created_at": DATETIME,
        "expires_at": nullable(DATETIME),
        "is_read": BOOL,
    }
)

_NOTIFICATION = obj(
    {
        "id": ID,
        "kind": STR,
        "text": STR,
        "pupil_id": nullable(ID),
        "created_at": DATETIME,
        "read_at": nullable(DATETIME),
    }
)

_PENDING = obj({"id": ID, "guardian_name": STR, "pupil_name": STR, "source": STR})

_GUARDIANSHIP = obj(
    {
        "id": ID,
        "pupil_id": ID,
        "guardian_id": ID,
        "status": {"type": "string", "enum": ["confirmed", "rejected", "pending"]},
    }
)

COMPONENTS: dict[str, Schema] = {
    "Problem": _PROBLEM,
    "Session": _SESSION,
    "Pupil": _PUPIL,
    "MarkEntry": _MARK_ENTRY,
    "SubjectMarks": _SUBJECT_MARKS,
    "PupilMarks": _PUPIL_MARKS,
    "AttendanceEntry": _ATTENDANCE_ENTRY,
    "PupilAttendance": _PUPIL_ATTENDANCE,
    "Lesson": _LESSON,
    "RecordedLesson": _RECORDED_LESSON,
    "Slot": _SLOT,
    "TimetableCell": _TIMETABLE_CELL,
    "WeekTimetable": _WEEK,
    "GradebookRow": _GRID_ROW,
    "Gradebook": _GRADEBOOK,
    "Mark": _MARK,
    "MarkChange": _MARK_CHANGE,
    "AttendanceState": _ATTENDANCE_STATE,
    "Conversation": _CONVERSATION,
    "Message": _MESSAGE,
    "Thread": _THREAD,
    "Announcement": _ANNOUNCEMENT,
    "Notification": _NOTIFICATION,
    "PendingGuardianship": _PENDING,
    "Guardianship": _GUARDIANSHIP,
    "Created": obj({"id": ID}),
    "Count": obj({"count": INT}),
}
