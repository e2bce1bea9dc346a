"""``ediary personal-data export --user ID -o FILE.zip``: the operator's copy of everything
the diary holds about one person, for a written request (152-FZ, article 14). The same
archive the person downloads from ``/account`` (docs/personal-data.md); audited as the
operator's export."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import SystemClock
from diary_core.context import Ctx
from diary_core.db import session_factory
from diary_core.personal_data import access
from diary_core.policy import Actor
from gateway.cli.common import settings_from, with_engine
from gateway.export.archive import write_archive


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = sub.add_parser("personal-data", help="персональные данные по запросу (152-ФЗ, ст. 14)")
    actions = cmd.add_subparsers(dest="personal_data_command", metavar="ACTION", required=True)
    export = actions.add_parser(
        "export", help="выгрузить всё, что дневник хранит о человеке и его детях, в архив ZIP"
    )
    export.add_argument("--user", type=int, required=True, help="номер учётной записи")
    export.add_argument("-o", "--output", required=True, help="файл архива (.zip)")
    export.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if not out.parent.is_dir():
        raise SystemExit(f"ediary: папки {out.parent} нет")
    settings = settings_from(args)
    zone = ZoneInfo(settings.server.timezone)
    partial = out.with_name(out.name + ".part")

    async def work(engine: AsyncEngine) -> int:
        async with session_factory(engine)() as session:
            ctx = Ctx(session, Actor.system_actor(), SystemClock(), zone)
            scope = await access.open_export(ctx, args.user)
            await session.commit()
            with partial.open("wb") as f:

                async def send(data: bytes) -> None:
                    f.write(data)

                await write_archive(ctx, scope, send, zone)
                f.flush()
                os.fsync(f.fileno())
            return len(scope.pupils)

    try:
        pupils = asyncio.run(with_engine(settings, work))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(out)
    print(
        f"Архив записан: {out} (учеников в архиве: {pupils}); выгрузка внесена в журнал действий."
    )
    return 0
