"""Roster and marks import throughput on PostgreSQL (and SQLite for reference).

Generates, deterministically and in memory, a roster of ≥ 20,000 rows and a marks file of
≥ 200,000 rows for one school, imports them into a fresh database, and prints rows/s for the
first import and for a re-import of the same file (which must change nothing). PostgreSQL gets
its own database ``ediary_bench_imports_<random>`` on 127.0.0.1:5432, dropped afterwards.

    python bench/bench_imports.py [--pupils 12000] [--marks 200000] [--skip-sqlite]

Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import school
from diary_core.clock import FixedClock
from diary_core.context import Ctx
from diary_core.db import create_engine, session_factory
from diary_core.grading import MARK_VALUES
from diary_core.imports import MARKS_COLUMNS, ROSTER_COLUMNS, import_marks, import_roster
from diary_core.policy import Actor
from diary_core.snils import make_snils
from gateway.storage.schema import upgrade

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
NOW = datetime(2025, 10, 15, 10, 0, tzinfo=UTC)
LETTERS = "АБВГДЕЖЗИК"
SUBJECTS = (
    "Русский язык",
    "Литература",
    "Математика",
    "Информатика",
    "История",
    "Обществознание",
    "География",
    "Биология",
    "Физика",
    "Химия",
    "Английский язык",
    "Физическая культура",
)
LAST = ("Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов")
FIRST_M = ("Артём", "Максим", "Иван", "Михаил", "Даниил", "Кирилл", "Егор", "Андрей")
FIRST_F = ("Анна", "Мария", "Дарья", "Алиса", "Полина", "Виктория", "Софья", "Ева")


def classes() -> list[str]:
    return [f"{g}{letter}" for g in range(1, 12) for letter in LETTERS]


def _person(rng: random.Random, female: bool) -> tuple[str, str, str]:
    last = rng.choice(LAST) + ("а" if female else "")
    first = rng.choice(FIRST_F if female else FIRST_M)
    middle = rng.choice((("Сергеевич", "Сергеевна"), ("Олегович", "Олеговна")))[female]
    return last, first, middle


def roster_rows(pupils: int, seed: int = 1) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """Rows of the roster, and (class, SNILS) of each pupil. Families of one or two children;
    most pupils have two parents, some one, some none."""
    rng = random.Random(seed)
    names = classes()
    rows: list[list[str]] = []
    enrolled: list[tuple[str, str]] = []
    next_parent = 500_000_000
    i = 0
    while i < pupils:
        kids = min(rng.choice((1, 1, 2)), pupils - i)
        kind = rng.random()
        parents = []
        for female in (True, False)[: 2 if kind < 0.8 else (1 if kind < 0.9 else 0)]:
            last, first, middle = _person(rng, female)
            snils = make_snils(next_parent)
            next_parent += 1
            parents.append([last, first, middle, snils, f"p{next_parent}@example.ru", ""])
        for _ in range(kids):
            female = rng.random() < 0.5
            cls = names[i % len(names)]
            born = date(2008 + 11 - int(cls[:-1]), 1, 1) + timedelta(days=rng.randrange(365))
            snils = make_snils(400_000_000 + i)
            pupil = [cls, *_person(rng, female), born.strftime("%d.%m.%Y"), snils]
            enrolled.append((cls, snils))
            rows.extend([*pupil, *p] for p in parents or [["", "", "", "", "", ""]])
            i += 1
    return rows, enrolled


def marks_rows(enrolled: list[tuple[str, str]], count: int, seed: int = 2) -> list[list[str]]:
    rng = random.Random(seed)
    values = list(MARK_VALUES)[:5]
    types = [name for name, _ in school.DEFAULT_WORK_TYPES]
    start = date(2025, 9, 1)
    rows = []
    for _ in range(count):
        cls, snils = rng.choice(enrolled)
        day = start + timedelta(days=rng.randrange((NOW.date() - start).days + 1))  # not future
        weight = str(rng.choice((1, 2))) if rng.random() < 0.1 else ""
        rows.append(
            [cls, rng.choice(SUBJECTS), snils, day.isoformat(), rng.choice(values),
             rng.choice(types), weight, ""]
        )  # fmt: skip
    return rows


def to_csv(columns: tuple[str, ...], rows: list[list[str]]) -> bytes:
    lines = [",".join(columns), *(",".join(r) for r in rows)]
    return ("\n".join(lines) + "\n").encode()


async def setup_school(engine: AsyncEngine) -> int:
    async with session_factory(engine)() as session:
        ctx = Ctx(session, Actor.system_actor(), FixedClock(NOW))
        sch = await school.create_school(ctx, "Бенчмарк-школа")
        year = await school.create_year(
            ctx, sch.id, "2025/2026", date(2025, 9, 1), date(2026, 5, 31)
        )
        await school.create_work_types(ctx, sch.id)
        for name in classes():
            await school.create_class(ctx, sch.id, year.id, name)
        for name in SUBJECTS:
            await school.create_subject(ctx, sch.id, name)
        await session.commit()
        return sch.id


Importer = Callable[[Ctx, int, bytes], Awaitable[Any]]


async def timed(
    engine: AsyncEngine, school_id: int, run: Importer, data: bytes
) -> tuple[Any, float]:
    async with session_factory(engine)() as session:
        ctx = Ctx(session, Actor.system_actor(), FixedClock(NOW))
        started = time.perf_counter()
        report = await run(ctx, school_id, data)
        await session.commit()
        return report, time.perf_counter() - started


async def bench(label: str, url: str, roster: bytes, marks: bytes, sizes: tuple[int, int]) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        school_id = await setup_school(engine)

        async def roster_run(ctx: Ctx, sid: int, data: bytes) -> Any:
            return await import_roster(ctx, sid, data, file_name="roster.csv")

        async def marks_run(ctx: Ctx, sid: int, data: bytes) -> Any:
            return await import_marks(ctx, sid, data, file_name="marks.csv")

        for what, run, data, rows in (
            ("roster", roster_run, roster, sizes[0]),
            ("marks", marks_run, marks, sizes[1]),
        ):
            for attempt in ("import", "re-import"):
                report, seconds = await timed(engine, school_id, run, data)
                print(
                    f"{label:10} {what:6} {attempt:9} {rows:>8,} rows {seconds:7.2f} s "
                    f"{rows / seconds:>10,.0f} rows/s   {report.as_dict()}"
                )
    finally:
        await engine.dispose()


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(database="postgres", **PG)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pupils", type=int, default=12_000)
    parser.add_argument("--marks", type=int, default=200_000)
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    r_rows, enrolled = roster_rows(args.pupils)
    m_rows = marks_rows(enrolled, args.marks)
    roster, marks = to_csv(ROSTER_COLUMNS, r_rows), to_csv(MARKS_COLUMNS, m_rows)
    sizes = (len(r_rows), len(m_rows))
    print(f"roster: {sizes[0]:,} rows ({len(enrolled):,} pupils); marks: {sizes[1]:,} rows")
    name = f"ediary_bench_imports_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql+asyncpg://{PG['user']}@{PG['host']}:{PG['port']}/{name}"
        await bench("postgresql", url, roster, marks, sizes)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite'}"
            await bench("sqlite", url, roster, marks, sizes)


if __name__ == "__main__":
    asyncio.run(main())
