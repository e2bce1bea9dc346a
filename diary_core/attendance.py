"""Attendance: a pupil absent (н), ill (б) or late (оп) at a lesson, recorded by a teacher of
the lesson's class and subject; every change kept in the change log (old, new, who, when)."""

from __future__ import annotations

from sqlalchemy import select

from diary_core.changes import attendance_snapshot, log_change
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.grading import parse_attendance
from diary_core.journal_writes import actor_id, lock_pupils, pupil_to_write, stamps
from diary_core.models import Attendance, Lesson
from diary_core.policy import Action, SubjectTarget


async def set_attendance(ctx: Ctx, *, pupil_id: int, lesson_id: int, kind: str | None) -> None:
    """Mark a pupil absent (н), ill (б) or late (оп) at a lesson; ``None`` clears it."""
    pupil = await pupil_to_write(ctx, pupil_id)
    lesson = await ctx.session.get(Lesson, lesson_id)
    if lesson is None or lesson.class_id != pupil.class_id:
        raise NotFound("урок не найден")
    ctx.require(
        Action.WRITE_MARKS, SubjectTarget(pupil.school_id, pupil.class_id, lesson.subject_id)
    )
    await lock_pupils(ctx, [pupil.id])
    existing = await ctx.session.scalar(
        select(Attendance).where(
            Attendance.pupil_id == pupil_id,
            Attendance.date == lesson.date,
            Attendance.lesson_number == lesson.lesson_number,
        )
    )
    now, who = ctx.now(), actor_id(ctx)
    common = {
        "school_id": pupil.school_id,
        "pupil_id": pupil.id,
        "entity": "attendance",
        "actor_id": who,
        "at": now,
    }
    if kind is None:
        if existing is not None:
            log_change(
                ctx.session,
                **common,
                entity_id=existing.id,
                action="delete",
                old=attendance_snapshot(existing),
                new=None,
            )
            await ctx.session.delete(existing)
            await ctx.session.flush()
        return
    code = parse_attendance(kind)
    if existing is not None:
        if existing.kind == code:
            return
        old = attendance_snapshot(existing)
        existing.kind, existing.updated_at, existing.updated_by_id = code, now, who
        await ctx.session.flush()
        log_change(
            ctx.session,
            **common,
            entity_id=existing.id,
            action="update",
            old=old,
            new=attendance_snapshot(existing),
        )
        return
    row = Attendance(
        school_id=pupil.school_id,
        pupil_id=pupil.id,
        lesson_id=lesson.id,
        subject_id=lesson.subject_id,
        date=lesson.date,
        lesson_number=lesson.lesson_number,
        kind=code,
        **stamps(ctx),
    )
    ctx.session.add(row)
    await ctx.session.flush()
    log_change(
        ctx.session,
        **common,
        entity_id=row.id,
        action="create",
        old=None,
        new=attendance_snapshot(row),
    )
