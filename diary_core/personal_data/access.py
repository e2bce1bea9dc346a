"""Whose data a personal-data export covers, and who may have it.

:func:`open_export` decides the export's scope, checks access and records the export in the
audit log; :func:`school_people` lists whom a school's administrator may export the data of.

Who may export: the person themself (a family account: pupil or parent), the administrator of
a school the person belongs to (a written request), and the server's operator. An
administrator's export holds only that school's pupils and conversations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from diary_core import audit
from diary_core.actors import load_actor
from diary_core.context import Ctx
from diary_core.errors import InvalidInput, NotFound
from diary_core.models import Guardianship, Pupil, School, SchoolClass, User, UserRole
from diary_core.personal_data.person import family_links, profile
from diary_core.personal_data.rows import full_name
from diary_core.policy import (
    Action,
    Actor,
    PupilPlace,
    PupilTarget,
    SchoolTarget,
    allowed,
)
from diary_core.roles import ROLE_TITLES, Role


@dataclass(frozen=True)
class PupilScope:
    """A pupil the export covers, with the words a reader needs."""

    place: PupilPlace
    user_id: int
    name: str
    school: str
    class_name: str


@dataclass(frozen=True)
class ExportScope:
    """Whose data an export covers and what of it: decided (and audited) by :func:`open_export`."""

    subject_id: int
    person: dict[str, Any]
    links: list[dict[str, Any]]
    pupils: list[PupilScope]
    #: conversations of these schools only (None: every school the person wrote in)
    schools: frozenset[int] | None
    #: the subject's own actor: the announcements addressed to him
    subject_actor: Actor
    exported_at: datetime
    requested_by: dict[str, Any] = field(default_factory=dict)
    #: every school of the person is in reach: notifications about no pupil (messages,
    #: announcements) are included; else only those about the pupils in the export
    whole: bool = True


async def _family_places(ctx: Ctx, user_id: int) -> list[PupilPlace]:
    """The pupil the account is, and the pupils it is the confirmed parent of."""
    own = select(Pupil.id, Pupil.school_id, Pupil.class_id).where(Pupil.user_id == user_id)
    kids = (
        select(Pupil.id, Pupil.school_id, Pupil.class_id)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .where(Guardianship.guardian_id == user_id, Guardianship.status == "confirmed")
    )
    rows = await ctx.session.execute(own.union(kids))
    return sorted((PupilPlace(*r) for r in rows), key=lambda p: p.pupil_id)


def _may_export(actor: Actor, subject_id: int, schools: set[int]) -> frozenset[int] | None:
    """The schools whose data the actor may export for the subject (None: all of them);
    :class:`NotFound` when none (another family's account looks like a missing one)."""
    if actor.system or actor.user_id == subject_id:
        return None
    managed = frozenset(s for s in schools if allowed(actor, Action.MANAGE_SCHOOL, SchoolTarget(s)))
    if not managed:
        raise NotFound("учётная запись не найдена")
    return managed


async def open_export(ctx: Ctx, subject_id: int) -> ExportScope:
    """Whose data the export of ``subject_id``'s data covers; checks access and records the
    export in the audit log (in the caller's transaction: the caller commits before it sends
    a byte, so an export that was served was audited)."""
    user = await ctx.session.get(User, subject_id)
    if user is None:
        raise NotFound("учётная запись не найдена")
    places = await _family_places(ctx, subject_id)
    schools = {p.school_id for p in places}
    if user.school_id is not None:
        schools.add(user.school_id)
    managed = _may_export(ctx.actor, subject_id, schools)
    if ctx.actor.user_id == subject_id and not ctx.actor.system:
        # the person themself: through the policy's own reach (a family reads its pupils)
        places = [
            p
            for p in places
            if allowed(
                ctx.actor, Action.READ_PUPIL, PupilTarget(p.school_id, p.class_id, p.pupil_id)
            )
        ]
    elif managed is not None:
        places = [p for p in places if p.school_id in managed]
    for p in places:
        ctx.require(Action.READ_PUPIL, PupilTarget(p.school_id, p.class_id, p.pupil_id))
    pupils = await _pupil_scopes(ctx, places)
    person = await profile(ctx, user)
    links = await family_links(ctx, subject_id, managed)
    subject_actor = (
        await load_actor(ctx.session, subject_id)
        if user.is_active
        else Actor(subject_id, frozenset())
    )
    by_self = ctx.actor.user_id == subject_id and not ctx.actor.system
    requested_by = {
        "kind": "self" if by_self else "system" if ctx.actor.system else "administrator",
        "user_id": None if ctx.actor.system else ctx.actor.user_id,
    }
    audit.record(
        ctx.session,
        ctx.actor,
        "personal_data.export",
        ctx.now(),
        school_id=min(schools) if schools else None,
        object_type="user",
        object_id=subject_id,
        pupils=[p.place.pupil_id for p in pupils],
        requested_by=requested_by["kind"],
    )
    await ctx.session.flush()
    return ExportScope(
        subject_id=subject_id,
        person=person,
        links=links,
        pupils=pupils,
        schools=managed,
        subject_actor=subject_actor,
        exported_at=ctx.now(),
        requested_by=requested_by,
        whole=managed is None or schools <= managed,
    )


async def _pupil_scopes(ctx: Ctx, places: list[PupilPlace]) -> list[PupilScope]:
    if not places:
        return []
    by_id = {p.pupil_id: p for p in places}
    rows = await ctx.session.execute(
        select(Pupil.id, Pupil.user_id, User.last_name, User.first_name, User.middle_name)
        .add_columns(School.name, SchoolClass.name)
        .join(User, User.id == Pupil.user_id)
        .join(School, School.id == Pupil.school_id)
        .join(SchoolClass, SchoolClass.id == Pupil.class_id)
        .where(Pupil.id.in_(by_id))
        .order_by(Pupil.id)
    )
    return [
        PupilScope(by_id[pid], uid, full_name(last, first, middle), school, cls)
        for pid, uid, last, first, middle, school, cls in rows
    ]


@dataclass(frozen=True)
class PersonChoice:
    user_id: int
    name: str
    roles: tuple[str, ...]  # Russian titles


#: At most this many people are listed for one search.
PEOPLE_LIMIT = 50


async def school_people(ctx: Ctx, school_id: int, query: str) -> list[PersonChoice]:
    """The people of a school whose surname starts with ``query`` (staff, pupils, the
    pupils' parents): whom the administrator may export the data of."""
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school_id))
    needle = query.strip()
    if not needle:
        raise InvalidInput("укажите начало фамилии")
    pupils = select(Pupil.user_id).where(Pupil.school_id == school_id)
    parents = (
        select(Guardianship.guardian_id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(Pupil.school_id == school_id)
    )
    users = list(
        await ctx.session.scalars(
            select(User)
            .where(
                or_(User.school_id == school_id, User.id.in_(pupils), User.id.in_(parents)),
                User.last_name.istartswith(needle, autoescape=True),
            )
            .order_by(User.last_name, User.first_name, User.id)
            .limit(PEOPLE_LIMIT)
        )
    )
    roles: dict[int, list[str]] = {}
    if users:
        for uid, role in await ctx.session.execute(
            select(UserRole.user_id, UserRole.role)
            .where(UserRole.user_id.in_([u.id for u in users]))
            .order_by(UserRole.role)
        ):
            roles.setdefault(uid, []).append(ROLE_TITLES[Role(role)])
    return [
        PersonChoice(
            u.id, full_name(u.last_name, u.first_name, u.middle_name), tuple(roles.get(u.id, []))
        )
        for u in users
    ]
