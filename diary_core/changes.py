"""The change log: every create, correction and deletion of a mark, attendance record or
period mark, with old and new values, who and when (docs/regulation.md, clause 1.4).

Single writes go through :func:`log_change`; bulk writers (imports, the demo generator) build
rows with :func:`change_row` and insert them in the same transaction as the data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from diary_core import audit
from diary_core.models import Attendance, ChangeLogEntry, Mark, PeriodMark

Snapshot = dict[str, Any]


def mark_snapshot(mark: Mark) -> Snapshot:
    return {
        "subject_id": mark.subject_id,
        "date": mark.date.isoformat(),
        "value": mark.value,
        "numeric": mark.numeric,
        "work_type_id": mark.work_type_id,
        "weight": mark.weight,
        "counts": mark.counts,
        "comment": mark.comment,
        "lesson_id": mark.lesson_id,
    }


def attendance_snapshot(row: Attendance) -> Snapshot:
    return {
        "subject_id": row.subject_id,
        "date": row.date.isoformat(),
        "lesson_number": row.lesson_number,
        "kind": row.kind,
        "lesson_id": row.lesson_id,
    }


def period_mark_snapshot(row: PeriodMark) -> Snapshot:
    return {
        "subject_id": row.subject_id,
        "period_id": row.period_id,
        "value": row.value,
        "numeric": row.numeric,
        "locked": row.locked_at is not None,
    }


def change_row(
    *,
    school_id: int,
    pupil_id: int,
    entity: str,
    entity_id: int,
    action: str,
    old: Snapshot | None,
    new: Snapshot | None,
    actor_id: int | None,
    at: datetime,
    reason: str = "",
) -> dict[str, Any]:
    """A change-log row as a plain dict, for bulk ``insert(ChangeLogEntry)``."""
    return {
        "school_id": school_id,
        "pupil_id": pupil_id,
        "entity": entity,
        "entity_id": entity_id,
        "action": action,
        "old": old,
        "new": new,
        "actor_id": actor_id,
        "at": at,
        "reason": reason,
    }


def log_change(session: AsyncSession, **fields: Any) -> None:
    """Add one change-log entry to the caller's transaction (same fields as change_row),
    and its event in the administrator's audit log (:func:`diary_core.audit.record_change`):
    every single change of a mark, attendance record or period mark is in both or neither."""
    session.add(ChangeLogEntry(**change_row(**fields)))
    audit.record_change(session, **fields)
