"""The demo-data generator: the demo school "МБОУ ООШ с. Руновка" with a realistic year of
school life and demo accounts, and a district of large schools for benchmarks.

Deterministic: every random choice comes from ``random.Random`` streams derived from the seed,
and every date from the academic year (given, or the one containing the clock's "today") —
never the global random or the wall clock. The same seed gives the same data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from random import Random
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from diary_core import audit
from diary_core.clock import Clock, SystemClock
from diary_core.context import Ctx
from diary_core.db import session_factory
from diary_core.demo.accounts import demo_people, esia_roles, set_passwords
from diary_core.demo.bulk import ProgressFn, Writer
from diary_core.demo.calendar import LOCAL, SchoolYear, local_dt, year_for
from diary_core.demo.identities import PersonRole
from diary_core.demo.journal import Journal
from diary_core.demo.life import Cast, Life
from diary_core.demo.plan import SchoolPlan, build_plan
from diary_core.demo.structure import Built, build_school, link_pending_parent
from diary_core.demo.summary import (
    DEMO_SCHOOL_NAME,
    DemoSummary,
    school_summary,
)
from diary_core.models import (
    AuditEvent,
    School,
)
from diary_core.policy import Actor

DEFAULT_SEED = 2025
DISTRICT_SCHOOL_NAME = "МБОУ СОШ № {number}"
#: The audit action of a generation; its details hold the ESIA persons and demo accounts.
GENERATE_EVENT = "demo.generate"


LOCK_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class DistrictSummary:
    created: list[str]
    skipped: list[str]
    rows: dict[str, int]  # table → rows written


def _rng(seed: int, school_index: int, stream: str) -> Random:
    return Random(f"{seed}/{school_index}/{stream}")


def _asof(now: datetime, year: SchoolYear) -> datetime:
    """The moment the data is "as of": now, or the evening of the last day of a past year."""
    return min(now, local_dt(year.ends_on, time(18, 0)))


def _system_ctx(session: AsyncSession, clock: Clock) -> Ctx:
    return Ctx(session, Actor.system_actor(), clock)


async def _exists(session: AsyncSession, name: str) -> int | None:
    return await session.scalar(select(School.id).where(School.name == name))


# ---------------------------------------------------------------- one school


async def _generate(
    session: AsyncSession,
    clock: Clock,
    plan: SchoolPlan,
    seed: int,
    *,
    demo: bool,
    progress: ProgressFn | None,
) -> tuple[Built, Writer, Life]:
    """Write one planned school and its year; the caller commits."""
    ctx = _system_ctx(session, clock)
    asof = _asof(clock.now(), plan.year)
    async with Writer(session, progress) as w:
        built = await build_school(ctx, w, plan)
        if plan.pending_parent is not None and plan.pending_pupil is not None:
            at = asof - timedelta(days=2, hours=5)
            await link_pending_parent(w, built, plan.pending_parent, plan.pending_pupil, at)
        rng = _rng(seed, plan.index, "life")
        life = Life(w, built, rng, asof, _cast(built, rng))
        planned = life.plan_changes()
        changes = {(p.change.class_index, p.change.day, p.change.number): p.change for p in planned}
        journal = Journal(
            w, built, _rng(seed, plan.index, "journal"), asof, changes,
            lock_after=LOCK_AFTER if demo else None,
        )  # fmt: skip
        await journal.run()
        await life.write_changes(planned)
        await life.write_conversations()
        await life.write_announcements(planned)
    return built, w, life


def _cast(b: Built, rng: Random) -> Cast:
    """The demo accounts' people in the demo school; in another school, their likes."""
    plan = b.plan
    focus = next((i for i, c in enumerate(plan.classes) if c.name == "5А"), 0)
    teacher = plan.demo_teacher
    if teacher is None:
        teacher = next(i for i, t in enumerate(plan.teachers) if t.specialty == "math")
    if plan.demo_family is not None:
        family = plan.families[plan.demo_family]
        assert family.father is not None
        child = next(p for p in family.pupils if plan.pupils[p].class_index == focus)
        return Cast(teacher, focus, b.user_id_of(family.father), child)
    with_parents = [p for p in plan.classes[focus].pupils if b.parents_of.get(p)]
    child = rng.choice(with_parents or plan.classes[focus].pupils)
    parent = b.parents_of.get(child, [b.deputy_id])[0]
    return Cast(teacher, focus, parent, child)


