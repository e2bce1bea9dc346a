"""Pupils, their parents (legal representatives) and the guardianship links between them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, bindparam, select

from diary_core import audit
from diary_core.accounts import _person, add_role
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput, NotFound
from diary_core.models import Guardianship, Pupil, School, SchoolClass, User
from diary_core.policy import Action, ClassTarget, PupilTarget, SchoolTarget
from diary_core.roles import Role
from diary_core.snils import normalize_snils

GUARDIANSHIP_SOURCES = ("roster", "class_teacher", "esia")


@dataclass(frozen=True)
class PersonData:
    """A person as a roster or the portal describes him."""

    last_name: str
    first_name: str
    middle_name: str = ""
    birth_date: date | None = None
    snils: str | None = None
    email: str = ""
    phone: str = ""


async def enroll_pupil(ctx: Ctx, class_id: int, person: PersonData) -> Pupil:
    """A pupil in a class: the administrator's act (or the roster import's)."""
    cls = await ctx.session.get(SchoolClass, class_id)
    if cls is None:
        raise NotFound("класс не найден")
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(cls.school_id))
    user = await _person(
        ctx,
        last_name=person.last_name,
        first_name=person.first_name,
        middle_name=person.middle_name,
        school_id=cls.school_id,
        snils=person.snils,
        birth_date=person.birth_date,
    )
    await add_role(ctx, user.id, Role.PUPIL)
    pupil = Pupil(user_id=user.id, school_id=cls.school_id, class_id=cls.id)
    ctx.session.add(pupil)
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "pupil.enroll",
        ctx.now(),
        school_id=cls.school_id,
        pupil_id=pupil.id,
        object_type="pupil",
        object_id=pupil.id,
    )
    return pupil


async def get_pupil(ctx: Ctx, pupil_id: int) -> Pupil:
    """A pupil the actor may see; another family's pupil is "not found", like a missing one."""
    pupil = await ctx.session.get(Pupil, pupil_id)
    if pupil is None:
        raise NotFound("обучающийся не найден")
    ctx.require(Action.READ_PUPIL, PupilTarget(pupil.school_id, pupil.class_id, pupil.id))
    return pupil


async def find_or_create_parent(ctx: Ctx, person: PersonData) -> User:
    """The parent with this SNILS if the diary knows him, else a new parent (no login yet)."""
    if person.snils:
        norm = normalize_snils(person.snils)
        existing = await ctx.session.scalar(select(User).where(User.snils == norm))
        if existing is not None:
            await add_role(ctx, existing.id, Role.PARENT)
            return existing
    user = await _person(
        ctx,
        last_name=person.last_name,
        first_name=person.first_name,
        middle_name=person.middle_name,
        school_id=None,
        snils=person.snils,
        email=person.email,
        phone=person.phone,
    )
    await add_role(ctx, user.id, Role.PARENT)
    return user


async def link_guardian(
    ctx: Ctx, guardian_id: int, pupil_id: int, *, source: str, confirmed: bool
) -> Guardianship:
    """Link a parent to a pupil. Confirmed links come from the roster (administrator) or the
    class teacher; anything else (an ESIA match the roster does not back) waits as pending."""
    if source not in GUARDIANSHIP_SOURCES:
        raise InvalidInput(f"неизвестный источник связи «{source}»")
    pupil = await ctx.session.get(Pupil, pupil_id)
    if pupil is None:
        raise NotFound("обучающийся не найден")
    place = PupilTarget(pupil.school_id, pupil.class_id, pupil.id)
    if source == "roster":
        ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(pupil.school_id))
    elif source == "class_teacher":
        ctx.require(Action.CONFIRM_GUARDIANSHIP, place)
    elif confirmed:
        raise InvalidInput(
            "связь из ЕСИА без подтверждения списком класса ждёт классного руководителя"
        )
    existing = await ctx.session.scalar(
        select(Guardianship).where(
            Guardianship.guardian_id == guardian_id, Guardianship.pupil_id == pupil_id
        )
    )
    now = ctx.now()
    actor_id = None if ctx.actor.system else ctx.actor.user_id
    if existing is not None:
        if confirmed and existing.status != "confirmed":
            existing.status, existing.source = "confirmed", source
            existing.updated_at, existing.updated_by_id = now, actor_id
        return existing
    link = Guardianship(
        guardian_id=guardian_id,
        pupil_id=pupil_id,
        status="confirmed" if confirmed else "pending",
        source=source,
        created_at=now,
        updated_at=now,
        created_by_id=actor_id,
        updated_by_id=actor_id,
    )
    ctx.session.add(link)
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "guardianship.create",
        now,
        school_id=pupil.school_id,
        pupil_id=pupil.id,
        object_type="guardianship",
        object_id=link.id,
        status=link.status,
        source=source,
    )
    return link


