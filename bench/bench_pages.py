"""Server time of the two busiest pages (issue 5): the gradebook grid and the parent's diary.

The database holds the demo school (``generate_demo_school``, year 2025/26) plus one class of
exactly 30 pupils with 70 lessons of mathematics in the third quarter, taught by the demo
teacher, with marks and some absences written through the core's use cases. The real gateway
(``create_app``, a FixedClock inside that quarter) runs in-process on loopback; the bench
signs the demo teacher and the demo parent in through session rows and times

- ``GET /console/gradebook?class=&subject=&period=`` (30 pupils × 70 lessons) as the teacher;
- ``GET /diary`` as the demo parent.

Server time is measured by a middleware placed first in the app's chain (``time.perf_counter``
around everything the server does for the request: session, actor, queries, rendering); the
client's round trip on loopback is printed beside it. Beside the wall time, figures that a busy
machine disturbs less: the process's CPU time during the request (``time.process_time``: the
server and its SQLite thread; the client in the same process is idle then; PostgreSQL's own
work is not in it), the SQL statements the request sent (a ``before_cursor_execute`` counter)
and the page's size. It prints p50/p99 beside the targets and asserts nothing about time.
SQLite by default in a temporary folder; ``--postgres`` also runs on a database
``ediary_bench_pages_<random>`` on 127.0.0.1:5432, dropped afterwards.

    python bench/bench_pages.py [--requests 300] [--postgres] [--pages grid,diary]
                                [--profile grid|diary]

``--profile`` needs pyinstrument (``pip install pyinstrument``; not a project dependency).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import attendance, families, lessons, marks, school
from diary_core.clock import FixedClock
from diary_core.context import Ctx
from diary_core.db import create_engine, session_factory
from diary_core.demo.generator import generate_demo_school
from diary_core.models import AcademicYear, Lesson, Mark, Period, Subject, User, WorkType
from diary_core.policy import Actor
from diary_core.snils import make_snils
from gateway.app import create_app
from gateway.storage.schema import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.gateway import Browser, free_port, gateway_settings, sign_in_as

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
GENERATED_AT = datetime(2026, 3, 18, 9, 0, tzinfo=UTC)  # Wednesday, end of the 3rd quarter
CLOCK = FixedClock(GENERATED_AT)
PUPILS, LESSONS = 30, 70
CLASS_NAME = "9Я"
SUBJECT = "Математика"
TARGETS = {"grid": 30.0, "diary": 20.0}  # p50, ms


@dataclass
class Fixture:
    teacher_id: int
    parent_id: int
    class_id: int
    subject_id: int
    period_id: int
    counts: dict[str, int] = field(default_factory=dict)


# ----------------------------------------------------------------------------- the data


async def _third_quarter(ctx: Ctx, school_id: int) -> Period:
    today = GENERATED_AT.date()
    period = await ctx.session.scalar(
        select(Period).where(
            Period.school_id == school_id, Period.starts_on <= today, Period.ends_on >= today
        )
    )
    assert period is not None, "the clock must fall inside a period"
    return period


def _school_days(first: date, last: date) -> list[date]:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [d for d in days if d.isoweekday() <= 5]


async def _big_class(ctx: Ctx, school_id: int, teacher_id: int) -> tuple[int, int, int]:
    """The 30-pupil class, the demo teacher's mathematics in it, 70 lessons in the quarter."""
    year = await school.current_year(ctx, school_id, GENERATED_AT.date())
    period = await _third_quarter(ctx, school_id)
    cls = await school.create_class(ctx, school_id, year.id, CLASS_NAME)
    subject_id = await ctx.session.scalar(
        select(Subject.id).where(Subject.school_id == school_id, Subject.name == SUBJECT)
    )
    assert subject_id is not None
    await school.assign_teacher(ctx, cls.id, subject_id, teacher_id)
    people = [
        families.PersonData(
            f"Бенчев{i:02d}",
            "Ученик",
            "Тестович",
            date(2011, 1, 1 + i % 28),
            make_snils(700_000_000 + i),
        )
        for i in range(PUPILS)
    ]
    pupils = [await families.enroll_pupil(ctx, cls.id, person) for person in people]
    days = _school_days(period.starts_on, GENERATED_AT.date() - timedelta(days=1))
    slots = [(d, n) for d in days for n in (3, 4)][:LESSONS]
    assert len(slots) == LESSONS
    rng = random.Random(5)
    types = list(await ctx.session.scalars(select(WorkType).where(WorkType.school_id == school_id)))
    for day, number in slots:
        lesson = await lessons.record_lesson(
            ctx, class_id=cls.id, subject_id=subject_id, day=day, lesson_number=number,
            topic=f"Тема урока {day:%d.%m}/{number}", homework="§ 12, № 3–5", teacher_id=teacher_id,
        )  # fmt: skip
        for pupil in pupils:
            if rng.random() < 0.3:
                await marks.record_mark(
                    ctx, pupil_id=pupil.id, subject_id=subject_id, day=day,
                    value=rng.choice("54432"), work_type_id=rng.choice(types).id,
                    lesson_id=lesson.id,
                )  # fmt: skip
            elif rng.random() < 0.04:
                await attendance.set_attendance(
                    ctx, pupil_id=pupil.id, lesson_id=lesson.id, kind=rng.choice(("н", "б", "оп"))
                )
    return cls.id, subject_id, period.id


