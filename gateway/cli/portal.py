"""``ediary portal add-client``: register the state services portal (a machine client) with
its public key, scopes and the schools it serves; prints the new client_id."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import SystemClock
from diary_core.db import session_factory
from diary_core.errors import InvalidInput
from diary_core.models import School
from gateway.cli.common import settings_from, with_engine
from gateway.portal.clients import parse_public_keys, parse_scopes, register_client


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    portal = subparsers.add_parser("portal", help="клиенты портала госуслуг")
    actions = portal.add_subparsers(dest="portal_command", metavar="ACTION", required=True)
    add = actions.add_parser("add-client", help="зарегистрировать клиента (печатает client_id)")
    add.add_argument("--name", required=True, help="имя клиента, например «Госуслуги»")
    add.add_argument(
        "--public-key", required=True, type=Path, help="открытый ключ: PEM, сертификат или JWKS"
    )
    add.add_argument("--scopes", default="progress.read changes.read", help="через пробел")
    add.add_argument(
        "--school", action="append", default=[], help="школа (можно несколько; без — все школы)"
    )
    add.set_defaults(func=_add_client)


async def _school_ids(engine: AsyncEngine, names: list[str]) -> list[int] | None:
    if not names:
        return None
    async with session_factory(engine)() as session:
        rows = dict(
            (name, sid)
            for sid, name in await session.execute(
                select(School.id, School.name).where(School.name.in_([n.strip() for n in names]))
            )
        )
    missing = [n for n in names if n.strip() not in rows]
    if missing:
        raise InvalidInput(f"школа не найдена: {', '.join(missing)}")
    return sorted(rows[n.strip()] for n in names)


def _add_client(args: argparse.Namespace) -> int:
    try:
        data = args.public_key.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"файл ключа не читается: {exc}") from None
    jwks = parse_public_keys(data)
    scopes = parse_scopes(args.scopes)

    async def work(engine: AsyncEngine) -> str:
        schools = await _school_ids(engine, args.school)
        async with session_factory(engine)() as session:
            client_id = await register_client(
                session, name=args.name, jwks=jwks, scopes=scopes, school_ids=schools,
                now=SystemClock().now(),
            )  # fmt: skip
            await session.commit()
        return client_id

    print(asyncio.run(with_engine(settings_from(args), work)))
    return 0
