"""Reads for the staff console that the other modules lack: what a teacher teaches, the
classes he leads, a class's roster with its parents, and the small lists forms need.

Each read asks the access policy first, like every use case; reads of pupils' personal data
by staff are written to the audit log (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Exists, exists, select

from diary_core import audit, journal, marks
from diary_core.context import Ctx
from diary_core.errors import InvalidInput, NotFound
from diary_core.models import (
    BellTime,
    ChangeLogEntry,
    ExternalIdentity,
    Guardianship,
    Lesson,
    Period,
    Pupil,
    School,
    SchoolClass,
    Subject,
    TeachingAssignment,
    User,
    UserRole,
    WorkType,
)
from diary_core.policy import Action, ClassTarget, PupilTarget, SubjectTarget, allowed
from diary_core.roles import STAFF_ROLES
from diary_core.timetable import MAX_LESSONS


def _name(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def _require_staff_of(ctx: Ctx, school_id: int) -> None:
    """School-wide lists (periods, work types) are for the school's own staff."""
    if not (ctx.actor.system or ctx.actor.staff_of(school_id)):
        raise NotFound("школа не найдена")


# --- what the actor teaches and leads ----------------------------------------------------


@dataclass(frozen=True)
class Teaching:
    """One class × subject the actor teaches (a teaching assignment)."""

    class_id: int
    class_name: str
    subject_id: int
    subject_name: str


@dataclass(frozen=True)
class ClassInfo:
    id: int
    name: str
    school_id: int


async def teaching_of(ctx: Ctx) -> list[Teaching]:
    """The actor's own teaching assignments with class and subject names, by class."""
    rows = await ctx.session.execute(
        select(SchoolClass.id, SchoolClass.name, Subject.id, Subject.name)
        .select_from(TeachingAssignment)
        .join(SchoolClass, SchoolClass.id == TeachingAssignment.class_id)
        .join(Subject, Subject.id == TeachingAssignment.subject_id)
        .where(TeachingAssignment.teacher_id == ctx.actor.user_id)
        .order_by(SchoolClass.grade, SchoolClass.name, Subject.name)
    )
    return [Teaching(*r) for r in rows]


async def led_classes(ctx: Ctx) -> list[ClassInfo]:
    """The classes the actor is class teacher of."""
    if not ctx.actor.led_classes:
        return []
    rows = await ctx.session.execute(
        select(SchoolClass.id, SchoolClass.name, SchoolClass.school_id)
        .where(SchoolClass.id.in_(sorted(ctx.actor.led_classes)))
        .order_by(SchoolClass.grade, SchoolClass.name)
    )
    return [ClassInfo(*r) for r in rows]


# --- periods and work types ----------------------------------------------------------------


@dataclass(frozen=True)
class PeriodInfo:
    id: int
    name: str
    kind: str
    starts_on: date
    ends_on: date


async def school_periods(ctx: Ctx, school_id: int) -> list[PeriodInfo]:
    """The school's terms (quarters …) oldest first, then the year."""
    _require_staff_of(ctx, school_id)
    rows = await ctx.session.execute(
        select(Period.id, Period.name, Period.kind, Period.starts_on, Period.ends_on)
        .where(Period.school_id == school_id)
        .order_by(Period.kind == "year", Period.starts_on, Period.number)
    )
    return [PeriodInfo(*r) for r in rows]


def current_period(periods: list[PeriodInfo], today: date) -> PeriodInfo | None:
    """The term (not the year) containing ``today``, else the last one that ended, else the
    first one."""
    terms = [p for p in periods if p.kind != "year"]
    inside = [p for p in terms if p.starts_on <= today <= p.ends_on]
    past = [p for p in terms if p.ends_on < today]
    found = inside or past[-1:] or terms[:1]
    return found[0] if found else None


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
    periods: list[PeriodInfo]
    grid: journal.Grid
    work_types: list[WorkTypeInfo]


async def gradebook_view(
    ctx: Ctx, class_id: int, subject_id: int, period_id: int | None
) -> GradebookView:
    """A class × subject journal for a period of its school (default: the current term), for
    whoever :func:`gradebook_rights` lets in; the grid's read is audited."""
    rights = await gradebook_rights(ctx, class_id, subject_id)
    place = rights.place  # with the school's periods
    periods = [PeriodInfo(p.id, p.name, p.kind, p.starts_on, p.ends_on) for p in place.periods]
    if period_id is None:
        current = current_period(periods, ctx.now().date())
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
    return {r.id: _name(r.last_name, r.first_name, r.middle_name) for r in rows}


async def period_of_day(ctx: Ctx, school_id: int, day: date) -> int | None:
    """The term (not the year) that contains a day, for links back to the journal."""
    periods = await school_periods(ctx, school_id)
    inside = [p for p in periods if p.kind != "year" and p.starts_on <= day <= p.ends_on]
    return inside[0].id if inside else None