async def build(engine: AsyncEngine) -> Fixture:
    await upgrade(engine)
    started = time.perf_counter()
    async with session_factory(engine)() as session:
        summary = await generate_demo_school(session, CLOCK, year=2025)
        assert summary is not None
        await session.commit()
        ids = dict(
            (
                await session.execute(
                    select(User.login, User.id).where(User.login.in_(("teacher", "parent")))
                )
            ).all()
        )
        ctx = Ctx(session, Actor.system_actor(), CLOCK)
        class_id, subject_id, period_id = await _big_class(ctx, summary.school_id, ids["teacher"])
        await session.commit()
        fixture = Fixture(ids["teacher"], ids["parent"], class_id, subject_id, period_id)
        fixture.counts = {
            "lessons in the grid": int(
                await session.scalar(
                    select(func.count()).select_from(Lesson).where(
                        Lesson.class_id == class_id, Lesson.subject_id == subject_id
                    )
                ) or 0
            ),
            "marks in the grid": int(
                await session.scalar(
                    select(func.count())
                    .select_from(Mark)
                    .join(Lesson, Lesson.id == Mark.lesson_id)
                    .where(Lesson.class_id == class_id, Lesson.subject_id == subject_id)
                )
                or 0
            ),
            "marks in the school": int(
                await session.scalar(select(func.count()).select_from(Mark)) or 0
            ),
            "years": int(await session.scalar(select(func.count()).select_from(AcademicYear)) or 0),
        }  # fmt: skip
    print(f"  built in {time.perf_counter() - started:.1f} s: {fixture.counts}")
    return fixture


# ----------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class Sample:
    """One request, as the server spent it."""

    ms: float  # wall time
    cpu_ms: float  # this process's CPU time (the server and its SQLite thread)
    statements: int  # SQL statements sent


STATEMENTS = [0]  # every statement any engine in this process sent


@event.listens_for(Engine, "before_cursor_execute")
def _count_statement(*_: object) -> None:
    STATEMENTS[0] += 1


def timing_middleware(sink: dict[str, list[Sample]]) -> Any:
    @web.middleware
    async def timed(request: web.Request, handler: Any) -> web.StreamResponse:
        started, cpu, statements = time.perf_counter(), time.process_time(), STATEMENTS[0]
        try:
            return await handler(request)
        finally:
            sink.setdefault(request.path, []).append(
                Sample(
                    (time.perf_counter() - started) * 1000,
                    (time.process_time() - cpu) * 1000,
                    STATEMENTS[0] - statements,
                )
            )

    return timed


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def hammer(
    browser: Browser, url: str, n: int, warm: int, check: Callable[[str], bool]
) -> tuple[list[float], int]:
    """The round trips of ``n`` GETs after ``warm`` ones, and the page's size in bytes."""
    round_trips, size = [], 0
    for i in range(warm + n):
        started = time.perf_counter()
        resp = await browser.get(url)
        body = await resp.read()
        elapsed = (time.perf_counter() - started) * 1000
        if resp.status != 200:
            raise RuntimeError(f"{url}: {resp.status} {body[:300]!r}")
        if i == 0 and not check(body.decode()):
            raise RuntimeError(f"{url}: the page does not look right")
        if i >= warm:
            round_trips.append(elapsed)
        size = len(body)
    return round_trips, size


@dataclass
class PageFigures:
    samples: list[Sample]
    round_trips: list[float]
    size: int

    @property
    def server_ms(self) -> list[float]:
        return [s.ms for s in self.samples]

    @property
    def cpu_ms(self) -> list[float]:
        return [s.cpu_ms for s in self.samples]

    @property
    def statements(self) -> float:
        return statistics.fmean(s.statements for s in self.samples)


Profiler = Callable[[Callable[[], Awaitable[None]]], Awaitable[None]]


