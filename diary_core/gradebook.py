"""The class × subject journal page's reads: who may open it and write in it, the journal
for a period (the current one by default, :func:`diary_core.periods.current_period`), the
school's work types, a lesson to edit and a mark's history with names.

Each read asks the access policy first; reads of pupils' personal data by staff are written
to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from diary_core import audit, journal, marks
from diary_core.context import Ctx
from diary_core.errors import InvalidInput, NotFound
from diary_core.models import (
    ChangeLogEntry,
    Lesson,
    Pupil,
    SchoolClass,
    Subject,
    User,
    WorkType,
)
from diary_core.periods import SchoolPeriod, current_period
from diary_core.policy import Action, SubjectTarget, allowed
from diary_core.russian import full_name


def _require_staff_of(ctx: Ctx, school_id: int) -> None:
    """The school's work types are for its own staff (and the operator)."""
    if not (ctx.actor.system or ctx.actor.staff_of(school_id)):
        raise NotFound("школа не найдена")


@dataclass(frozen=True)
class WorkTypeInfo:
    id: int
    name: str
    weight: int


async def work_types(ctx: Ctx, school_id: int) -> list[WorkTypeInfo]:
    """The school's work types with their weights, lightest first."""
    _require_staff_of(ctx, school_id)
    rows = await ctx.session.execute(
        select(WorkType.id, WorkType.name, WorkType.weight)
        .where(WorkType.school_id == school_id)
        .order_by(WorkType.weight, WorkType.id)
    )
    return [WorkTypeInfo(*r) for r in rows]


# --- the gradebook ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GradebookRights:
    """Who may do what in one class × subject journal."""

    place: journal.GridPlace
    write_marks: bool
    write_period_marks: bool

    @property
    def school_id(self) -> int:
        return self.place.school_id


async def gradebook_rights(ctx: Ctx, class_id: int, subject_id: int) -> GradebookRights:
    """Who may open a class × subject journal (the policy's ``READ_GRADEBOOK``: the subject's
    teacher, the class teacher, the administration) and what he may write in it.

    Security decision: anyone else is refused here, before any pupil data is read (404 for
    another school, 403 within the school)."""
    place = await journal.grid_place(ctx, class_id, subject_id)
    target = SubjectTarget(place.school_id, place.class_id, place.subject_id)
    write_marks = allowed(ctx.actor, Action.WRITE_MARKS, target)
    write_period = allowed(ctx.actor, Action.WRITE_PERIOD_MARKS, target)
    return GradebookRights(place, write_marks, write_period)


@dataclass(frozen=True)
class GradebookView:
    """Everything the journal page shows: the rights, the school's periods (the one shown
    among them), the grid and the work types its new marks can have."""

    rights: GradebookRights
    periods: list[SchoolPeriod]
    grid: journal.Grid
    work_types: list[WorkTypeInfo]


async def gradebook_view(
    ctx: Ctx, class_id: int, subject_id: int, period_id: int | None
) -> GradebookView:
    """A class × subject journal for a period of its school (by default the current one,
    :func:`~diary_core.periods.current_period`), for whoever :func:`gradebook_rights` lets
    in; the grid's read is audited."""
    rights = await gradebook_rights(ctx, class_id, subject_id)
    place = rights.place  # with the school's periods
    periods = [SchoolPeriod(p.id, p.kind, p.name, p.starts_on, p.ends_on) for p in place.periods]
    if period_id is None:
        current = current_period(periods, ctx.today())
        if current is None:
            raise InvalidInput("в школе не заведены учебные периоды")
        period_id = current.id
    grid = await journal.place_grid(ctx, place, place.period(period_id))
    return GradebookView(rights, periods, grid, await work_types(ctx, rights.school_id))


@dataclass(frozen=True)
class LessonView:
    id: int
    school_id: int
    class_id: int
    class_name: str
    subject_id: int
    subject_name: str
    date: date
    lesson_number: int
    topic: str
    homework: str


