"""Recording marks, attendance and period marks, each change kept in the change log.

A mark is written by a teacher of that class and subject (its teaching assignment); a
correction or deletion keeps the old value in the change log (old, new, who, when). Period
marks can be locked after sign-off; a locked mark cannot change until it is unlocked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, date
from typing import Any

from sqlalchemy import ColumnElement, select, update

from diary_core import audit
from diary_core.changes import (
    attendance_snapshot,
    log_change,
    mark_snapshot,
    period_mark_snapshot,
)
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput, NotFound
from diary_core.grading import parse_attendance, parse_mark
from diary_core.models import (
    AcademicYear,
    Attendance,
    Guardianship,
    Lesson,
    Mark,
    Period,
    PeriodMark,
    Pupil,
    Subject,
    WorkType,
)
from diary_core.notifications import notify
from diary_core.policy import Action, PupilTarget, SchoolTarget, SubjectTarget
from diary_core.text import clean_text

MAX_COMMENT = 500


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


_PUPIL_LOCKS = "diary_core.marks.pupil_locks"  # session.info: (transaction, pupil ids locked)


async def lock_pupils(ctx: Ctx, pupil_ids: Iterable[int], *, class_id: int | None = None) -> None:
    """Serialise writers of these pupils' journal entries until the caller's transaction ends,
    so that what a writer checks (a cell as his page showed it, a mark's version) is still
    true when he writes. A lock on the pupil covers entries that do not exist yet (an empty
    cell has no row to lock).

    PostgreSQL: ``SELECT … FOR UPDATE`` on the pupils' rows, in id order, so that two writers
    of several pupils never deadlock; reads after it see what the previous holder committed.
    SQLite: a no-op write takes the database's one write lock before anything is read (its
    reads before a transaction's first write run outside it). With ``class_id``, only the
    pupils of that class are locked (the ids may come from a form).

    Every journal write (a mark, attendance, a period mark) takes its pupil's lock; a pupil
    already locked in the transaction is not locked again."""
    held: tuple[object, set[int]] | None = ctx.session.info.get(_PUPIL_LOCKS)
    transaction = ctx.session.sync_session.get_transaction()
    if held is None or held[0] is not transaction:
        held = (transaction, set())
    ids = sorted(set(pupil_ids) - held[1])
    if not ids:
        return
    which: list[ColumnElement[bool]] = [Pupil.id.in_(ids)]
    if class_id is not None:
        which.append(Pupil.class_id == class_id)
    if ctx.session.get_bind().dialect.name == "postgresql":
        ids = list(
            await ctx.session.scalars(
                select(Pupil.id).where(*which).order_by(Pupil.id).with_for_update()
            )
        )
    else:  # the database's write lock: every pupil is held
        await ctx.session.execute(
            update(Pupil)
            .where(*which)
            .values(class_id=Pupil.class_id)
            .execution_options(synchronize_session=False)
        )
    if held[0] is None:  # the lock's statement began the transaction
        held = (ctx.session.sync_session.get_transaction(), held[1])
    held[1].update(ids)
    ctx.session.info[_PUPIL_LOCKS] = held


async def _pupil(ctx: Ctx, pupil_id: int) -> Pupil:
    pupil = await ctx.session.get(Pupil, pupil_id)
    if pupil is None:
        raise NotFound("обучающийся не найден")
    return pupil


async def _pupil_to_write(ctx: Ctx, pupil_id: int) -> Pupil:
    """The pupil a write names, if the actor may know of him: another family's (another
    class's) pupil is "not found", like a missing one, not "forbidden, but he exists".
    Whoever may write a pupil's marks reads them, so this refuses no writer."""
    pupil = await _pupil(ctx, pupil_id)
    ctx.require(Action.READ_PUPIL, PupilTarget(pupil.school_id, pupil.class_id, pupil.id))
    return pupil


async def _subject_of_school(ctx: Ctx, subject_id: int, school_id: int) -> Subject:
    subject = await ctx.session.get(Subject, subject_id)
    if subject is None or subject.school_id != school_id:
        raise NotFound("предмет не найден")
    return subject


async def _check_day(ctx: Ctx, school_id: int, day: date) -> None:
    """A mark's date lies in one of the school's academic years and not in the future."""
    if day > ctx.now().date():
        raise InvalidInput("нельзя поставить отметку на будущую дату", field="date")
    inside = await ctx.session.scalar(
        select(AcademicYear.id).where(
            AcademicYear.school_id == school_id,
            AcademicYear.starts_on <= day,
            AcademicYear.ends_on >= day,
        )
    )
    if inside is None:
        raise InvalidInput("дата вне учебного года", field="date")


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


def _comment(text: str) -> str:
    text = clean_text(text or "", "comment", "Комментарий").strip()
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"комментарий длиннее {MAX_COMMENT} символов", field="comment")
    return text


