"""Whom the messaging forms offer: the people the actor may write to, the names of the
pupils conversations are about, and the schools whose administration he may ask.

The list of people to write to is a query narrowed to likely candidates and then filtered by
the policy's own ``MESSAGE`` decision, so the form offers exactly whom
:func:`diary_core.messaging.start_conversation` would accept.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.context import Ctx
from diary_core.models import (
    Guardianship,
    Pupil,
    School,
    SchoolClass,
    Subject,
    TeachingAssignment,
    User,
    UserRole,
)
from diary_core.policy import (
    Action,
    Actor,
    ClassTarget,
    PupilPlace,
    PupilTarget,
    SchoolTarget,
    UserTarget,
    allowed,
)
from diary_core.roles import STAFF_ROLES, Role
from diary_core.russian import full_name

# --- whom the actor may write to ------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    user_id: int
    name: str
    group: str  # "Администрация" | "Учителя" | "Родители" | "Обучающиеся"
    note: str  # what he teaches the actor's children, whose parent he is …


GROUP_ORDER = ("Учителя", "Администрация", "Родители", "Обучающиеся")


async def message_recipients(ctx: Ctx) -> list[Recipient]:
    """The people the actor may start a conversation with, grouped and named.

    Candidates: for a parent or pupil, the teachers and class teachers of his (children's)
    classes and the administrators of their schools; for staff, the colleagues of his
    school and the pupils and parents of the classes whose roster he may read. Each
    candidate is then put to the policy's ``MESSAGE`` decision on the same record
    :func:`diary_core.actors.load_user_target` builds.
    """
    ids = await _candidates(ctx)
    if not ids:
        return []
    people = await _people(ctx.session, ids)
    return sorted(
        (
            _recipient(ctx.actor, p, people)
            for p in people.persons.values()
            if allowed(ctx.actor, Action.MESSAGE, p.target)
        ),
        key=lambda r: (GROUP_ORDER.index(r.group), r.name, r.user_id),
    )


async def _candidates(ctx: Ctx) -> set[int]:
    actor = ctx.actor
    if actor.is_staff and actor.school_id is not None:
        parts = await _staff_candidates(ctx, actor.school_id)
    else:
        parts = _family_candidates(actor.family_places)
    if not parts:
        return set()
    query = parts[0] if len(parts) == 1 else union(*parts)
    found: set[int] = {int(i) for i in await ctx.session.scalars(query) if i is not None}
    return found - {actor.user_id}


def _family_candidates(places: frozenset[PupilPlace]) -> list[Select[Any]]:
    if not places:
        return []
    classes = [p.class_id for p in places]
    schools = [p.school_id for p in places]
    admins = (
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.school_id.in_(schools), UserRole.role == Role.ADMINISTRATOR.value)
    )
    teachers = select(TeachingAssignment.teacher_id).where(TeachingAssignment.class_id.in_(classes))
    leaders = select(SchoolClass.class_teacher_id).where(
        SchoolClass.id.in_(classes), SchoolClass.class_teacher_id.is_not(None)
    )
    return [admins, teachers, leaders]


async def _staff_candidates(ctx: Ctx, school_id: int) -> list[Select[Any]]:
    colleagues = (
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.school_id == school_id, UserRole.role.in_([r.value for r in STAFF_ROLES]))
    )
    class_ids = [
        c
        for c in await ctx.session.scalars(
            select(SchoolClass.id).where(SchoolClass.school_id == school_id)
        )
        if allowed(ctx.actor, Action.READ_CLASS_ROSTER, ClassTarget(school_id, c))
    ]
    if not class_ids:
        return [colleagues]
    pupils = select(Pupil.user_id).where(Pupil.class_id.in_(class_ids))
    parents = (
        select(Guardianship.guardian_id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(Pupil.class_id.in_(class_ids), Guardianship.status != "rejected")
    )
    return [colleagues, pupils, parents]


@dataclass
class _Person:
    target: UserTarget
    name: str
    taught: set[tuple[int, str]]  # (class id, subject name)
    led: set[int]
    own_class: int | None
    children: list[int]  # pupil ids


@dataclass
class _People:
    persons: dict[int, _Person]
    class_names: dict[int, str]
    pupil_names: dict[int, tuple[str, int]]  # pupil id → (name, class id)


async def _people(session: AsyncSession, ids: set[int]) -> _People:
    """The candidates as the policy sees them (the same record as ``load_user_target``:
    roles, school, own enrolment, children of any status but rejected, classes taught or
    led), in a handful of bulk queries, with what the form shows of them."""
    users = list(
        await session.execute(
            select(
                User.id, User.last_name, User.first_name, User.middle_name, User.school_id
            ).where(User.id.in_(ids), User.is_active)
        )
    )
    ids = {u.id for u in users}
    roles, own = await _roles(session, ids), await _own(session, ids)
    children, taught = await _children(session, ids), await _taught(session, ids)
    led = await _led(session, ids)
    persons: dict[int, _Person] = {}
    for u in users:
        his_roles = frozenset(roles[u.id])
        his_own = own.get(u.id) if Role.PUPIL in his_roles else None
        kids = children[u.id] if Role.PARENT in his_roles else set()
        target = UserTarget(
            user_id=u.id,
            roles=his_roles,
            school_id=u.school_id,
            family_places=frozenset(kids | ({his_own} if his_own else set())),
            taught_classes=frozenset(c for c, _ in taught[u.id]) | frozenset(led[u.id]),
        )
        name = full_name(u.last_name, u.first_name, u.middle_name)
        persons[u.id] = _Person(
            target,
            name,
            taught[u.id],
            led[u.id],
            his_own.class_id if his_own else None,
            sorted(k.pupil_id for k in kids),
        )
    return await _with_names(session, persons)


async def _roles(session: AsyncSession, ids: set[int]) -> dict[int, set[Role]]:
    out: dict[int, set[Role]] = defaultdict(set)
    rows = await session.execute(
        select(UserRole.user_id, UserRole.role).where(UserRole.user_id.in_(ids))
    )
    for user_id, role in rows:
        out[user_id].add(Role(role))
    return out


async def _own(session: AsyncSession, ids: set[int]) -> dict[int, PupilPlace]:
    rows = await session.execute(
        select(Pupil.user_id, Pupil.id, Pupil.school_id, Pupil.class_id).where(
            Pupil.user_id.in_(ids)
        )
    )
    return {r.user_id: PupilPlace(r.id, r.school_id, r.class_id) for r in rows}


async def _children(session: AsyncSession, ids: set[int]) -> dict[int, set[PupilPlace]]:
    out: dict[int, set[PupilPlace]] = defaultdict(set)
    rows = await session.execute(
        select(Guardianship.guardian_id, Pupil.id, Pupil.school_id, Pupil.class_id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(Guardianship.guardian_id.in_(ids), Guardianship.status != "rejected")
    )
    for r in rows:
        out[r.guardian_id].add(PupilPlace(r.id, r.school_id, r.class_id))
    return out


async def _taught(session: AsyncSession, ids: set[int]) -> dict[int, set[tuple[int, str]]]:
    out: dict[int, set[tuple[int, str]]] = defaultdict(set)
    rows = await session.execute(
        select(TeachingAssignment.teacher_id, TeachingAssignment.class_id, Subject.name)
        .join(Subject, Subject.id == TeachingAssignment.subject_id)
        .where(TeachingAssignment.teacher_id.in_(ids))
    )
    for teacher_id, class_id, subject in rows:
        out[teacher_id].add((class_id, subject))
    return out


async def _led(session: AsyncSession, ids: set[int]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    rows = await session.execute(
        select(SchoolClass.class_teacher_id, SchoolClass.id).where(
            SchoolClass.class_teacher_id.in_(ids)
        )
    )
    for teacher_id, class_id in rows:
        if teacher_id is not None:
            out[teacher_id].add(class_id)
    return out


async def _with_names(session: AsyncSession, persons: dict[int, _Person]) -> _People:
    class_ids = {c for p in persons.values() for c, _ in p.taught}
    class_ids |= {c for p in persons.values() for c in p.led}
    class_ids |= {p.own_class for p in persons.values() if p.own_class is not None}
    pupil_ids = {c for p in persons.values() for c in p.children}
    pupil_names: dict[int, tuple[str, int]] = {}
    if pupil_ids:
        for r in await session.execute(
            select(Pupil.id, Pupil.class_id, User.last_name, User.first_name)
            .join(User, User.id == Pupil.user_id)
            .where(Pupil.id.in_(pupil_ids))
        ):
            pupil_names[r.id] = (full_name(r.last_name, r.first_name), r.class_id)
            class_ids.add(r.class_id)
    class_names: dict[int, str] = {}
    if class_ids:
        class_names = dict(
            (r.id, r.name)
            for r in await session.execute(
                select(SchoolClass.id, SchoolClass.name).where(SchoolClass.id.in_(class_ids))
            )
        )
    return _People(persons, class_names, pupil_names)


def _group(target: UserTarget) -> str:
    if Role.ADMINISTRATOR in target.roles:
        return "Администрация"
    if target.roles & STAFF_ROLES:
        return "Учителя"
    if Role.PARENT in target.roles:
        return "Родители"
    return "Обучающиеся"


def _recipient(actor: Actor, p: _Person, people: _People) -> Recipient:
    """A candidate with a note: for a family, only what concerns its own classes."""
    mine = {pl.class_id for pl in actor.family_places} if not actor.is_staff else None
    names = people.class_names
    notes = [
        f"{subject} ({names.get(c, '?')})"
        for c, subject in sorted(p.taught, key=lambda t: (names.get(t[0], ""), t[1]))
        if mine is None or c in mine
    ]
    notes += [
        f"классный руководитель {names.get(c, '?')}"
        for c in sorted(p.led, key=lambda c: names.get(c, ""))
        if mine is None or c in mine
    ]
    if p.own_class is not None:
        notes.append(f"обучающийся {names.get(p.own_class, '?')}")
    kids = [people.pupil_names[k] for k in p.children if k in people.pupil_names]
    if kids:
        notes.append("родитель: " + ", ".join(f"{n} ({names.get(c, '?')})" for n, c in kids))
    return Recipient(p.target.user_id, p.name, _group(p.target), "; ".join(notes))


# --- the pupils conversations are about -----------------------------------------------------


async def pupil_labels(ctx: Ctx, pupil_ids: set[int]) -> dict[int, str]:
    """Names ("Surname Name, class") of those pupils the actor may read; the others are left out."""
    wanted = {i for i in pupil_ids if i is not None}
    if not wanted:
        return {}
    rows = await ctx.session.execute(
        select(
            Pupil.id,
            Pupil.school_id,
            Pupil.class_id,
            User.last_name,
            User.first_name,
            SchoolClass.name,
        )
        .join(User, User.id == Pupil.user_id)
        .join(SchoolClass, SchoolClass.id == Pupil.class_id)
        .where(Pupil.id.in_(wanted))
    )
    return {
        r.id: f"{full_name(r.last_name, r.first_name)}, {r.name}"
        for r in rows
        if allowed(ctx.actor, Action.READ_PUPIL, PupilTarget(r.school_id, r.class_id, r.id))
    }


# --- the question to the administrator ------------------------------------------------------


@dataclass(frozen=True)
class SchoolChoice:
    id: int
    name: str


async def question_schools(ctx: Ctx) -> list[SchoolChoice]:
    """The schools whose administration the actor may ask (docs/regulation.md, clause 6.1): a staff
    member's own, a family's children's (or the pupil's own)."""
    ids = {p.school_id for p in ctx.actor.family_places}
    if ctx.actor.school_id is not None:
        ids.add(ctx.actor.school_id)
    if not ids:
        return []
    rows = await ctx.session.execute(
        select(School.id, School.name).where(School.id.in_(ids)).order_by(School.name)
    )
    return [
        SchoolChoice(r.id, r.name)
        for r in rows
        if allowed(ctx.actor, Action.ASK_ADMINISTRATION, SchoolTarget(r.id))
    ]
