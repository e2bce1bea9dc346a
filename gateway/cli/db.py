"""``ediary db upgrade``: create or migrate the configured database; ``ediary db check``: does
its schema match the models?"""

from __future__ import annotations

import argparse
import asyncio
import sys

from gateway.cli.common import engine_from, settings_from
from gateway.storage.schema import differences, is_current, upgrade


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
    check = actions.add_parser(
        "check", help="сверить схему базы с моделями (после `ediary db upgrade`)"
    )
    check.set_defaults(func=_check)


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


def _check(args: argparse.Namespace) -> int:
    """0 when the database is at the newest migration and its schema is what the models
    describe; 1, naming each difference, otherwise."""
    settings = settings_from(args)

    async def run() -> list[str] | None:
        engine = engine_from(settings)
        try:
            if not await is_current(engine):
                return None
            return await differences(engine)
        finally:
            await engine.dispose()

    found = asyncio.run(run())
    where = _safe(settings.database.url)
    if found is None:
        print(
            f"ediary: схема базы данных устарела ({where}); сначала выполните `ediary db upgrade`",
            file=sys.stderr,
        )
        return 1
    if found:
        print(f"Схема базы данных расходится с моделями ({where}):", file=sys.stderr)
        for diff in found:
            print(f"  {diff}", file=sys.stderr)
        return 1
    print(f"Схема базы данных совпадает с моделями ({where}).")
    return 0


def _safe(url: str) -> str:
    """The URL without a password, fit for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
