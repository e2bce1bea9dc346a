"""Writing a school's plan: the school, year, work types and bells through the core's own use
cases; people, classes, enrolments, guardianships, assignments and the published timetable
in bulk. Returns the :class:`Built` school: the ids later stages point at."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import select

from diary_core import audit, school
from diary_core.context import Ctx
from diary_core.demo.bulk import Row, Writer
from diary_core.demo.calendar import local_dt
from diary_core.demo.identities import oid_of
from diary_core.demo.people import Person
from diary_core.demo.plan import SchoolPlan
from diary_core.models import (
    ExternalIdentity,
    Guardianship,
    Period,
    Pupil,
    SchoolClass,
    TeachingAssignment,
    Timetable,
    TimetableSlot,
    User,
    UserRole,
)
from diary_core.roles import Role

T = User


@dataclass
class Built:
    """One written school: ids by plan index, and the lookups later stages need."""

    plan: SchoolPlan
    school_id: int
    year_id: int
    quarter_ids: list[int]
    year_period_id: int
    work_types: dict[str, tuple[int, int]]  # name → (id, weight)
    subjects: dict[str, int]
    director_id: int
    deputy_id: int
    teacher_ids: list[int]
    pupil_ids: list[int]  # pupils.id by plan index
    pupil_user_ids: list[int]
    class_ids: list[int]
    class_teacher_ids: list[int]
    parents_of: dict[int, list[int]] = field(default_factory=dict)  # pupil index → users.id
    parent_ids: dict[int, int] = field(default_factory=dict)  # id(Person) → users.id
    extra_parent_id: int | None = None  # the parent whose link from ESIA is pending
    extra_parent: Person | None = None
    pending_pupil: int | None = None  # plan index of the pupil he waits for

    def user_id_of(self, person: Person) -> int:
        return self.parent_ids[id(person)]


async def _setup(
    ctx: Ctx, plan: SchoolPlan
) -> tuple[int, int, list[int], int, dict[str, tuple[int, int]], dict[str, int]]:
    """The school through the core's use cases (each audited)."""
    sch = await school.create_school(ctx, plan.name)
    year = await school.create_year(
        ctx,
        sch.id,
        plan.year.name,
        plan.year.starts_on,
        plan.year.ends_on,
        period_kind="quarter",
        periods=list(plan.year.quarters),
    )
    periods = list(
        await ctx.session.scalars(
            select(Period).where(Period.year_id == year.id).order_by(Period.kind, Period.number)
        )
    )
    work_types = await school.create_work_types(ctx, sch.id)
    await school.create_bells(ctx, sch.id)
    subjects: dict[str, int] = {}
    for name in _subject_names(plan):
        subjects[name] = (await school.create_subject(ctx, sch.id, name)).id
    return (
        sch.id,
        year.id,
        [p.id for p in periods if p.kind == "quarter"],
        next(p.id for p in periods if p.kind == "year"),
        {w.name: (w.id, w.weight) for w in work_types},
        subjects,
    )


def _subject_names(plan: SchoolPlan) -> list[str]:
    return list(dict.fromkeys(c.subject for courses in plan.courses for c in courses))


def user_row(
    uid: int, person: Person, school_id: int | None, at: datetime, login: str | None = None
) -> Row:
    return {
        "id": uid,
        "school_id": school_id,
        "login": login,
        "password_hash": None,
        "must_change_password": False,
        "is_active": True,
        "last_name": person.last_name,
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "birth_date": person.birth_date,
        "snils": person.snils,
        "email": person.email,
        "phone": person.phone,
        "created_at": at,
        "created_by_id": None,
        "updated_at": at,
        "updated_by_id": None,
    }


class _People:
    """Users and their roles, collected then written in one go."""

    def __init__(self, school_id: int, at: datetime) -> None:
        self.school_id, self.at = school_id, at
        self.people: list[tuple[Person, int | None, tuple[Role, ...]]] = []

    def add(self, person: Person, school_id: int | None, *roles: Role) -> int:
        self.people.append((person, school_id, roles))
        return len(self.people) - 1

    async def write(self, w: Writer) -> list[int]:
        ids = list(await w.take(T, len(self.people)))
        await w.insert(
            T, [user_row(ids[i], p, s, self.at) for i, (p, s, _) in enumerate(self.people)]
        )
        roles = [
            {"user_id": ids[i], "role": r.value}
            for i, (_, _, rs) in enumerate(self.people)
            for r in rs
        ]
        await w.insert(UserRole, roles)
        return ids


def _stamp(at: datetime, by: int | None) -> Row:
    return {"created_at": at, "created_by_id": by, "updated_at": at, "updated_by_id": by}


