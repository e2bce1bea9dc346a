"""The core at district scale (issue 2): imports and the two hot reads, on PostgreSQL.

A generated district of ``--schools`` schools (default 20 × 500 pupils, a whole year of marks:
over 1,000,000) lives in a database ``ediary_bench_core_<random>`` on 127.0.0.1:5432. Into that
district the bench imports a roster and a marks file for one more school (rows/s), then times,
each call in its own session like a request:

- ``pupil_report.pupil_marks`` for one quarter, as the pupil's confirmed parent;
- ``journal.gradebook_grid`` for one quarter, as the teacher of that class and subject
  (a staff read writes an audit row, committed as a request would).

The quarter is the year's 3rd, the longest (``--quarter N`` for another). It prints p50/p99/mean
beside the targets and, per request, the SQL statements sent and this process's CPU time (both
robust to other processes' load); it asserts nothing about time.

    python bench/bench_core.py                   # generate (~5 min), measure, keep the database
    python bench/bench_core.py --keep DBNAME     # measure again on a generated database
    python bench/bench_core.py --keep DBNAME --drop   # ... and drop it afterwards
    python bench/bench_core.py --drop            # generate, measure, drop
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import journal, pupil_report, school
from diary_core.actors import load_actor
from diary_core.clock import FixedClock
from diary_core.context import Ctx
from diary_core.db import create_engine, session_factory
from diary_core.demo.generator import generate_district
from diary_core.imports import MARKS_COLUMNS, ROSTER_COLUMNS, import_marks, import_roster
from diary_core.models import (
    AcademicYear,
    Guardianship,
    Lesson,
    Mark,
    Period,
    Pupil,
    School,
    TeachingAssignment,
    User,
)
from diary_core.policy import Actor
from diary_core.snils import make_snils
from gateway.storage.schema import upgrade

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
NOW = datetime(2026, 5, 25, 12, 0, tzinfo=UTC)  # near the end of 2025/26: the year's marks
CLOCK = FixedClock(NOW)
EXTRA_SCHOOL = "Бенчмарк-школа (импорт)"
TARGETS = {
    "roster import": ("rows/s", ">= 2,000"),
    "marks import": ("rows/s", ">= 2,000"),
    "pupil_marks": ("p99 ms", "<= 10"),
    "gradebook_grid": ("p99 ms", "<= 30"),
}


def pg_url(name: str) -> str:
    return f"postgresql+asyncpg://{PG['user']}@{PG['host']}:{PG['port']}/{name}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(database="postgres", **PG)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def bench_imports() -> ModuleType:
    """bench/bench_imports.py as a module: its deterministic CSV generators."""
    path = Path(__file__).with_name("bench_imports.py")
    spec = importlib.util.spec_from_file_location("bench_imports", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- the district


async def generate(engine: AsyncEngine, schools: int, pupils: int) -> None:
    await upgrade(engine)
    started = time.perf_counter()
    done = 0

    def progress(what: str, n: int) -> None:
        nonlocal done
        if what == "schools":
            done += n
            print(f"  generated {done}/{schools} schools, {time.perf_counter() - started:.0f} s")

    await generate_district(
        engine, schools=schools, pupils_per_school=pupils, clock=CLOCK, year=2025,
        progress=progress,
    )  # fmt: skip
    print(f"district generated in {time.perf_counter() - started:.0f} s")


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with session_factory(engine)() as session:
        return {
            model.__tablename__: int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in (School, Pupil, User, Lesson, Mark)
        }


# ----------------------------------------------------------------------------- imports


async def setup_extra_school(engine: AsyncEngine, bi: ModuleType) -> int:
    """One more school with the 2025/26 year, its classes, subjects and work types."""
    async with session_factory(engine)() as session:
        ctx = Ctx(session, Actor.system_actor(), CLOCK)
        sch = await school.create_school(ctx, f"{EXTRA_SCHOOL} {uuid.uuid4().hex[:6]}")
        year = await school.create_year(
            ctx, sch.id, "2025/2026", date(2025, 9, 1), date(2026, 5, 31)
        )
        await school.create_work_types(ctx, sch.id)
        for name in bi.classes():
            await school.create_class(ctx, sch.id, year.id, name)
        for name in bi.SUBJECTS:
            await school.create_subject(ctx, sch.id, name)
        await session.commit()
        return sch.id


async def timed_import(
    engine: AsyncEngine, run: Callable[[Ctx], Awaitable[Any]]
) -> tuple[Any, float]:
    async with session_factory(engine)() as session:
        ctx = Ctx(session, Actor.system_actor(), CLOCK)
        started = time.perf_counter()
        report = await run(ctx)
        await session.commit()
        return report, time.perf_counter() - started


async def fresh_people(
    engine: AsyncEngine, bi: ModuleType, pupils: int
) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """bench_imports' roster with SNILS of its own for this run: a rerun on a kept district
    imports another school, whose people must not be those of an earlier run."""
    async with session_factory(engine)() as session:
        runs = int(
            await session.scalar(
                select(func.count()).select_from(School).where(School.name.like(f"{EXTRA_SCHOOL}%"))
            )
            or 0
        )
    rows, enrolled = bi.roster_rows(pupils)
    numbers: dict[str, str] = {}

    def renumber(snils: str) -> str:
        if snils and snils not in numbers:
            numbers[snils] = make_snils(800_000_000 + runs * 100_000 + len(numbers))
        return numbers.get(snils, "")

    for row in rows:
        row[5], row[9] = renumber(row[5]), renumber(row[9])
    return rows, [(cls, renumber(snils)) for cls, snils in enrolled]


async def imports(engine: AsyncEngine, pupils: int, marks: int) -> dict[str, float]:
    bi = bench_imports()
    roster_rows, enrolled = await fresh_people(engine, bi, pupils)
    roster = bi.to_csv(ROSTER_COLUMNS, roster_rows)
    mark_file = bi.to_csv(MARKS_COLUMNS, bi.marks_rows(enrolled, marks))
    school_id = await setup_extra_school(engine, bi)
    out: dict[str, float] = {}
    for what, rows, run in (
        ("roster import", len(roster_rows),
         lambda ctx: import_roster(ctx, school_id, roster, file_name="roster.csv")),
        ("marks import", marks,
         lambda ctx: import_marks(ctx, school_id, mark_file, file_name="marks.csv")),
    ):  # fmt: skip
        _, seconds = await timed_import(engine, run)
        out[what] = rows / seconds
        print(f"  {what:14} {rows:>8,} rows {seconds:7.2f} s {rows / seconds:>9,.0f} rows/s")
    return out


# ----------------------------------------------------------------------------- reads


async def quarter_of_today(engine: AsyncEngine, number: int = 3) -> dict[int, Period]:
    """Per school: quarter ``number`` of the generated year; the 3rd (the default) is the
    longest and holds the most marks. Only the year's quarters count: its ``year`` period,
    which starts with the 1st quarter, is not one of them."""
    today = NOW.date()
    async with session_factory(engine)() as session:
        periods = await session.scalars(
            select(Period)
            .join(AcademicYear, AcademicYear.id == Period.year_id)
            .where(
                AcademicYear.starts_on <= today,
                AcademicYear.ends_on >= today,
                Period.kind == "quarter",
            )
            .order_by(Period.starts_on)
        )
        by_school: dict[int, list[Period]] = {}
        for p in periods:
            by_school.setdefault(p.school_id, []).append(p)
    return {sid: ps[min(number, len(ps)) - 1] for sid, ps in by_school.items()}


DISTRICT = ~School.name.like(f"{EXTRA_SCHOOL}%")  # the generated schools, not earlier imports


async def pupil_cases(engine: AsyncEngine, rng: random.Random, n: int) -> list[tuple[int, int]]:
    """(parent user id, pupil id, school id) of random confirmed guardianships in the generated
    schools (not in schools imported by earlier runs: reruns read the same pupils)."""
    async with session_factory(engine)() as session:
        rows = (
            await session.execute(
                select(Guardianship.guardian_id, Guardianship.pupil_id, Pupil.school_id)
                .join(Pupil, Pupil.id == Guardianship.pupil_id)
                .join(School, School.id == Pupil.school_id)
                .where(Guardianship.status == "confirmed", DISTRICT)
                .order_by(Guardianship.pupil_id, Guardianship.guardian_id)
            )
        ).all()
    return [tuple(r) for r in rng.sample(rows, n)]  # type: ignore[misc]


async def grid_cases(
    engine: AsyncEngine, rng: random.Random, n: int
) -> list[tuple[int, int, int, int]]:
    """(teacher id, class id, subject id, school id) of random teaching assignments."""
    async with session_factory(engine)() as session:
        rows = (
            await session.execute(
                select(
                    TeachingAssignment.teacher_id,
                    TeachingAssignment.class_id,
                    TeachingAssignment.subject_id,
                    TeachingAssignment.school_id,
                )
                .join(School, School.id == TeachingAssignment.school_id)
                .where(DISTRICT)
                .order_by(TeachingAssignment.id)
            )
        ).all()
    return [tuple(r) for r in rng.choices(rows, k=n)]  # type: ignore[misc]


async def read_pupil(engine: AsyncEngine, quarters: dict[int, Period], case: Any) -> Timed:
    """One request: a session, the parent as actor, the quarter's report."""
    parent_id, pupil_id, school_id = case
    quarter = quarters[school_id]
    async with session_factory(engine)() as session:
        actor = await load_actor(session, parent_id)
        started = time.perf_counter()
        report = await pupil_report.pupil_marks(
            Ctx(session, actor, CLOCK), pupil_id, quarter.starts_on, quarter.ends_on
        )
        call = time.perf_counter() - started
        await session.commit()
        return sum(len(s.marks) for s in report.subjects), call


