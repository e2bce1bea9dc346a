"""``ediary roster import`` and ``ediary marks import``: the CSV imports (formats: README.md).

Both run as the server operator against the configured database, commit once at the end, and
on a bad file print every error (``строка N, столбец C: причина``) and write nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import school
from diary_core.context import Ctx
from diary_core.db import session_factory
from diary_core.imports import (
    Counts,
    ImportFailed,
    MarksReport,
    ProgressFn,
    RosterReport,
    import_marks,
    import_roster,
)
from diary_core.policy import Actor
from gateway.cli.common import Progress, settings_from, with_engine
from gateway.mail import install_outbox

Importer = Callable[[Ctx, int, bytes, str, ProgressFn], Awaitable[Any]]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``roster import`` and ``marks import``."""
    roster = _command(subparsers, "roster", "список обучающихся и родителей", _run_roster)
    roster.add_argument(
        "--create-classes",
        action="store_true",
        help="создать классы текущего учебного года, которых ещё нет",
    )
    _command(subparsers, "marks", "отметки", _run_marks)


def _command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    what: str,
    run: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=f"{what}: загрузка из CSV")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    cmd = actions.add_parser("import", help=f"загрузить {what} из CSV-файла (всё или ничего)")
    cmd.add_argument(
        "file",
        type=Path,
        help="CSV-файл: UTF-8 или Windows-1251 (как сохраняет Excel), разделитель «;» или «,», "
        "заголовки столбцов по-русски или по-английски",
    )
    cmd.add_argument("--school", required=True, help="название школы, как оно заведено")
    cmd.set_defaults(func=run)
    return cmd


def _run_roster(args: argparse.Namespace) -> int:
    async def run(ctx: Ctx, school_id: int, data: bytes, name: str, progress: ProgressFn) -> Any:
        return await import_roster(
            ctx,
            school_id,
            data,
            file_name=name,
            create_classes=args.create_classes,
            progress=progress,
        )

    return _run(args, run, _roster_summary)


def _run_marks(args: argparse.Namespace) -> int:
    async def run(ctx: Ctx, school_id: int, data: bytes, name: str, progress: ProgressFn) -> Any:
        return await import_marks(ctx, school_id, data, file_name=name, progress=progress)

    return _run(args, run, _marks_summary)


def _run(args: argparse.Namespace, importer: Importer, summary: Callable[[Any], str]) -> int:
    settings = settings_from(args)
    install_outbox(settings)  # an import's notifications get their mails, in its transaction
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"ediary: не удалось прочитать файл {args.file}: {exc.strerror}", file=sys.stderr)
        return 1

    async def work(engine: AsyncEngine) -> Any:
        return await _import(engine, args.school, args.file.name, data, importer)

    try:
        report = asyncio.run(with_engine(settings, work))
    except ImportFailed as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"ediary: {exc}", file=sys.stderr)
        return 1
    print(f"Файл {args.file.name} загружен. {summary(report)}")
    return 0


async def _import(
    engine: AsyncEngine, school_name: str, file_name: str, data: bytes, importer: Importer
) -> Any:
    """One transaction as the operator: committed only when the whole file went in."""
    async with session_factory(engine)() as session:
        ctx = Ctx(session, Actor.system_actor())
        target = await school.school_by_name(ctx, school_name)
        progress = Progress("запись строк")

        def advance(done: int, total: int) -> None:
            progress.total = total
            progress.advance(done - progress.done)

        report = await importer(ctx, target.id, data, file_name, advance)
        progress.finish()
        await session.commit()
        return report


def _counts(title: str, c: Counts) -> str:
    return f"{title}: новых {c.created}, изменено {c.updated}, без изменений {c.unchanged}"


def _roster_summary(r: RosterReport) -> str:
    return "; ".join(
        (
            f"Строк: {r.rows}",
            f"создано классов: {r.classes_created}",
            _counts("обучающиеся", r.pupils),
            _counts("родители", r.parents),
            _counts("связи «родитель — ребёнок»", r.guardianships),
        )
    )


def _marks_summary(r: MarksReport) -> str:
    c = r.marks
    return (
        f"Строк: {r.rows}; отметок новых {c.created}, исправлено {c.updated}, "
        f"без изменений {c.unchanged}"
    )
