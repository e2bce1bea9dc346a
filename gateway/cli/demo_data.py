"""``ediary demo-data``: the demo school (or, with ``--schools``, a district for benchmarks),
generated as the system operator into the configured database, with a summary in Russian."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import demo
from diary_core.clock import Clock, SystemClock
from diary_core.db import session_factory
from diary_core.demo import DemoSummary, DistrictSummary
from diary_core.roles import ROLE_TITLES, Role
from gateway.cli.common import Progress, settings_from, with_engine
from gateway.demo.esia_persons import esia_persons

_TABLE_TITLES = {
    "lessons": "уроков",
    "marks": "отметок",
    "attendance": "записей посещаемости",
    "period_marks": "отметок за период",
    "change_log": "записей истории изменений",
    "users": "пользователей",
}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo-data",
        help="создать демонстрационную школу (или район школ для нагрузочных замеров)",
        description="Создаёт демонстрационную школу «МБОУ ООШ с. Руновка» с учебным годом, "
        "отметками, перепиской и демонстрационными учётными записями; с --schools — район "
        "из N больших школ. Данные детерминированы: одинаковый --seed даёт одинаковые данные.",
    )
    p.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="зерно генератора")
    p.add_argument("--schools", type=int, help="создать район из N школ (режим замеров)")
    p.add_argument("--pupils-per-school", type=int, default=500, help="обучающихся в школе района")
    p.add_argument("--pupils-per-class", type=int, help="размер класса демо-школы (обычно 8–15)")
    p.add_argument(
        "--year", type=int, help="год начала учебного года (по умолчанию — текущий учебный год)"
    )
    p.add_argument("--esia-persons", type=Path, help="записать тестовых лиц ЕСИА в файл JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.schools is not None and (args.schools < 1 or args.pupils_per_school < 9):
        raise SystemExit("ediary: нужно --schools не меньше 1 и --pupils-per-school не меньше 9")
    settings = settings_from(args)
    return asyncio.run(with_engine(settings, lambda engine: _work(engine, args)))


async def _work(engine: AsyncEngine, args: argparse.Namespace) -> int:
    started = time.monotonic()
    if args.schools is not None:
        district = await _district(engine, args)
        print(format_district(district, time.monotonic() - started))
        return 0
    bar = Progress("Демо-школа: записано строк", every=20_000)
    async with session_factory(engine)() as session:
        summary = await demo.generate_demo_school(
            session,
            SystemClock(),
            seed=args.seed,
            year=args.year,
            pupils_per_class=args.pupils_per_class,
            progress=lambda _label, n: bar.advance(n),
        )
        await session.commit()
    bar.finish()
    if summary is None:
        print(f"Школа «{demo.DEMO_SCHOOL_NAME}» уже есть в базе — ничего не создано.")
        return 0
    _write_persons(args.esia_persons, summary)
    print(format_summary(summary))
    print(f"Готово за {time.monotonic() - started:.1f} с.")
    return 0


async def _district(engine: AsyncEngine, args: argparse.Namespace) -> DistrictSummary:
    bar = Progress("Район: записано строк", every=200_000)
    done = 0

    def progress(label: str, n: int) -> None:
        nonlocal done
        if label == "schools":
            done += n
            bar.label = f"Район: школ {done}/{args.schools}, записано строк"
        else:
            bar.advance(n)

    district = await demo.generate_district(
        engine,
        schools=args.schools,
        pupils_per_school=args.pupils_per_school,
        seed=args.seed,
        year=args.year,
        progress=progress,
    )
    bar.finish()
    return district


def _write_persons(path: Path | None, summary: DemoSummary) -> None:
    if path is None:
        return
    persons = esia_persons(summary.persons)
    path.write_text(json.dumps(persons, ensure_ascii=False, indent=2) + "\n")
    print(f"Тестовые лица ЕСИА записаны в {path}", file=sys.stderr)


def format_summary(summary: DemoSummary) -> str:
    """The demo school in a few lines of Russian: what is in it, whom to sign in as."""
    c = summary.counts
    state = "создана" if summary.created else "уже есть"
    lines = [
        f"Демонстрационная школа «{summary.school_name}» {state}.",
        f"  Классов: {c.classes}, обучающихся: {c.pupils}, родителей: {c.parents}, "
        f"учителей: {c.teachers}.",
        f"  Уроков: {c.lessons}, отметок: {c.marks}, пропусков и опозданий: {c.attendance}, "
        f"отметок за четверти: {c.period_marks}.",
        f"  Сообщений: {c.messages}, объявлений: {c.announcements}.",
        f"Демонстрационные учётные записи (пароль у всех: {demo.DEMO_PASSWORD}):",
    ]
    for account in summary.accounts:
        title = ROLE_TITLES[Role(account.role)]
        lines.append(f"  {account.login:<13} {title:<22} {account.full_name}")
    if summary.persons:
        lines.append("Тестовые лица для эмулятора ЕСИА (oid — кто это):")
        for person in summary.persons:
            lines.append(f"  {person.oid}  {person.data.full_name} — {person.note}")
    return "\n".join(lines)


def format_district(district: DistrictSummary, seconds: float) -> str:
    lines = [f"Район: создано школ — {len(district.created)}."]
    if district.skipped:
        lines.append(f"  Уже были в базе, пропущены: {', '.join(district.skipped)}.")
    total = sum(district.rows.values())
    for table, title in _TABLE_TITLES.items():
        if table in district.rows:
            lines.append(f"  {title}: {_n(district.rows[table])}")
    rate = total / max(seconds, 1e-9)
    lines.append(f"Всего строк: {_n(total)}; время: {seconds:.1f} с ({_n(round(rate))} строк/с).")
    return "\n".join(lines)


def _n(number: int) -> str:
    return f"{number:,}".replace(",", " ")


async def ensure_demo_school(engine: AsyncEngine, clock: Clock) -> DemoSummary | None:
    """For ``ediary demo``: generate the demo school when the database is empty and return
    its summary; when it is there already, the summary rebuilt from the database (accounts
    and ESIA test persons included); None when the database holds other schools only."""
    return await demo.ensure_demo_school(engine, clock)