async def read_grid(engine: AsyncEngine, quarters: dict[int, Period], case: Any) -> Timed:
    """One request: a session, the teacher as actor, the grid, the audit row committed."""
    teacher_id, class_id, subject_id, school_id = case
    async with session_factory(engine)() as session:
        actor = await load_actor(session, teacher_id)
        started = time.perf_counter()
        grid = await journal.gradebook_grid(
            Ctx(session, actor, CLOCK), class_id, subject_id, quarters[school_id].id
        )
        call = time.perf_counter() - started
        await session.commit()  # the audit row of a staff read
        return sum(len(r.marks) for r in grid.rows), call


Timed = tuple[int, float]  # marks read, seconds inside the core function alone
Read = Callable[[AsyncEngine, dict[int, Period], Any], Awaitable[Timed]]


class Statements:
    """Counts the SQL statements an engine sends (BEGIN, COMMIT and the pool's liveness
    check are not statements the code writes, and are not counted)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


@dataclass
class Measured:
    latencies: list[float]  # ms, each request: session + actor + call + commit
    calls: list[float]  # ms, the core call alone
    marks: int  # marks read in all
    statements: int  # SQL statements in all
    cpu: float  # s of this process's CPU in all (robust to other processes' load)


async def time_reads(
    engine: AsyncEngine,
    quarters: dict[int, Period],
    read: Read,
    cases: list[Any],
    warm: int,
    statements: Statements,
) -> Measured:
    """Request latencies (session + actor + call + commit) and the core call's alone, in ms."""
    for case in cases[:warm]:
        await read(engine, quarters, case)
    out = Measured([], [], 0, 0, 0.0)
    statements_before, cpu_before = statements.count, time.process_time()
    for case in cases[warm:]:
        started = time.perf_counter()
        n, call = await read(engine, quarters, case)
        out.latencies.append((time.perf_counter() - started) * 1000)
        out.calls.append(call * 1000)
        out.marks += n
    out.statements = statements.count - statements_before
    out.cpu = time.process_time() - cpu_before
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def reads(
    engine: AsyncEngine, calls: int, warm: int, seed: int, quarter: int
) -> dict[str, list[float]]:
    quarters = await quarter_of_today(engine, quarter)
    statements = Statements(engine)
    rng = random.Random(seed)
    out: dict[str, list[float]] = {}
    # As the server does after start-up (gateway/app.py): what generation and setup left on
    # the heap is not walked again by every full collection during the measured reads.
    gc.collect()
    gc.freeze()
    for what, read, cases in (
        ("pupil_marks", read_pupil, await pupil_cases(engine, rng, calls + warm)),
        ("gradebook_grid", read_grid, await grid_cases(engine, rng, calls + warm)),
    ):
        m = await time_reads(engine, quarters, read, cases, warm, statements)
        out[what] = m.latencies
        out[f"{what} (call only)"] = m.calls
        for label, values in ((what, m.latencies), ("  call only", m.calls)):
            print(
                f"  {label:14} {len(values)} calls: p50 {pct(values, 50):6.2f} ms  "
                f"p99 {pct(values, 99):6.2f} ms  mean {statistics.fmean(values):6.2f} ms  "
                f"max {max(values):6.2f} ms"
            )
        n = len(m.latencies)
        print(
            f"  {'':14} per request: {m.marks / n:.1f} marks, {m.statements / n:.1f} SQL "
            f"statements, {m.cpu / n * 1000:.2f} ms CPU of this process"
        )
    return out