# --- a class's roster -------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """How a person can sign in: a login (and whether its one-time password is still unused)
    and a linked ESIA identity."""

    login: str | None
    must_change_password: bool
    esia: bool

    @property
    def signs_in(self) -> bool:
        return bool(self.login) or self.esia


@dataclass(frozen=True)
class RosterParent:
    user_id: int
    full_name: str
    guardianship_id: int
    status: str  # confirmed | pending
    phone: str
    email: str
    access: Access


@dataclass
class RosterPupil:
    pupil_id: int
    user_id: int
    full_name: str
    birth_date: date | None
    access: Access
    manageable: bool  # the actor leads the pupil's class: issues credentials, decides links
    parents: list[RosterParent] = field(default_factory=list)


@dataclass(frozen=True)
class ClassRoster:
    class_id: int
    class_name: str
    school_id: int
    school_name: str
    class_teacher: str
    pupils: list[RosterPupil]

    @property
    def leads(self) -> bool:
        """Whether the actor leads this class (issues its credentials, decides its links)."""
        return any(p.manageable for p in self.pupils)

    def person(self, user_id: int) -> tuple[str, RosterPupil] | None:
        """Whether an account is this class's pupil or one of their parents: the pupil's row
        and the person's name."""
        for p in self.pupils:
            if p.user_id == user_id:
                return p.full_name, p
            for parent in p.parents:
                if parent.user_id == user_id:
                    return parent.full_name, p
        return None


async def _class(ctx: Ctx, class_id: int) -> SchoolClass:
    cls = await ctx.session.get(SchoolClass, class_id)
    if cls is None:
        raise NotFound("класс не найден")
    return cls


def _has_esia() -> Exists:
    return exists().where(ExternalIdentity.user_id == User.id)


async def class_roster(ctx: Ctx, class_id: int) -> ClassRoster:
    """The pupils of a class with their parents (confirmed and pending links), and how each
    can sign in. Who may: the policy's ``READ_CLASS_ROSTER``; the read is audited."""
    cls = await _class(ctx, class_id)
    ctx.require(Action.READ_CLASS_ROSTER, ClassTarget(cls.school_id, cls.id))
    esia = _has_esia()
    pupil_rows = await ctx.session.execute(
        select(
            Pupil.id,
            User.id,
            User.last_name,
            User.first_name,
            User.middle_name,
            User.birth_date,
            User.login,
            User.must_change_password,
            esia,
        )
        .join(User, User.id == Pupil.user_id)
        .where(Pupil.class_id == class_id)
        .order_by(User.last_name, User.first_name, Pupil.id)
    )
    pupils: dict[int, RosterPupil] = {}
    for r in pupil_rows:
        target = PupilTarget(cls.school_id, cls.id, r[0])
        pupils[r[0]] = RosterPupil(
            r[0],
            r[1],
            _name(r[2], r[3], r[4]),
            r[5],
            Access(r[6], bool(r[7]), bool(r[8])),
            allowed(ctx.actor, Action.CONFIRM_GUARDIANSHIP, target),
        )
    for pupil_id, parent in await _parents(ctx, class_id):
        pupils[pupil_id].parents.append(parent)
    teacher = await ctx.session.get(User, cls.class_teacher_id) if cls.class_teacher_id else None
    school = await ctx.session.get(School, cls.school_id)
    audit.record(
        ctx.session,
        ctx.actor,
        "class.roster.read",
        ctx.now(),
        school_id=cls.school_id,
        object_type="class",
        object_id=cls.id,
    )
    return ClassRoster(
        cls.id,
        cls.name,
        cls.school_id,
        school.name if school else "",
        teacher.full_name if teacher else "",
        list(pupils.values()),
    )


async def _parents(ctx: Ctx, class_id: int) -> list[tuple[int, RosterParent]]:
    rows = await ctx.session.execute(
        select(
            Guardianship.pupil_id,
            Guardianship.id,
            Guardianship.status,
            User.id,
            User.last_name,
            User.first_name,
            User.middle_name,
            User.phone,
            User.email,
            User.login,
            User.must_change_password,
            _has_esia(),
        )
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .join(User, User.id == Guardianship.guardian_id)
        .where(Pupil.class_id == class_id, Guardianship.status != "rejected")
        .order_by(Guardianship.status, User.last_name, User.first_name, User.id)
    )
    return [
        (
            r[0],
            RosterParent(
                r[3],
                _name(r[4], r[5], r[6]),
                r[1],
                r[2],
                r[7],
                r[8],
                Access(r[9], bool(r[10]), bool(r[11])),
            ),
        )
        for r in rows
    ]


# --- timetable changes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    id: int
    name: str


@dataclass(frozen=True)
class ChangeOptions:
    """What a timetable-change form offers: the school's staff (substitutes), its subjects,
    and the lesson numbers of its bell schedule."""

    teachers: list[Option]
    subjects: list[Option]
    lesson_numbers: list[int]


async def timetable_change_options(ctx: Ctx, class_id: int) -> ChangeOptions:
    """For whoever may change the class's timetable (the policy's ``CHANGE_TIMETABLE``)."""
    cls = await _class(ctx, class_id)
    ctx.require(Action.CHANGE_TIMETABLE, ClassTarget(cls.school_id, cls.id))
    is_staff = exists().where(UserRole.user_id == User.id, UserRole.role.in_(STAFF_ROLES))
    staff = await ctx.session.execute(
        select(User.id, User.last_name, User.first_name, User.middle_name)
        .where(User.school_id == cls.school_id, User.is_active, is_staff)
        .order_by(User.last_name, User.first_name, User.id)
    )
    subjects = await ctx.session.execute(
        select(Subject.id, Subject.name)
        .where(Subject.school_id == cls.school_id)
        .order_by(Subject.name)
    )
    bells = list(
        await ctx.session.scalars(
            select(BellTime.number)
            .where(BellTime.school_id == cls.school_id)
            .order_by(BellTime.number)
        )
    )
    return ChangeOptions(
        [Option(r.id, _name(r.last_name, r.first_name, r.middle_name)) for r in staff],
        [Option(*r) for r in subjects],
        bells or list(range(1, MAX_LESSONS + 1)),
    )
