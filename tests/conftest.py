"""Fixtures shared by every test: the two databases, a session, and a small test world."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core.clock import FixedClock
from diary_core.db import create_engine, session_factory
from gateway.storage.schema import upgrade
from tests.support.databases import empty_postgres, fresh_postgres_database, postgres_enabled
from tests.support.gost import gost_backend  # noqa: F401 - a fixture for every test folder
from tests.support.world import World, build_world

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def _postgres_url() -> Iterator[str]:
    if not postgres_enabled():
        pytest.skip("PostgreSQL tests are off: set EDIARY_TEST_POSTGRES=1 (CI does)")
    yield from fresh_postgres_database()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a new SQLite file, or the run's PostgreSQL database."""
    if request.param == "postgres":
        return str(request.getfixturevalue("_postgres_url"))
    return f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite'}"


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url, pool_size=5)
    if db_url.startswith("sqlite"):
        await upgrade(eng)
    try:
        yield eng
    finally:
        if db_url.startswith("postgresql"):
            await empty_postgres(eng)
        await eng.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as s:
        yield s


@pytest.fixture
def clock() -> FixedClock:
    """Tests run at a fixed moment of the school year: Wednesday, 15 October 2025, 10:00 UTC."""
    return FixedClock(datetime(2025, 10, 15, 10, 0, tzinfo=UTC))


@pytest.fixture
async def world(session: AsyncSession, clock: FixedClock) -> World:
    return await build_world(session, clock)
