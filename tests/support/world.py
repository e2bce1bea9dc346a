"""A small, fully known test world, built through the core's own use cases.

Two schools. School A ("Школа А"), year 2025/2026 in quarters:
- classes 5А (class teacher ``ct_5a``) and 5Б (class teacher ``ct_5b``);
- subjects Математика and Русский язык;
- ``teacher_math`` teaches math in 5А and 5Б; ``ct_5a`` teaches Russian in 5А;
  ``ct_5b`` teaches Russian in 5Б; ``admin_a`` is the deputy director;
- pupils ``pupil_a1``, ``pupil_a2`` in 5А and ``pupil_b1`` in 5Б;
- parents: ``parent_a1`` of pupil_a1 (confirmed), ``parent_a2`` of pupil_a2 (confirmed),
  ``parent_b1`` of pupil_b1 (confirmed), ``parent_pending`` of pupil_a1 (pending).
School B ("Школа Б"): ``admin_b``, ``teacher_b`` (math in 7А), ``pupil_z1`` in 7А whose
parent is ``parent_z1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from diary_core import accounts, families, school
from diary_core.actors import load_actor
from diary_core.clock import Clock
from diary_core.context import Ctx
from diary_core.families import PersonData
from diary_core.policy import Actor
from diary_core.roles import Role
from diary_core.snils import make_snils


@dataclass
class SchoolIds:
    id: int
    year_id: int
    quarter_ids: list[int]
    year_period_id: int
    work_type_ids: dict[str, int]


@dataclass
class World:
    session: AsyncSession
    clock: Clock
    a: SchoolIds
    b: SchoolIds
    class_5a: int
    class_5b: int
    class_7a: int
    math_a: int
    russian_a: int
    math_b: int
    admin_a: int
    admin_b: int
    teacher_math: int
    ct_5a: int
    ct_5b: int
    teacher_b: int
    pupil_a1: int  # pupil ids (pupils.id)
    pupil_a2: int
    pupil_b1: int
    pupil_z1: int
    pupil_a1_user: int  # the pupils' accounts (users.id)
    pupil_b1_user: int
    pupil_z1_user: int
    parent_a1: int
    parent_a2: int
    parent_b1: int
    parent_pending: int
    parent_z1: int

    async def actor(self, user_id: int) -> Actor:
        return await load_actor(self.session, user_id)

    async def ctx(self, user_id: int | None = None) -> Ctx:
        """A context acting as ``user_id`` (the system operator when None)."""
        actor = Actor.system_actor() if user_id is None else await self.actor(user_id)
        return Ctx(self.session, actor, self.clock)


_snils_counter = iter(range(112_233_000, 112_299_999))


def next_snils() -> str:
    return make_snils(next(_snils_counter))


async def _school(ctx: Ctx, name: str) -> SchoolIds:
    sch = await school.create_school(ctx, name)
    year = await school.create_year(ctx, sch.id, "2025/2026", date(2025, 9, 1), date(2026, 5, 31))
    from sqlalchemy import select

    from diary_core.models import Period

    periods = list(
        await ctx.session.scalars(
            select(Period).where(Period.year_id == year.id).order_by(Period.kind, Period.number)
        )
    )
    wts = await school.create_work_types(ctx, sch.id)
    await school.create_bells(ctx, sch.id)
    return SchoolIds(
        id=sch.id,
        year_id=year.id,
        quarter_ids=[p.id for p in periods if p.kind == "quarter"],
        year_period_id=next(p.id for p in periods if p.kind == "year"),
        work_type_ids={w.name: w.id for w in wts},
    )


async def _staff(ctx: Ctx, school_id: int, last: str, first: str, *roles: Role) -> int:
    user = await accounts.create_staff(
        ctx, school_id, last_name=last, first_name=first, roles=roles or (Role.TEACHER,)
    )
    return user.id


async def _pupil(ctx: Ctx, class_id: int, last: str, first: str) -> tuple[int, int]:
    p = await families.enroll_pupil(
        ctx,
        class_id,
        PersonData(last, first, "Иванович", date(2014, 3, 1), next_snils()),
    )
    return p.id, p.user_id


async def _parent(ctx: Ctx, pupil_id: int, last: str, first: str, *, confirmed: bool) -> int:
    parent = await families.find_or_create_parent(
        ctx, PersonData(last, first, "Петровна", snils=next_snils())
    )
    await families.link_guardian(
        ctx,
        parent.id,
        pupil_id,
        source="roster" if confirmed else "esia",
        confirmed=confirmed,
    )
    return parent.id


async def build_world(session: AsyncSession, clock: Clock) -> World:
    ctx = Ctx(session, Actor.system_actor(), clock)
    a = await _school(ctx, "Школа А")
    b = await _school(ctx, "Школа Б")
    admin_a = await _staff(ctx, a.id, "Завучева", "Анна", Role.ADMINISTRATOR)
    admin_b = await _staff(ctx, b.id, "Директорова", "Вера", Role.ADMINISTRATOR)
    teacher_math = await _staff(ctx, a.id, "Числова", "Мария")
    ct_5a = await _staff(ctx, a.id, "Классова", "Ольга")
    ct_5b = await _staff(ctx, a.id, "Буквина", "Ирина")
    teacher_b = await _staff(ctx, b.id, "Чужова", "Елена")
    c5a = await school.create_class(ctx, a.id, a.year_id, "5А", ct_5a)
    c5b = await school.create_class(ctx, a.id, a.year_id, "5Б", ct_5b)
    c7a = await school.create_class(ctx, b.id, b.year_id, "7А")
    math_a = await school.create_subject(ctx, a.id, "Математика")
    russian_a = await school.create_subject(ctx, a.id, "Русский язык")
    math_b = await school.create_subject(ctx, b.id, "Математика")
    await school.assign_teacher(ctx, c5a.id, math_a.id, teacher_math)
    await school.assign_teacher(ctx, c5b.id, math_a.id, teacher_math)
    await school.assign_teacher(ctx, c5a.id, russian_a.id, ct_5a)
    await school.assign_teacher(ctx, c5b.id, russian_a.id, ct_5b)
    await school.assign_teacher(ctx, c7a.id, math_b.id, teacher_b)
    pa1, pa1_user = await _pupil(ctx, c5a.id, "Смирнов", "Артём")
    pa2, _ = await _pupil(ctx, c5a.id, "Кузнецова", "Дарья")
    pb1, pb1_user = await _pupil(ctx, c5b.id, "Попов", "Илья")
    pz1, pz1_user = await _pupil(ctx, c7a.id, "Далёкий", "Кирилл")
    world = World(
        session=session,
        clock=clock,
        a=a,
        b=b,
        class_5a=c5a.id,
        class_5b=c5b.id,
        class_7a=c7a.id,
        math_a=math_a.id,
        russian_a=russian_a.id,
        math_b=math_b.id,
        admin_a=admin_a,
        admin_b=admin_b,
        teacher_math=teacher_math,
        ct_5a=ct_5a,
        ct_5b=ct_5b,
        teacher_b=teacher_b,
        pupil_a1=pa1,
        pupil_a2=pa2,
        pupil_b1=pb1,
        pupil_z1=pz1,
        pupil_a1_user=pa1_user,
        pupil_b1_user=pb1_user,
        pupil_z1_user=pz1_user,
        parent_a1=await _parent(ctx, pa1, "Смирнова", "Елена", confirmed=True),
        parent_a2=await _parent(ctx, pa2, "Кузнецова", "Ирина", confirmed=True),
        parent_b1=await _parent(ctx, pb1, "Попова", "Анна", confirmed=True),
        parent_pending=await _parent(ctx, pa1, "Смирнов", "Олег", confirmed=False),
        parent_z1=await _parent(ctx, pz1, "Далёкая", "Нина", confirmed=True),
    )
    await session.commit()
    return world
