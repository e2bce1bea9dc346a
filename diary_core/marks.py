"""A mark's use cases in the journal: record, correct and delete one mark (through the one
write path, :class:`diary_core.mark_writes.MarkWrites`), read it, its version and its history.

A mark is written by a teacher of that class and subject (its teaching assignment); a
correction or deletion keeps the old value in the change log (old, new, who, when).
Attendance and period marks have modules of their own (:mod:`diary_core.attendance`,
:mod:`diary_core.period_marks`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import UTC, date

from sqlalchemy import select

from diary_core import audit
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput, NotFound
from diary_core.grading import parse_mark
from diary_core.journal_writes import lock_pupils, pupil, pupil_to_write, subject_of_school
from diary_core.mark_writes import (
    MarkWrites,
    check_day,
    checked_comment,
    checked_weight,
)
from diary_core.models import AcademicYear, ChangeLogEntry, Lesson, Mark, Pupil, WorkType
from diary_core.policy import Action, PupilTarget, SubjectTarget
from diary_core.records import mark_record


class MarkChanged(Conflict):
    """The mark is no longer what the writer read: someone changed or removed it since."""

    code = "mark_changed"


def mark_version(mark: Mark) -> str:
    """A fingerprint of a mark's stored state: it changes whenever any of its fields does (or
    the mark is written again), so a writer can say which state he read. Derived from the row
    itself: no version column to keep in step."""
    stamp = mark.updated_at.astimezone(UTC).isoformat() if mark.updated_at else ""
    parts = (
        mark.id,
        mark.pupil_id,
        mark.subject_id,
        mark.lesson_id,
        mark.date.isoformat(),
        mark.value,
        mark.numeric,
        mark.work_type_id,
        mark.weight,
        mark.counts,
        mark.comment,
        stamp,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


async def _check_day(ctx: Ctx, school_id: int, day: date) -> None:
    """A mark's date lies in one of the school's academic years and not in the future."""
    year = (
        await ctx.session.execute(
            select(AcademicYear.starts_on, AcademicYear.ends_on).where(
                AcademicYear.school_id == school_id,
                AcademicYear.starts_on <= day,
                AcademicYear.ends_on >= day,
            )
        )
    ).first()
    check_day(day, ctx.now().date(), None if year is None else (year[0], year[1]))


async def _lesson_for(
    ctx: Ctx, lesson_id: int | None, pupil: Pupil, subject_id: int, day: date
) -> int | None:
    if lesson_id is None:
        return None
    lesson = await ctx.session.get(Lesson, lesson_id)
    if (
        lesson is None
        or lesson.class_id != pupil.class_id
        or lesson.subject_id != subject_id
        or lesson.date != day
    ):
        raise InvalidInput("урок не относится к этому классу, предмету и дате", field="lesson")
    return lesson.id


async def record_mark(
    ctx: Ctx,
    *,
    pupil_id: int,
    subject_id: int,
    day: date,
    value: str,
    work_type_id: int,
    weight: int | None = None,
    counts: bool = True,
    comment: str = "",
    lesson_id: int | None = None,
) -> Mark:
    """A new mark by a teacher of the pupil's class in that subject; the family is told."""
    target = await pupil_to_write(ctx, pupil_id)
    ctx.require(Action.WRITE_MARKS, SubjectTarget(target.school_id, target.class_id, subject_id))
    await lock_pupils(ctx, [target.id])
    await subject_of_school(ctx, subject_id, target.school_id)
    work_type = await ctx.session.get(WorkType, work_type_id)
    if work_type is None or work_type.school_id != target.school_id:
        raise InvalidInput("неизвестный вид работы", field="work_type")
    parsed = parse_mark(value)
    await _check_day(ctx, target.school_id, day)
    fields = {
        "school_id": target.school_id,
        "pupil_id": target.id,
        "subject_id": subject_id,
        "lesson_id": await _lesson_for(ctx, lesson_id, target, subject_id, day),
        "date": day,
        "value": parsed.text,
        "numeric": parsed.numeric,
        "work_type_id": work_type.id,
        "weight": checked_weight(weight, work_type.weight),
        "counts": counts,
        "comment": checked_comment(comment),
    }
    writes = MarkWrites(ctx)
    [mark_id] = await writes.create([fields])
    await writes.finish()
    mark = await ctx.session.get(Mark, mark_id)
    assert mark is not None  # written just now, in this transaction
    return mark


def _stored(mark: Mark) -> dict[str, object]:
    """A mark as :class:`MarkWrites` takes a stored one."""
    return {**mark_record(mark), "school_id": mark.school_id, "date": mark.date}