def _weight(raw: int | None, default: int) -> int:
    weight = default if raw is None else raw
    if not 1 <= weight <= 10:
        raise InvalidInput("вес отметки должен быть от 1 до 10", field="weight")
    return weight


def _actor_id(ctx: Ctx) -> int | None:
    return None if ctx.actor.system else ctx.actor.user_id


def _stamps(ctx: Ctx) -> dict[str, Any]:
    """Who and when, for a new row (docs/regulation.md, clause 1.4)."""
    now, who = ctx.now(), _actor_id(ctx)
    return {"created_at": now, "updated_at": now, "created_by_id": who, "updated_by_id": who}


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
    """A new mark by a teacher of the pupil's class in that subject."""
    pupil = await _pupil_to_write(ctx, pupil_id)
    ctx.require(Action.WRITE_MARKS, SubjectTarget(pupil.school_id, pupil.class_id, subject_id))
    await lock_pupils(ctx, [pupil.id])
    subject = await _subject_of_school(ctx, subject_id, pupil.school_id)
    work_type = await ctx.session.get(WorkType, work_type_id)
    if work_type is None or work_type.school_id != pupil.school_id:
        raise InvalidInput("неизвестный вид работы", field="work_type")
    parsed = parse_mark(value)
    await _check_day(ctx, pupil.school_id, day)
    now, actor_id = ctx.now(), _actor_id(ctx)
    mark = Mark(
        school_id=pupil.school_id,
        pupil_id=pupil.id,
        subject_id=subject_id,
        lesson_id=await _lesson_for(ctx, lesson_id, pupil, subject_id, day),
        date=day,
        value=parsed.text,
        numeric=parsed.numeric,
        work_type_id=work_type.id,
        weight=_weight(weight, work_type.weight),
        counts=counts,
        comment=_comment(comment),
        **_stamps(ctx),
    )
    ctx.session.add(mark)
    await ctx.session.flush()
    log_change(
        ctx.session,
        school_id=pupil.school_id,
        pupil_id=pupil.id,
        entity="mark",
        entity_id=mark.id,
        action="create",
        old=None,
        new=mark_snapshot(mark),
        actor_id=actor_id,
        at=now,
    )
    text = (
        f"Новая отметка «{mark.value}» по предмету «{subject.name}» "
        f"({work_type.name.lower()}, {day.strftime('%d.%m')})"
    )
    await _tell_family(ctx, pupil, text)
    return mark


async def _tell_family(ctx: Ctx, pupil: Pupil, text: str) -> None:
    """A notification for the pupil and his confirmed parents (never a pending link)."""
    guardians = await ctx.session.scalars(
        select(Guardianship.guardian_id).where(
            Guardianship.pupil_id == pupil.id, Guardianship.status == "confirmed"
        )
    )
    await notify(ctx.session, [pupil.user_id, *guardians], "mark", text, pupil.id, ctx.now())


