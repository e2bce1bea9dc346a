"""The two databases every integration test runs on: SQLite and PostgreSQL.

PostgreSQL tests run when ``EDIARY_TEST_POSTGRES=1`` (CI sets it); each test run gets a fresh
database on 127.0.0.1:5432, migrated once and emptied after every test.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.db import create_engine
from gateway.storage.schema import upgrade

PG_HOST = os.environ.get("EDIARY_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("EDIARY_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("EDIARY_TEST_PG_USER", "postgres")


def postgres_enabled() -> bool:
    return os.environ.get("EDIARY_TEST_POSTGRES", "") not in ("", "0")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_url(name: str) -> str:
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def fresh_postgres_database() -> Iterator[str]:
    """Create, migrate, hand out, then drop a database of our own."""
    name = f"ediary_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = pg_url(name)

    async def migrate() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()

    try:
        asyncio.run(migrate())
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def empty_postgres(engine: AsyncEngine) -> None:
    """Truncate every table, as the test database's superuser.

    The audit log refuses TRUNCATE (migration 0006) as it refuses UPDATE and DELETE, so the
    teardown does what an operator would: ``SET LOCAL session_replication_role = replica``
    for this one transaction, which skips ordinary triggers (the refusal among them) and
    needs a superuser (the test user, ``postgres``, is one). It ends with the transaction.
    """
    async with engine.begin() as conn:
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        tables = await conn.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        )
        names = ", ".join(f'"{t}"' for t in tables)
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