async def generate_demo_school(
    session: AsyncSession,
    clock: Clock,
    *,
    seed: int = DEFAULT_SEED,
    year: int | None = None,
    pupils_per_class: int | None = None,
    progress: ProgressFn | None = None,
) -> DemoSummary | None:
    """Generate the demo school into ``session`` (the caller commits); None, and nothing
    written, when a school of that name already exists.

    ``year`` is the calendar year the academic year starts in (default: the one containing
    the clock's today); ``pupils_per_class`` fixes the class size (default 8–15), for tests.
    """
    if await _exists(session, DEMO_SCHOOL_NAME):
        return None
    today = clock.now().astimezone(LOCAL).date()
    school_year = year_for(today, year)
    plan = build_plan(
        _rng(seed, 0, "plan"), school_index=0, name=DEMO_SCHOOL_NAME, year=school_year,
        pupils_per_class=pupils_per_class, demo=True,
    )  # fmt: skip
    built, _, life = await _generate(session, clock, plan, seed, demo=True, progress=progress)
    people = demo_people(built, life.cast)
    await set_passwords(session, people)
    roles = esia_roles(built, life.cast, _rng(seed, 0, "esia"))
    audit.record(
        session, Actor.system_actor(), GENERATE_EVENT, clock.now(), school_id=built.school_id,
        seed=seed, year=school_year.name, esia=[r.as_json() for r in roles],
        accounts={login: uid for login, (uid, _) in people.items()},
    )  # fmt: skip
    await session.flush()
    return await school_summary(session, built.school_id, roles, created=True)


def _factory(target: AsyncEngine | async_sessionmaker[AsyncSession]) -> Any:
    return session_factory(target) if isinstance(target, AsyncEngine) else target


async def generate_district(
    target: AsyncEngine | async_sessionmaker[AsyncSession],
    *,
    schools: int,
    pupils_per_school: int,
    seed: int = DEFAULT_SEED,
    clock: Clock | None = None,
    year: int | None = None,
    progress: ProgressFn | None = None,
) -> DistrictSummary:
    """``schools`` schools of about ``pupils_per_school`` pupils each, one transaction per
    school (memory stays flat); a school whose name exists already is skipped."""
    clock = clock or SystemClock()
    factory = _factory(target)
    school_year = year_for(clock.now().astimezone(LOCAL).date(), year)
    created: list[str] = []
    skipped: list[str] = []
    rows: dict[str, int] = {}
    for number in range(1, schools + 1):
        name = DISTRICT_SCHOOL_NAME.format(number=number)
        async with factory() as session:
            if await _exists(session, name):
                skipped.append(name)
                continue
            plan = build_plan(
                _rng(seed, number, "plan"), school_index=number, name=name, year=school_year,
                pupils_per_school=pupils_per_school,
            )  # fmt: skip
            built, w, _ = await _generate(session, clock, plan, seed, demo=False, progress=progress)
            audit.record(
                session, Actor.system_actor(), GENERATE_EVENT, clock.now(),
                school_id=built.school_id, seed=seed, year=school_year.name,
            )  # fmt: skip
            await session.commit()
        created.append(name)
        for table, n in w.counts.items():
            rows[table] = rows.get(table, 0) + n
        if progress is not None:
            progress("schools", 1)
    return DistrictSummary(created, skipped, rows)


async def ensure_demo_school(engine: AsyncEngine, clock: Clock) -> DemoSummary | None:
    """For ``ediary demo``: the demo school's summary, generating the school first when the
    database is empty. A database that holds other schools is not touched (None)."""
    async with session_factory(engine)() as session:
        school_id = await _exists(session, DEMO_SCHOOL_NAME)
        if school_id is not None:
            return await rebuild_summary(session, school_id)
        if await session.scalar(select(School.id).limit(1)) is not None:
            return None
        summary = await generate_demo_school(session, clock)
        await session.commit()
        return summary


async def rebuild_summary(session: AsyncSession, school_id: int) -> DemoSummary:
    """The summary of a demo school generated earlier, from the database: the ESIA persons
    from the generation's audit event, the accounts by their logins."""
    details = await session.scalar(
        select(AuditEvent.details)
        .where(AuditEvent.action == GENERATE_EVENT, AuditEvent.school_id == school_id)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    raw = (details or {}).get("esia", [])
    roles = [PersonRole.from_json(r) for r in raw] if isinstance(raw, list) else []
    return await school_summary(session, school_id, roles, created=False)
