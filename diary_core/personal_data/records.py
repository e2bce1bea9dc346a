"""The school records sections of a personal-data export, for the pupils it covers: marks,
attendance and period marks, each with its full change history, and the topics and homework
of the lessons of the pupils' classes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from diary_core.context import Ctx
from diary_core.models import (
    Attendance,
    ChangeLogEntry,
    Lesson,
    Mark,
    Period,
    PeriodMark,
    Subject,
    User,
    WorkType,
)
from diary_core.personal_data.rows import full_name, iso, keyset


async def marks(ctx: Ctx, pupil_ids: list[int], batch: int) -> AsyncIterator[list[dict[str, Any]]]:
    stmt = (
        select(
            Mark.id, Mark.pupil_id, Mark.date, Subject.name, Mark.value, WorkType.name,
            Mark.weight, Mark.counts, Mark.comment,
        )
        .join(Subject, Subject.id == Mark.subject_id)
        .join(WorkType, WorkType.id == Mark.work_type_id)
        .where(Mark.pupil_id.in_(pupil_ids))
    )  # fmt: skip
    async for rows in keyset(ctx, stmt, Mark.id, batch):
        history = await _history(ctx, "mark", [r[0] for r in rows])
        yield [
            {
                "id": mid,
                "pupil_id": pid,
                "date": iso(day),
                "subject": subject,
                "value": value,
                "work_type": work_type,
                "weight": weight,
                "counts": counts,
                "comment": comment,
                "history": history.get(mid, []),
            }
            for mid, pid, day, subject, value, work_type, weight, counts, comment in rows
        ]


async def _history(ctx: Ctx, entity: str, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The change-log entries of these records, oldest first, with their authors' names."""
    author = aliased(User)
    rows = await ctx.session.execute(
        select(
            ChangeLogEntry.entity_id, ChangeLogEntry.at, ChangeLogEntry.action,
            ChangeLogEntry.old, ChangeLogEntry.new, ChangeLogEntry.reason,
            author.last_name, author.first_name, author.middle_name,
        )
        .outerjoin(author, author.id == ChangeLogEntry.actor_id)
        .where(ChangeLogEntry.entity == entity, ChangeLogEntry.entity_id.in_(ids))
        .order_by(ChangeLogEntry.at, ChangeLogEntry.id)
    )  # fmt: skip
    out: dict[int, list[dict[str, Any]]] = {}
    for eid, at, action, old, new, reason, last, first, middle in rows:
        out.setdefault(eid, []).append(
            {
                "at": iso(at),
                "action": action,
                "old": old,
                "new": new,
                "reason": reason,
                "by": full_name(last, first, middle) or "система",
            }
        )
    return out


async def attendance(
    ctx: Ctx, pupil_ids: list[int], batch: int
) -> AsyncIterator[list[dict[str, Any]]]:
    stmt = (
        select(Attendance.id, Attendance.pupil_id, Attendance.date, Attendance.lesson_number,
               Subject.name, Attendance.kind)
        .join(Subject, Subject.id == Attendance.subject_id)
        .where(Attendance.pupil_id.in_(pupil_ids))
    )  # fmt: skip
    async for rows in keyset(ctx, stmt, Attendance.id, batch):
        history = await _history(ctx, "attendance", [r[0] for r in rows])
        yield [
            {
                "id": aid,
                "pupil_id": pid,
                "date": iso(day),
                "lesson_number": number,
                "subject": subject,
                "kind": kind,
                "history": history.get(aid, []),
            }
            for aid, pid, day, number, subject, kind in rows
        ]


async def period_marks(
    ctx: Ctx, pupil_ids: list[int], batch: int
) -> AsyncIterator[list[dict[str, Any]]]:
    stmt = (
        select(PeriodMark.id, PeriodMark.pupil_id, Subject.name, Period.name, PeriodMark.value,
               PeriodMark.locked_at)
        .join(Subject, Subject.id == PeriodMark.subject_id)
        .join(Period, Period.id == PeriodMark.period_id)
        .where(PeriodMark.pupil_id.in_(pupil_ids))
    )  # fmt: skip
    async for rows in keyset(ctx, stmt, PeriodMark.id, batch):
        history = await _history(ctx, "period_mark", [r[0] for r in rows])
        yield [
            {
                "id": mid,
                "pupil_id": pid,
                "subject": subject,
                "period": period,
                "value": value,
                "locked": locked is not None,
                "history": history.get(mid, []),
            }
            for mid, pid, subject, period, value, locked in rows
        ]


async def homework(
    ctx: Ctx, class_ids: list[int], batch: int
) -> AsyncIterator[list[dict[str, Any]]]:
    stmt = (
        select(Lesson.id, Lesson.class_id, Lesson.date, Lesson.lesson_number, Subject.name,
               Lesson.topic, Lesson.homework)
        .join(Subject, Subject.id == Lesson.subject_id)
        .where(Lesson.class_id.in_(class_ids), or_(Lesson.homework != "", Lesson.topic != ""))
    )  # fmt: skip
    async for rows in keyset(ctx, stmt, Lesson.id, batch):
        yield [
            {
                "lesson_id": lid,
                "class_id": cid,
                "date": iso(day),
                "lesson_number": number,
                "subject": subject,
                "topic": topic,
                "homework": homework,
            }
            for lid, cid, day, number, subject, topic, homework in rows
        ]
