"""``/healthz`` is cheap: the schema version is checked once at start-up, and a poll is then one
statement (``SELECT 1``), no Alembic, on both databases; unreachable and not migrated are 503."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

import gateway.handlers.health as health
from config import load_settings
from gateway import keys
from gateway.app import create_app
from gateway.storage.schema import alembic_config
from tests.support.gateway import free_port
from tests.support.statements import statements_sent

Client = Callable[[web.Application], Awaitable[TestClient]]  # type: ignore[type-arg]
OK = {"status": "ok", "database": "ok"}
UNREACHABLE = {"status": "unavailable", "database": "unreachable"}
NOT_MIGRATED = {"status": "unavailable", "database": "not migrated"}


async def _app_client(aiohttp_client: Client, url: str) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(load_settings(environ={"EDIARY_DATABASE_URL": url})))


async def _poll(client: TestClient) -> tuple[int, dict[str, Any]]:  # type: ignore[type-arg]
    resp = await client.get("/healthz")
    return resp.status, await resp.json()


@pytest.fixture
def schema_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the Alembic schema checks (start-up's and any poll's)."""
    calls: list[int] = []
    real = health.is_current

    async def counting(engine: AsyncEngine) -> bool:
        calls.append(1)
        return await real(engine)

    monkeypatch.setattr(health, "is_current", counting)
    return calls


def _transactions_started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every BEGIN asyncpg sends (SQLAlchemy's count leaves it out)."""
    begun: list[str] = []
    real = asyncpg.transaction.Transaction.start

    async def start(self: Any) -> None:
        begun.append("BEGIN")
        await real(self)

    monkeypatch.setattr(asyncpg.transaction.Transaction, "start", start)
    return begun


async def test_a_poll_is_one_statement_and_no_alembic(
    aiohttp_client: Client,
    db_url: str,
    engine: AsyncEngine,
    schema_checks: list[int],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_app(load_settings(environ={"EDIARY_DATABASE_URL": db_url}))
    client = await aiohttp_client(app)
    assert schema_checks == [1]  # start-up checked the schema version, once
    app_engine = app[keys.ENGINE]
    begun = _transactions_started(monkeypatch)
    for _ in range(3):
        caplog.clear()
        with caplog.at_level(logging.DEBUG), statements_sent(app_engine) as sent:
            assert await _poll(client) == (200, OK)
        assert [s.strip() for s in sent] == ["SELECT 1"]
        assert not [r for r in caplog.records if r.name.startswith("alembic")], caplog.text
    assert schema_checks == [1]
    assert begun == []  # autocommit: no BEGIN / ROLLBACK around the SELECT on PostgreSQL


async def test_schema_behind_is_503_until_upgraded_then_checked_no_more(
    aiohttp_client: Client, db_url: str, engine: AsyncEngine, schema_checks: list[int]
) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    assert head is not None
    behind = script.get_revision(head).down_revision
    assert isinstance(behind, str)
    await _set_version(engine, behind)
    try:
        client = await _app_client(aiohttp_client, db_url)
        assert await _poll(client) == (503, NOT_MIGRATED)
        assert await _poll(client) == (503, NOT_MIGRATED)
        assert len(schema_checks) == 3  # start-up, then each poll while it is behind
        await _set_version(engine, head)  # what `ediary db upgrade` leaves behind
        assert await _poll(client) == (200, OK)
        checks = len(schema_checks)
        assert await _poll(client) == (200, OK)
        assert len(schema_checks) == checks  # once current, never checked again
    finally:
        await _set_version(engine, head)


async def test_an_empty_database_is_not_migrated(
    aiohttp_client: Client, tmp_path: Path, schema_checks: list[int]
) -> None:
    client = await _app_client(aiohttp_client, f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    assert await _poll(client) == (503, NOT_MIGRATED)


async def test_unreachable_at_start_up_is_503_and_the_service_still_starts(
    aiohttp_client: Client, db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if db_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path}"  # a folder: SQLite cannot open it
    else:
        url = str(make_url(db_url).set(port=free_port()))  # nothing listens there
    before = set(threading.enumerate())
    client = await _app_client(aiohttp_client, url)
    assert "schema version not checked at start-up" in caplog.text
    assert await _poll(client) == (503, UNREACHABLE)
    await _threads_finished(set(threading.enumerate()) - before)


async def _threads_finished(threads: set[threading.Thread]) -> None:
    """aiosqlite answers a failed open from its worker thread into this event loop: let those
    threads end while the loop still runs (else they find it closed, an unhandled error)."""
    for thread in threads:
        if "_connection_worker_thread" in thread.name:
            await asyncio.to_thread(thread.join, 30)


@pytest.mark.postgres
async def test_database_going_away_after_start_up_is_503(
    aiohttp_client: Client, db_url: str, engine: AsyncEngine
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a server that can go away: PostgreSQL (SQLite is a file in process)")
    real = make_url(db_url)
    async with _tcp_proxy(real.host or "127.0.0.1", real.port or 5432) as (port, cut):
        client = await _app_client(aiohttp_client, str(real.set(port=port)))
        assert await _poll(client) == (200, OK)
        await cut()
        assert await _poll(client) == (503, UNREACHABLE)


# ---------------------------------------------------------------- helpers


async def _set_version(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})


@asynccontextmanager
async def _tcp_proxy(
    host: str, port: int
) -> AsyncIterator[tuple[int, Callable[[], Awaitable[None]]]]:
    """A loopback TCP proxy to the database; ``cut()`` stops it and drops every connection."""
    writers: list[asyncio.StreamWriter] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, port)
        writers.extend([writer, up_writer])
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    bound = server.sockets[0].getsockname()[1]

    async def cut() -> None:
        server.close()
        for w in writers:
            w.close()
        await server.wait_closed()

    try:
        yield bound, cut
    finally:
        server.close()
        for w in writers:
            w.close()
