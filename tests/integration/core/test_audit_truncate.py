"""The audit log refuses TRUNCATE on PostgreSQL (migration 0006), as it refuses UPDATE and
DELETE (0001): directly, and through ``TRUNCATE ... CASCADE`` from a table it references.
The rows are still there afterwards. Going down to 0005 drops the refusal (and only it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import FixedClock
from diary_core.db import create_engine, session_factory
from gateway.storage.schema import upgrade
from tests.support.databases import empty_postgres, fresh_postgres_database, postgres_enabled
from tests.support.migrations import downgrade
from tests.support.world import build_world

pytestmark = pytest.mark.postgres

TRIGGER = "audit_events_no_truncate"


def _skip_without_postgres() -> None:
    if not postgres_enabled():
        pytest.skip("PostgreSQL tests are off: set EDIARY_TEST_POSTGRES=1 (CI does)")


@pytest.fixture
def pg_url() -> Iterator[str]:
    _skip_without_postgres()
    yield from fresh_postgres_database()


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(pg_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _audit_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM audit_events")) or 0)


async def _with_audit_rows(engine: AsyncEngine, clock: FixedClock) -> int:
    """A small world (creating it writes audit events); how many rows the log holds."""
    async with session_factory(engine)() as session:
        await build_world(session, clock)
        await session.commit()
    n = await _audit_rows(engine)
    assert n > 0
    return n


async def _refused(engine: AsyncEngine, sql: str) -> str:
    with pytest.raises(DBAPIError) as caught:
        async with engine.begin() as conn:
            await conn.execute(text(sql))
    return str(caught.value)


async def test_truncate_of_the_audit_log_is_refused(pg: AsyncEngine, clock: FixedClock) -> None:
    before = await _with_audit_rows(pg, clock)
    assert "append-only table audit_events" in await _refused(pg, "TRUNCATE audit_events")
    assert await _audit_rows(pg) == before
    # UPDATE and DELETE stay refused as before (0001).
    assert "append-only" in await _refused(pg, "DELETE FROM audit_events")
    assert "append-only" in await _refused(pg, "UPDATE audit_events SET action = 'x'")
    assert await _audit_rows(pg) == before


async def test_truncate_cascading_into_the_log_is_refused(
    pg: AsyncEngine, clock: FixedClock
) -> None:
    """``audit_events`` references users, pupils and schools: truncating one of them with
    CASCADE would empty the log; the whole statement is refused and nothing is emptied."""
    before = await _with_audit_rows(pg, clock)
    async with pg.connect() as conn:
        users = await conn.scalar(text("SELECT count(*) FROM users"))
    for table in ("users", "pupils", "schools"):
        message = await _refused(pg, f"TRUNCATE {table} CASCADE")
        assert "append-only table audit_events" in message
    assert await _audit_rows(pg) == before
    async with pg.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM users")) == users


async def test_the_test_teardown_empties_the_log_as_an_operator(
    pg: AsyncEngine, clock: FixedClock
) -> None:
    """``empty_postgres`` skips the refusal for its own transaction only."""
    await _with_audit_rows(pg, clock)
    await empty_postgres(pg)
    assert await _audit_rows(pg) == 0
    await _with_audit_rows(pg, clock)
    assert "append-only" in await _refused(pg, "TRUNCATE audit_events")


async def _triggers(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        names = await conn.scalars(
            text(
                "SELECT tgname FROM pg_trigger "
                "WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal"
            )
        )
        return set(names)


async def test_downgrade_drops_only_the_truncate_refusal(
    pg: AsyncEngine, clock: FixedClock
) -> None:
    assert await _triggers(pg) == {"audit_events_append_only", TRIGGER}
    await downgrade(pg, "0005_signin_throttle")
    assert await _triggers(pg) == {"audit_events_append_only"}
    await _with_audit_rows(pg, clock)
    async with pg.begin() as conn:
        await conn.execute(text("TRUNCATE audit_events"))
    assert await _audit_rows(pg) == 0
    await upgrade(pg)
    assert await _triggers(pg) == {"audit_events_append_only", TRIGGER}