async def decide_guardianship(ctx: Ctx, guardianship_id: int, *, accept: bool) -> Guardianship:
    """The class teacher confirms or rejects a pending link of a pupil of his class."""
    link = await ctx.session.get(Guardianship, guardianship_id)
    if link is None:
        raise NotFound("связь не найдена")
    pupil = await ctx.session.get(Pupil, link.pupil_id)
    assert pupil is not None
    ctx.require(Action.CONFIRM_GUARDIANSHIP, PupilTarget(pupil.school_id, pupil.class_id, pupil.id))
    if link.status != "pending":
        raise Conflict("связь уже рассмотрена")
    link.status = "confirmed" if accept else "rejected"
    link.updated_at = ctx.now()
    link.updated_by_id = ctx.actor.user_id
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "guardianship.confirm" if accept else "guardianship.reject",
        ctx.now(),
        school_id=pupil.school_id,
        pupil_id=pupil.id,
        object_type="guardianship",
        object_id=link.id,
    )
    return link


@dataclass(frozen=True)
class PendingLink:
    guardianship_id: int
    guardian_name: str
    pupil_name: str
    source: str


async def pending_guardianships(ctx: Ctx, class_id: int) -> list[PendingLink]:
    cls = await ctx.session.get(SchoolClass, class_id)
    if cls is None:
        raise NotFound("класс не найден")
    ctx.require(Action.READ_CLASS_ROSTER, ClassTarget(cls.school_id, cls.id))
    parent = User.__table__.alias("parent")
    child = User.__table__.alias("child")
    rows = await ctx.session.execute(
        select(
            Guardianship.id,
            Guardianship.source,
            parent.c.last_name.label("pl"),
            parent.c.first_name.label("pf"),
            child.c.last_name.label("cl"),
            child.c.first_name.label("cf"),
        )
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .join(parent, parent.c.id == Guardianship.guardian_id)
        .join(child, child.c.id == Pupil.user_id)
        .where(Pupil.class_id == class_id, Guardianship.status == "pending")
        .order_by(Guardianship.id)
    )
    return [PendingLink(r.id, f"{r.pl} {r.pf}", f"{r.cl} {r.cf}", r.source) for r in rows]


@dataclass(frozen=True)
class FamilyPupil:
    pupil_id: int
    full_name: str
    class_id: int
    class_name: str
    school_id: int
    school_name: str


async def my_pupils(ctx: Ctx) -> list[FamilyPupil]:
    """The pupils whose diary the actor reads: his confirmed children, or himself."""
    ids = sorted(p.pupil_id for p in ctx.actor.family_places)
    if not ids:
        return []
    rows = await ctx.session.execute(_MY_PUPILS, {"ids": ids})
    return [
        FamilyPupil(r[0], " ".join(p for p in r[1:4] if p), r[4], r[5], r[6], r[7]) for r in rows
    ]


def _my_pupils_query() -> Select[Any]:
    p, u, c, s = Pupil.__table__.c, User.__table__.c, SchoolClass.__table__.c, School.__table__.c
    return (
        select(p.id, u.last_name, u.first_name, u.middle_name, c.id, c.name, s.id, s.name)
        .join(User.__table__, u.id == p.user_id)
        .join(SchoolClass.__table__, c.id == p.class_id)
        .join(School.__table__, s.id == p.school_id)
        .where(p.id.in_(bindparam("ids", expanding=True)))
        .order_by(u.first_name, p.id)
    )


_MY_PUPILS = _my_pupils_query()
