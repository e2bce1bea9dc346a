"""Period marks: a pupil's quarter (or year) mark in a subject, set by a teacher of the class
and subject, each change kept in the change log; signed off (locked) by the administration,
after which it cannot change until it is unlocked, with a stated reason."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from diary_core import audit
from diary_core.changes import log_change, period_mark_snapshot
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput, NotFound
from diary_core.grading import parse_mark
from diary_core.journal_writes import (
    actor_id,
    lock_pupils,
    pupil_to_write,
    stamps,
    subject_of_school,
)
from diary_core.models import Period, PeriodMark, Pupil
from diary_core.policy import Action, SchoolTarget, SubjectTarget


async def _period(ctx: Ctx, period_id: int, school_id: int) -> Period:
    period = await ctx.session.get(Period, period_id)
    if period is None or period.school_id != school_id:
        raise NotFound("учебный период не найден")
    return period


async def set_period_mark(
    ctx: Ctx, *, pupil_id: int, subject_id: int, period_id: int, value: str
) -> PeriodMark:
    """A quarter (or year) mark; refused while the period mark is locked."""
    pupil = await pupil_to_write(ctx, pupil_id)
    ctx.require(
        Action.WRITE_PERIOD_MARKS, SubjectTarget(pupil.school_id, pupil.class_id, subject_id)
    )
    await subject_of_school(ctx, subject_id, pupil.school_id)
    await _period(ctx, period_id, pupil.school_id)
    await lock_pupils(ctx, [pupil.id])
    parsed = parse_mark(value)
    existing = await ctx.session.scalar(
        select(PeriodMark).where(
            PeriodMark.pupil_id == pupil_id,
            PeriodMark.subject_id == subject_id,
            PeriodMark.period_id == period_id,
        )
    )
    now, who = ctx.now(), actor_id(ctx)
    if existing is not None:
        if existing.locked_at is not None:
            raise Conflict("итоговая отметка закрыта (подписана); изменить её нельзя")
        old = period_mark_snapshot(existing)
        existing.value, existing.numeric = parsed.text, parsed.numeric
        if period_mark_snapshot(existing) == old:
            return existing
        existing.updated_at, existing.updated_by_id = now, who
        await ctx.session.flush()
        action, mark = "update", existing
    else:
        old = None
        mark = PeriodMark(
            school_id=pupil.school_id,
            pupil_id=pupil.id,
            subject_id=subject_id,
            period_id=period_id,
            value=parsed.text,
            numeric=parsed.numeric,
            **stamps(ctx),
        )
        ctx.session.add(mark)
        await ctx.session.flush()
        action = "create"
    log_change(
        ctx.session,
        school_id=pupil.school_id,
        pupil_id=pupil.id,
        entity="period_mark",
        entity_id=mark.id,
        action=action,
        old=old,
        new=period_mark_snapshot(mark),
        actor_id=who,
        at=now,
    )
    return mark


async def lock_period_marks(
    ctx: Ctx, school_id: int, period_id: int, class_ids: Sequence[int] | None = None
) -> int:
    """Sign off a period: its marks (of some classes, or all) can no longer change.
    Returns how many were locked. The administrator's act, audited."""
    ctx.require(Action.LOCK_PERIOD_MARKS, SchoolTarget(school_id))
    await _period(ctx, period_id, school_id)
    stmt = (
        update(PeriodMark)
        .where(
            PeriodMark.school_id == school_id,
            PeriodMark.period_id == period_id,
            PeriodMark.locked_at.is_(None),
        )
        .values(locked_at=ctx.now(), locked_by_id=actor_id(ctx))
    )
    if class_ids:
        pupils = select(Pupil.id).where(Pupil.class_id.in_(list(class_ids)))
        stmt = stmt.where(PeriodMark.pupil_id.in_(pupils))
    result = await ctx.session.execute(stmt)
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    audit.record(
        ctx.session,
        ctx.actor,
        "period_marks.lock",
        ctx.now(),
        school_id=school_id,
        object_type="period",
        object_id=period_id,
        count=count,
    )
    return count


async def unlock_period_mark(ctx: Ctx, period_mark_id: int, reason: str) -> None:
    """Reopen one signed-off mark (the administrator, with a stated reason)."""
    mark = await ctx.session.get(PeriodMark, period_mark_id)
    if mark is None:
        raise NotFound("итоговая отметка не найдена")
    ctx.require(Action.LOCK_PERIOD_MARKS, SchoolTarget(mark.school_id))
    if not reason.strip():
        raise InvalidInput("укажите причину", field="reason")
    mark.locked_at, mark.locked_by_id = None, None
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "period_marks.unlock",
        ctx.now(),
        school_id=mark.school_id,
        pupil_id=mark.pupil_id,
        object_type="period_mark",
        object_id=mark.id,
        reason=reason.strip(),
    )