async def lesson_for_edit(ctx: Ctx, lesson_id: int) -> LessonView:
    """A lesson whose topic and homework the actor may edit (its subject's teacher)."""
    row = (
        await ctx.session.execute(
            select(Lesson, SchoolClass.name, Subject.name)
            .join(SchoolClass, SchoolClass.id == Lesson.class_id)
            .join(Subject, Subject.id == Lesson.subject_id)
            .where(Lesson.id == lesson_id)
        )
    ).first()
    if row is None:
        raise NotFound("урок не найден")
    lesson = row.Lesson
    ctx.require(
        Action.EDIT_LESSON, SubjectTarget(lesson.school_id, lesson.class_id, lesson.subject_id)
    )
    return LessonView(
        lesson.id,
        lesson.school_id,
        lesson.class_id,
        row[1],
        lesson.subject_id,
        row[2],
        lesson.date,
        lesson.lesson_number,
        lesson.topic,
        lesson.homework,
    )


# --- a mark's history -----------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    action: str  # create | update | delete
    at: datetime
    by_name: str
    old_value: str | None
    new_value: str | None
    work_type: str
    weight: int | None
    comment: str
    reason: str


@dataclass(frozen=True)
class MarkHistory:
    mark_id: int
    pupil_name: str
    school_id: int
    class_id: int
    subject_id: int
    subject_name: str
    date: date
    entries: list[HistoryEntry]


def _mark_value(snapshot: dict[str, object] | None) -> str | None:
    value = (snapshot or {}).get("value")
    return None if value is None else str(value)


def _snap(entry: ChangeLogEntry) -> dict[str, Any]:
    return dict(entry.new or entry.old or {})


async def mark_history_view(ctx: Ctx, mark_id: int) -> MarkHistory:
    """A mark's history (who changed what, when) with names, for whoever may read the pupil's
    marks: :func:`diary_core.marks.mark_history` decides. Staff reads are audited."""
    await marks.mark_history(ctx, mark_id)
    rows = list(
        await ctx.session.scalars(
            select(ChangeLogEntry)
            .where(ChangeLogEntry.entity == "mark", ChangeLogEntry.entity_id == mark_id)
            .order_by(ChangeLogEntry.id)
        )
    )
    pupil = await ctx.session.get(Pupil, rows[0].pupil_id)
    assert pupil is not None
    person = await ctx.session.get(User, pupil.user_id)
    last = _snap(rows[-1])
    subject = await ctx.session.get(Subject, last.get("subject_id"))
    names = await _user_names(ctx, {r.actor_id for r in rows if r.actor_id is not None})
    wt_ids = {_snap(r).get("work_type_id") for r in rows}
    wt_names = {
        r.id: r.name
        for r in await ctx.session.execute(
            select(WorkType.id, WorkType.name).where(WorkType.id.in_(wt_ids))
        )
    }
    entries = [
        HistoryEntry(
            action=r.action,
            at=r.at,
            by_name=names.get(r.actor_id, "") if r.actor_id is not None else "система",
            old_value=_mark_value(r.old),
            new_value=_mark_value(r.new),
            work_type=wt_names.get(_snap(r).get("work_type_id"), ""),
            weight=_snap(r).get("weight"),
            comment=str(_snap(r).get("comment") or ""),
            reason=r.reason,
        )
        for r in rows
    ]
    audit.record(
        ctx.session,
        ctx.actor,
        "mark.history.read",
        ctx.now(),
        school_id=pupil.school_id,
        pupil_id=pupil.id,
        object_type="mark",
        object_id=mark_id,
    )
    return MarkHistory(
        mark_id,
        person.full_name if person else "",
        pupil.school_id,
        pupil.class_id,
        subject.id if subject else 0,
        subject.name if subject else "",
        date.fromisoformat(str(last.get("date"))),
        entries,
    )


async def _user_names(ctx: Ctx, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await ctx.session.execute(
        select(User.id, User.last_name, User.first_name, User.middle_name).where(
            User.id.in_(sorted(ids))
        )
    )
    return {r.id: full_name(r.last_name, r.first_name, r.middle_name) for r in rows}