async def run_pages(
    label: str, url: str, engine: AsyncEngine, fx: Fixture, ns: argparse.Namespace
) -> dict[str, PageFigures]:
    sink: dict[str, list[Sample]] = {}
    settings = gateway_settings(url, free_port())
    app = create_app(settings, clock=CLOCK)
    app.middlewares.insert(0, timing_middleware(sink))
    server = TestServer(app, host="127.0.0.1", port=settings.server.port)
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    teacher, parent = Browser(), Browser()
    results: dict[str, PageFigures] = {}
    try:
        await sign_in_as(teacher, engine, fx.teacher_id, CLOCK.now())
        await sign_in_as(parent, engine, fx.parent_id, CLOCK.now())
        query = f"class={fx.class_id}&subject={fx.subject_id}&period={fx.period_id}"
        grid = f"/console/gradebook?{query}"
        pages = {
            "grid": (teacher, grid, lambda html: html.count("Бенчев") >= PUPILS),
            "diary": (parent, "/diary", lambda html: "Математика" in html),
        }
        for name, (browser, path, check) in pages.items():
            if name not in ns.pages:
                continue
            if ns.profile == name:
                await profile(browser, base + path, ns, label)
                continue
            sink.clear()
            trips, size = await hammer(browser, base + path, ns.requests, ns.warmup, check)
            page = results[name] = PageFigures(sink[path.split("?")[0]][ns.warmup :], trips, size)
            server_ms, cpu_ms = page.server_ms, page.cpu_ms
            print(
                f"  {label:10} {name:5} {len(server_ms)} GETs: server p50 {pct(server_ms, 50):6.2f}"
                f" p99 {pct(server_ms, 99):6.2f} mean {statistics.fmean(server_ms):6.2f} ms | "
                f"round trip p50 {pct(trips, 50):6.2f} p99 {pct(trips, 99):6.2f} ms | "
                f"CPU p50 {pct(cpu_ms, 50):6.2f} ms, {page.statements:.1f} statements, "
                f"{size / 1024:.1f} KB"
            )
    finally:
        await teacher.close()
        await parent.close()
        await server.close()
    return results


async def profile(browser: Browser, url: str, ns: argparse.Namespace, label: str) -> None:
    """pyinstrument over ``--requests`` GETs (the server runs in this process)."""
    from pyinstrument import Profiler  # type: ignore[import-not-found]

    await hammer(browser, url, ns.warmup, 0, lambda _: True)
    profiler = Profiler(async_mode="disabled", interval=0.0005)
    profiler.start()
    await hammer(browser, url, ns.requests, 0, lambda _: True)
    profiler.stop()
    out = Path(tempfile.gettempdir()) / f"bench_pages_{label}_{ns.profile}.txt"
    out.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    print(f"  profile of {ns.profile} ({label}) written to {out}")


def table(label: str, results: dict[str, PageFigures]) -> None:
    print(
        f"\n  {label}: page   server p50   server p99   target p50 |    CPU p50  statements"
        "      size"
    )
    for name, page in results.items():
        p50, p99 = pct(page.server_ms, 50), pct(page.server_ms, 99)
        print(
            f"  {'':{len(label)}}  {name:5} {p50:9.2f} ms {p99:9.2f} ms   <= {TARGETS[name]:.0f} ms"
            f"   | {pct(page.cpu_ms, 50):7.2f} ms {page.statements:11.1f} "
            f"{page.size / 1024:6.1f} KB"
        )


# ----------------------------------------------------------------------------- main


async def bench(label: str, url: str, ns: argparse.Namespace) -> None:
    engine = create_engine(url)
    try:
        fx = await build(engine)
        for attempt in range(1, ns.repeat + 1):
            results = await run_pages(label, url, engine, fx, ns)
            if results:
                table(f"{label} run {attempt}", results)
    finally:
        await engine.dispose()


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(database="postgres", **PG)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=2, help="measurement runs per database")
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--profile", choices=("grid", "diary"), help="profile this page instead")
    parser.add_argument(
        "--pages",
        type=lambda text: set(text.split(",")),
        default={"grid", "diary"},
        help="which pages, comma-separated (default: grid,diary)",
    )
    ns = parser.parse_args()
    if not ns.pages <= set(TARGETS):
        parser.error(f"--pages: one or more of {', '.join(TARGETS)}")
    return ns


async def main() -> None:
    ns = parse()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    if not ns.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            await bench("sqlite", f"sqlite+aiosqlite:///{Path(tmp) / 'pages.sqlite'}", ns)
    if ns.postgres:
        name = f"ediary_bench_pages_{uuid.uuid4().hex[:10]}"
        await _admin(f'CREATE DATABASE "{name}"')
        try:
            await bench("postgresql", f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", ns)
        finally:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