async def build_school(ctx: Ctx, w: Writer, plan: SchoolPlan) -> Built:
    """Write ``plan``; the caller commits."""
    school_id, year_id, quarters, year_period, work_types, subjects = await _setup(ctx, plan)
    at = local_dt(plan.year.starts_on - timedelta(days=7), time(10, 0))
    people = _People(school_id, at)
    director = people.add(plan.director, school_id, Role.ADMINISTRATOR)
    deputy = people.add(plan.deputy, school_id, Role.ADMINISTRATOR)
    leaders = {c.class_teacher for c in plan.classes}
    teachers = [
        people.add(
            t.person,
            school_id,
            *((Role.TEACHER, Role.CLASS_TEACHER) if i in leaders else (Role.TEACHER,)),
        )
        for i, t in enumerate(plan.teachers)
    ]
    pupils = [people.add(p.person, school_id, Role.PUPIL) for p in plan.pupils]
    parent_slots: dict[int, int] = {}
    for family in plan.families:
        for parent in family.parents:
            parent_slots[id(parent)] = people.add(parent, None, Role.PARENT)
    ids = await people.write(w)
    built = Built(
        plan=plan,
        school_id=school_id,
        year_id=year_id,
        quarter_ids=quarters,
        year_period_id=year_period,
        work_types=work_types,
        subjects=subjects,
        director_id=ids[director],
        deputy_id=ids[deputy],
        teacher_ids=[ids[i] for i in teachers],
        pupil_ids=[],
        pupil_user_ids=[ids[i] for i in pupils],
        class_ids=[],
        class_teacher_ids=[],
        parent_ids={k: ids[v] for k, v in parent_slots.items()},
    )
    await _classes(w, built)
    await _enrol(w, built, at)
    await _guardians(w, built)
    await _assignments(w, built)
    await _timetables(w, built)
    audit.record(
        ctx.session, ctx.actor, "demo.structure", ctx.now(), school_id=school_id,
        pupils=len(plan.pupils), teachers=len(plan.teachers),
    )  # fmt: skip
    return built


async def _classes(w: Writer, b: Built) -> None:
    plan = b.plan
    b.class_ids = list(await w.take(SchoolClass, len(plan.classes)))
    b.class_teacher_ids = [
        b.teacher_ids[c.class_teacher] if c.class_teacher is not None else b.deputy_id
        for c in plan.classes
    ]
    rows = [
        {
            "id": b.class_ids[i],
            "school_id": b.school_id,
            "year_id": b.year_id,
            "name": c.name,
            "grade": c.grade,
            "class_teacher_id": b.class_teacher_ids[i],
        }
        for i, c in enumerate(plan.classes)
    ]
    await w.insert(SchoolClass, rows)


async def _enrol(w: Writer, b: Built, at: datetime) -> None:
    plan = b.plan
    b.pupil_ids = list(await w.take(Pupil, len(plan.pupils)))
    rows = [
        {
            "id": b.pupil_ids[i],
            "user_id": b.pupil_user_ids[i],
            "school_id": b.school_id,
            "class_id": b.class_ids[p.class_index],
        }
        for i, p in enumerate(plan.pupils)
    ]
    await w.insert(Pupil, rows)


async def _guardians(w: Writer, b: Built) -> None:
    """Roster links, confirmed: every parent of the plan to each of his family's pupils."""
    plan = b.plan
    at = local_dt(plan.year.starts_on - timedelta(days=4), time(11, 0))
    rows = []
    for family in plan.families:
        for parent in family.parents:
            uid = b.parent_ids[id(parent)]
            for pupil in family.pupils:
                b.parents_of.setdefault(pupil, []).append(uid)
                rows.append(
                    {
                        "guardian_id": uid,
                        "pupil_id": b.pupil_ids[pupil],
                        "status": "confirmed",
                        "source": "roster",
                        **_stamp(at, None),
                    }
                )
    await w.insert(Guardianship, rows)


async def _assignments(w: Writer, b: Built) -> None:
    rows = [
        {
            "school_id": b.school_id,
            "class_id": b.class_ids[ci],
            "subject_id": b.subjects[course.subject],
            "teacher_id": b.teacher_ids[course.teacher],
        }
        for ci, courses in enumerate(b.plan.courses)
        for course in courses
    ]
    await w.insert(TeachingAssignment, rows)


async def _timetables(w: Writer, b: Built) -> None:
    """One weekly timetable per class from 1 September, published by the deputy director."""
    plan = b.plan
    ids = list(await w.take(Timetable, len(plan.classes)))
    published = local_dt(plan.year.starts_on - timedelta(days=3), time(15, 0))
    await w.insert(
        Timetable,
        [
            {
                "id": ids[i],
                "school_id": b.school_id,
                "class_id": b.class_ids[i],
                "valid_from": plan.year.starts_on,
                "published_at": published,
                "published_by_id": b.deputy_id,
                **_stamp(published, b.deputy_id),
            }
            for i in range(len(plan.classes))
        ],
    )
    slots = [
        {
            "timetable_id": ids[i],
            "weekday": s.weekday,
            "lesson_number": s.number,
            "subject_id": b.subjects[s.subject],
            "teacher_id": b.teacher_ids[s.teacher],
            "room": s.room,
        }
        for i, week in enumerate(plan.weeks)
        for s in week
    ]
    await w.insert(TimetableSlot, slots)


async def link_pending_parent(w: Writer, b: Built, person: Person, pupil: int, at: datetime) -> int:
    """A parent who signed in through ESIA with a link code: his ESIA identity is linked,
    and the child ESIA lists for him waits for the class teacher (pending, source esia)."""
    uid = (await w.take(T, 1))[0]
    await w.insert(T, [user_row(uid, person, None, at)])
    await w.insert(UserRole, [{"user_id": uid, "role": Role.PARENT.value}])
    await w.insert(
        ExternalIdentity,
        [{"user_id": uid, "provider": "esia", "subject": oid_of(uid), "linked_at": at}],
    )
    await w.insert(
        Guardianship,
        [
            {
                "guardian_id": uid,
                "pupil_id": b.pupil_ids[pupil],
                "status": "pending",
                "source": "esia",
                **_stamp(at, uid),
            }
        ],
    )
    b.extra_parent_id, b.extra_parent, b.pending_pupil = uid, person, pupil
    return uid
