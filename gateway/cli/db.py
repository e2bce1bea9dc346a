"""``ediary db upgrade``: create or migrate the configured database."""

from __future__ import annotations

import argparse
import asyncio

from diary_core.db import upgrade
from gateway.cli.common import engine_from, settings_from


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    db = sub.add_parser("db", help="схема базы данных")
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = actions.add_parser(
        "upgrade", help="создать базу или обновить её схему до последней версии"
    )
    up.add_argument(
        "--revision", default="head", help="целевая версия схемы (по умолчанию последняя)"
    )
    up.set_defaults(func=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    settings = settings_from(args)

    async def run() -> None:
        engine = engine_from(settings)
        try:
            await upgrade(engine, args.revision, timezone=settings.server.timezone)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print(f"База данных обновлена до последней версии схемы ({_safe(settings.database.url)}).")
    return 0


def _safe(url: str) -> str:
    """The URL without a password, fit for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