async def _mark_for_teacher(
    ctx: Ctx, mark_id: int, expected_versions: Collection[str] | None = None
) -> Mark:
    """The mark, for a teacher who may write it. With ``expected_versions`` (the versions the
    writer read, see :func:`mark_version`) the pupil is locked first (:func:`lock_pupils`), the
    mark read again under the lock, and a mark in any other state is :class:`MarkChanged`."""
    mark = await ctx.session.get(Mark, mark_id)
    if mark is None:
        raise NotFound("отметка не найдена")
    target = await pupil_to_write(ctx, mark.pupil_id)  # another family's mark: not found
    ctx.require(
        Action.WRITE_MARKS, SubjectTarget(target.school_id, target.class_id, mark.subject_id)
    )
    if expected_versions is None:
        return mark
    await lock_pupils(ctx, [mark.pupil_id])
    locked = await ctx.session.get(Mark, mark_id, populate_existing=True, with_for_update=True)
    if locked is None:
        raise MarkChanged("отметку удалили, пока вы её редактировали")
    if mark_version(locked) not in expected_versions:
        raise MarkChanged(
            f"отметку изменили, пока вы её редактировали: сейчас «{locked.value}», вес "
            f"{locked.weight}"
        )
    return locked


async def writable_mark(ctx: Ctx, mark_id: int) -> Mark:
    """A mark the actor may correct or delete (as those use cases check it), unchanged."""
    return await _mark_for_teacher(ctx, mark_id)


async def get_mark(ctx: Ctx, mark_id: int) -> Mark:
    """One mark, for whoever may read the pupil's marks; a staff read is audited."""
    mark = await ctx.session.get(Mark, mark_id)
    if mark is None:
        raise NotFound("отметка не найдена")
    owner = await pupil(ctx, mark.pupil_id)
    ctx.require(Action.READ_PUPIL, PupilTarget(owner.school_id, owner.class_id, owner.id))
    if ctx.actor.is_staff or ctx.actor.system:
        audit.record(
            ctx.session,
            ctx.actor,
            "pupil.marks.read",
            ctx.now(),
            school_id=owner.school_id,
            pupil_id=owner.id,
            object_type="mark",
            object_id=mark.id,
        )
    return mark


async def correct_mark(
    ctx: Ctx,
    mark_id: int,
    *,
    value: str | None = None,
    weight: int | None = None,
    counts: bool | None = None,
    comment: str | None = None,
    reason: str = "",
    expected_versions: Collection[str] | None = None,
) -> Mark:
    """Change a mark; the old value stays in the change log with who and when. With
    ``expected_versions``, only if the mark is still in one of them (else
    :class:`MarkChanged`, nothing written)."""
    mark = await _mark_for_teacher(ctx, mark_id, expected_versions)
    fields: dict[str, object] = {}
    if value is not None:
        parsed = parse_mark(value)
        fields["value"], fields["numeric"] = parsed.text, parsed.numeric
    if weight is not None:
        fields["weight"] = checked_weight(weight, mark.weight)
    if counts is not None:
        fields["counts"] = counts
    if comment is not None:
        fields["comment"] = checked_comment(comment)
    writes = MarkWrites(ctx, reason=reason.strip())
    if not await writes.correct([(_stored(mark), fields)]):
        return mark
    await writes.finish()
    corrected = await ctx.session.get(Mark, mark.id, populate_existing=True)
    assert corrected is not None  # locked, or read, in this transaction
    return corrected


async def delete_mark(
    ctx: Ctx,
    mark_id: int,
    reason: str = "",
    *,
    expected_versions: Collection[str] | None = None,
) -> None:
    """Remove a mark; the change log keeps a tombstone with its last value. With
    ``expected_versions``, as in :func:`correct_mark`."""
    mark = await _mark_for_teacher(ctx, mark_id, expected_versions)
    stored = _stored(mark)
    ctx.session.expunge(mark)
    await MarkWrites(ctx, reason=reason.strip()).delete(stored)


async def mark_history(ctx: Ctx, mark_id: int) -> list[dict[str, object]]:
    """Every change of a mark, oldest first (for whoever may read the pupil's marks)."""
    rows = (
        await ctx.session.execute(
            select(ChangeLogEntry)
            .where(ChangeLogEntry.entity == "mark", ChangeLogEntry.entity_id == mark_id)
            .order_by(ChangeLogEntry.id)
        )
    ).scalars()
    entries = list(rows)
    if not entries:
        raise NotFound("отметка не найдена")
    owner = await pupil(ctx, entries[0].pupil_id)
    ctx.require(Action.READ_PUPIL, PupilTarget(owner.school_id, owner.class_id, owner.id))
    return [
        {"action": e.action, "old": e.old, "new": e.new, "by": e.actor_id, "at": e.at}
        for e in entries
    ]
