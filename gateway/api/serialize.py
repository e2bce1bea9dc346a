"""The core's results as JSON values, shaped as :mod:`gateway.api.schemas` declares them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from diary_core import (
    announcements,
    families,
    journal,
    lessons,
    messaging,
    notifications,
    pupil_report,
    records,
)
from diary_core import timetable as tt
from diary_core.api_views import PupilAttendance
from diary_core.models import Guardianship, Lesson, Mark

Json = dict[str, Any]


def instant(value: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 in UTC with ``Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def day(value: date) -> str:
    return value.isoformat()


def average(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def clock_time(value: time | None) -> str | None:
    return None if value is None else value.strftime("%H:%M")


def pupil(p: families.FamilyPupil) -> Json:
    return {
        "id": p.pupil_id,
        "full_name": p.full_name,
        "class_id": p.class_id,
        "class_name": p.class_name,
        "school_id": p.school_id,
        "school_name": p.school_name,
    }


def mark_entry(m: journal.MarkEntry) -> Json:
    """A mark as the journal shows it: the values of every view of a mark
    (:func:`diary_core.records.mark_values`), its work type's name and lesson's topic."""
    return {
        **records.mark_values(m),
        "work_type": m.work_type,
        "comment": m.comment,
        "lesson_id": m.lesson_id,
        "topic": m.topic,
    }


def subject_marks(s: pupil_report.SubjectMarks) -> Json:
    return {
        "subject_id": s.subject_id,
        "subject": s.subject,
        "average": average(s.average),
        "suggested_period_mark": s.suggested,
        "period_marks": [{"period_id": k, "value": v} for k, v in sorted(s.period_marks.items())],
        "marks": [mark_entry(m) for m in s.marks],
    }


def pupil_marks(r: pupil_report.PupilReport) -> Json:
    return {
        "pupil_id": r.pupil_id,
        "full_name": r.full_name,
        "class_id": r.class_id,
        "class_name": r.class_name,
        "from": day(r.start),
        "to": day(r.end),
        "subjects": [subject_marks(s) for s in r.subjects],
    }


def pupil_attendance(a: PupilAttendance) -> Json:
    return {
        "pupil_id": a.pupil_id,
        "from": day(a.start),
        "to": day(a.end),
        "attendance": [{**records.attendance_values(r), "subject": r.subject} for r in a.rows],
    }


def lesson(row: lessons.LessonRow) -> Json:
    return {
        "id": row.id,
        "date": day(row.date),
        "lesson_number": row.lesson_number,
        "subject_id": row.subject_id,
        "subject": row.subject,
        "teacher_id": row.teacher_id,
        "topic": row.topic,
        "homework": row.homework,
    }


def recorded_lesson(row: Lesson) -> Json:
    return {
        "id": row.id,
        "class_id": row.class_id,
        "subject_id": row.subject_id,
        "teacher_id": row.teacher_id,
        "date": day(row.date),
        "lesson_number": row.lesson_number,
        "topic": row.topic,
        "homework": row.homework,
    }


def _slot(s: tt.Slot | None) -> Json | None:
    if s is None:
        return None
    return {
        "subject_id": s.subject_id,
        "subject": s.subject_name,
        "teacher_id": s.teacher_id,
        "teacher": s.teacher_name,
        "room": s.room,
    }


def _lesson_ref(where: tuple[date, int] | None) -> Json | None:
    return None if where is None else {"date": day(where[0]), "lesson_number": where[1]}


def _cell(c: tt.Cell) -> Json:
    return {
        "lesson_number": c.lesson_number,
        "starts_at": clock_time(c.starts_at),
        "ends_at": clock_time(c.ends_at),
        "planned": _slot(c.planned),
        "actual": _slot(c.actual),
        "change": c.change,
        "moved_to": _lesson_ref(c.moved_to),
        "moved_from": _lesson_ref(c.moved_from),
        "note": c.note,
        "draft": c.draft,
    }


def week(w: tt.WeekTimetable) -> Json:
    return {
        "class_id": w.class_id,
        "class_name": w.class_name,
        "monday": day(w.monday),
        "days": [{"date": day(d.date), "lessons": [_cell(c) for c in d.cells]} for d in w.days],
    }


def _grid_row(r: journal.GridRow) -> Json:
    return {
        "pupil_id": r.pupil_id,
        "full_name": r.full_name,
        "average": average(r.average),
        "period_mark": r.period_mark,
        "cells": [
            {"lesson_id": lid, "marks": [mark_entry(m) for m in ms]} for lid, ms in r.cells.items()
        ],
        "unplaced": [mark_entry(m) for m in r.unplaced],
        "attendance": [{"lesson_id": lid, "kind": k} for lid, k in r.attendance.items()],
    }


def gradebook(g: journal.Grid) -> Json:
    return {
        "class_id": g.class_id,
        "class_name": g.class_name,
        "subject_id": g.subject_id,
        "subject": g.subject,
        "period_id": g.period_id,
        "period_name": g.period_name,
        "lessons": [
            {
                "id": x.id,
                "date": day(x.date),
                "lesson_number": x.lesson_number,
                "topic": x.topic,
                "homework": x.homework,
            }
            for x in g.lessons
        ],
        "rows": [_grid_row(r) for r in g.rows],
    }


def mark(m: Mark) -> Json:
    """A stored mark (:func:`diary_core.records.mark_record`) with when it was written."""
    return {
        **records.mark_record(m),
        "created_at": instant(m.created_at),
        "updated_at": instant(m.updated_at),
    }


def mark_change(entry: dict[str, Any]) -> Json:
    return {
        "action": entry["action"],
        "old": entry["old"],
        "new": entry["new"],
        "by": entry["by"],
        "at": instant(entry["at"]),
    }


def conversation(c: messaging.ConversationSummary) -> Json:
    return {
        "id": c.id,
        "school_id": c.school_id,
        "kind": c.kind,
        "topic": c.topic,
        "pupil_id": c.pupil_id,
        "others": list(c.others),
        "last_message_at": instant(c.last_message_at),
        "unread": c.unread,
        "awaiting_reply_since": instant(c.awaiting_reply_since),
        "overdue": c.overdue,
    }


def thread(t: messaging.Thread) -> Json:
    return {
        "id": t.id,
        "kind": t.kind,
        "topic": t.topic,
        "pupil_id": t.pupil_id,
        "participants": list(t.participants),
        "messages": [
            {
                "id": m.id,
                "author_id": m.author_id,
                "author_name": m.author_name,
                "body": m.body,
                "created_at": instant(m.created_at),
            }
            for m in t.messages
        ],
        "awaiting_reply_since": instant(t.awaiting_reply_since),
        "overdue": t.overdue,
    }


def announcement(a: announcements.AnnouncementView) -> Json:
    return {
        "id": a.id,
        "school_id": a.school_id,
        "class_id": a.class_id,
        "kind": a.kind,
        "title": a.title,
        "body": a.body,
        "author_id": a.author_id,
        "author_name": a.author_name,
        "created_at": instant(a.created_at),
        "expires_at": instant(a.expires_at),
        "is_read": a.is_read,
    }


def notification(n: notifications.NotificationView) -> Json:
    return {
        "id": n.id,
        "kind": n.kind,
        "text": n.text,
        "pupil_id": n.pupil_id,
        "created_at": instant(n.created_at),
        "read_at": instant(n.read_at),
    }


def pending(link: families.PendingLink) -> Json:
    return {
        "id": link.guardianship_id,
        "guardian_name": link.guardian_name,
        "pupil_name": link.pupil_name,
        "source": link.source,
    }


def guardianship(link: Guardianship) -> Json:
    return {
        "id": link.id,
        "pupil_id": link.pupil_id,
        "guardian_id": link.guardian_id,
        "status": link.status,
    }