def table(rates: dict[str, float], lat: dict[str, list[float]]) -> None:
    print()
    print(f"{'measure':27} {'figure':>30}   {'target':>18}")
    for what, rate in rates.items():
        unit, target = TARGETS[what]
        print(f"{what:27} {f'{rate:,.0f} {unit}':>30}   {f'{target} {unit}':>18}")
    for what, values in lat.items():
        unit, target = TARGETS[what.split(" ")[0]]
        figure = f"p50 {pct(values, 50):.2f} / p99 {pct(values, 99):.2f} ms"
        print(f"{what:27} {figure:>30}   {f'p99 {target} ms':>18}")


# ----------------------------------------------------------------------------- main


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", metavar="DBNAME", help="reuse a generated database")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--pupils", type=int, default=500, help="per school")
    parser.add_argument("--import-pupils", type=int, default=5_000)
    parser.add_argument("--import-marks", type=int, default=50_000)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--quarter", type=int, default=3, help="which quarter the reads ask for (default 3)"
    )
    parser.add_argument("--skip-imports", action="store_true")
    return parser.parse_args()


async def main() -> None:
    ns = parse()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    name = ns.keep or f"ediary_bench_core_{uuid.uuid4().hex[:10]}"
    if not ns.keep:
        await _admin(f'CREATE DATABASE "{name}"')
    print(f"database {name}")
    engine = create_engine(pg_url(name))
    try:
        if not ns.keep:
            await generate(engine, ns.schools, ns.pupils)
        print("rows:", ", ".join(f"{t} {n:,}" for t, n in (await counts(engine)).items()))
        if ns.generate_only:
            return
        rates = {} if ns.skip_imports else await imports(engine, ns.import_pupils, ns.import_marks)
        lat = await reads(engine, ns.calls, ns.warmup, ns.seed, ns.quarter)
        table(rates, lat)
    finally:
        await engine.dispose()
        if ns.drop:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"dropped {name}")
        else:
            print(f"kept {name}: rerun with --keep {name} [--drop]")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