async def _mark_for_teacher(
    ctx: Ctx, mark_id: int, expected_versions: Collection[str] | None = None
) -> Mark:
    """The mark, for a teacher who may write it. With ``expected_versions`` (the versions the
    writer read, see :func:`mark_version`) the pupil is locked first (:func:`lock_pupils`), the
    mark read again under the lock, and a mark in any other state is :class:`MarkChanged`."""
    mark = await ctx.session.get(Mark, mark_id)
    if mark is None:
        raise NotFound("отметка не найдена")
    pupil = await _pupil_to_write(ctx, mark.pupil_id)  # another family's mark: not found
    ctx.require(Action.WRITE_MARKS, SubjectTarget(pupil.school_id, pupil.class_id, mark.subject_id))
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
    pupil = await _pupil(ctx, mark.pupil_id)
    ctx.require(Action.READ_PUPIL, PupilTarget(pupil.school_id, pupil.class_id, pupil.id))
    if ctx.actor.is_staff or ctx.actor.system:
        audit.record(
            ctx.session,
            ctx.actor,
            "pupil.marks.read",
            ctx.now(),
            school_id=pupil.school_id,
            pupil_id=pupil.id,
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
    old = mark_snapshot(mark)
    if value is not None:
        parsed = parse_mark(value)
        mark.value, mark.numeric = parsed.text, parsed.numeric
    if weight is not None:
        mark.weight = _weight(weight, mark.weight)
    if counts is not None:
        mark.counts = counts
    if comment is not None:
        mark.comment = _comment(comment)
    new = mark_snapshot(mark)
    if new == old:
        return mark
    if new["value"] != old["value"]:
        subject = await ctx.session.get(Subject, mark.subject_id)
        await _tell_family(
            ctx,
            await _pupil(ctx, mark.pupil_id),
            f"Отметка по предмету «{subject.name if subject else ''}» за "
            f"{mark.date.strftime('%d.%m')} исправлена: «{old['value']}» → «{mark.value}»",
        )
    mark.updated_at, mark.updated_by_id = ctx.now(), _actor_id(ctx)
    await ctx.session.flush()
    log_change(
        ctx.session,
        school_id=mark.school_id,
        pupil_id=mark.pupil_id,
        entity="mark",
        entity_id=mark.id,
        action="update",
        old=old,
        new=new,
        actor_id=_actor_id(ctx),
        at=ctx.now(),
        reason=reason.strip(),
    )
    return mark


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
    log_change(
        ctx.session,
        school_id=mark.school_id,
        pupil_id=mark.pupil_id,
        entity="mark",
        entity_id=mark.id,
        action="delete",
        old=mark_snapshot(mark),
        new=None,
        actor_id=_actor_id(ctx),
        at=ctx.now(),
        reason=reason.strip(),
    )
    await ctx.session.delete(mark)
    await ctx.session.flush()


async def mark_history(ctx: Ctx, mark_id: int) -> list[dict[str, object]]:
    """Every change of a mark, oldest first (for whoever may read the pupil's marks)."""
    from diary_core.models import ChangeLogEntry

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
    pupil = await _pupil(ctx, entries[0].pupil_id)
    ctx.require(Action.READ_PUPIL, PupilTarget(pupil.school_id, pupil.class_id, pupil.id))
    return [
        {"action": e.action, "old": e.old, "new": e.new, "by": e.actor_id, "at": e.at}
        for e in entries
    ]


async def set_attendance(ctx: Ctx, *, pupil_id: int, lesson_id: int, kind: str | None) -> None:
    """Mark a pupil absent (н), ill (б) or late (оп) at a lesson; ``None`` clears it."""
    pupil = await _pupil_to_write(ctx, pupil_id)
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
    now, actor_id = ctx.now(), _actor_id(ctx)
    common = {
        "school_id": pupil.school_id,
        "pupil_id": pupil.id,
        "entity": "attendance",
        "actor_id": actor_id,
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
        existing.kind, existing.updated_at, existing.updated_by_id = code, now, actor_id
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
        **_stamps(ctx),
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


async def _period(ctx: Ctx, period_id: int, school_id: int) -> Period:
    period = await ctx.session.get(Period, period_id)
    if period is None or period.school_id != school_id:
        raise NotFound("учебный период не найден")
    return period


async def set_period_mark(
    ctx: Ctx, *, pupil_id: int, subject_id: int, period_id: int, value: str
) -> PeriodMark:
    """A quarter (or year) mark; refused while the period mark is locked."""
    pupil = await _pupil_to_write(ctx, pupil_id)
    ctx.require(
        Action.WRITE_PERIOD_MARKS, SubjectTarget(pupil.school_id, pupil.class_id, subject_id)
    )
    await _subject_of_school(ctx, subject_id, pupil.school_id)
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
    now, actor_id = ctx.now(), _actor_id(ctx)
    if existing is not None:
        if existing.locked_at is not None:
            raise Conflict("итоговая отметка закрыта (подписана); изменить её нельзя")
        old = period_mark_snapshot(existing)
        existing.value, existing.numeric = parsed.text, parsed.numeric
        if period_mark_snapshot(existing) == old:
            return existing
        existing.updated_at, existing.updated_by_id = now, actor_id
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
            **_stamps(ctx),
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
        actor_id=actor_id,
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
        .values(locked_at=ctx.now(), locked_by_id=_actor_id(ctx))
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
