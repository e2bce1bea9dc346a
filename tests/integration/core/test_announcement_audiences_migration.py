"""Migration 0010 (announcement audiences) on both databases, down to 0009 and up again:
school and class announcements keep their meaning both ways; going down, the audiences the
old schema cannot express (staff only, a grade, several classes) go rather than reach the
whole school."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core import announcements
from diary_core.clock import FixedClock
from diary_core.db import create_engine, session_factory
from diary_core.models import Announcement
from gateway.storage.schema import alembic_config, upgrade
from tests.support.databases import fresh_postgres_database, postgres_enabled
from tests.support.world import build_world


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        if not postgres_enabled():
            pytest.skip("PostgreSQL tests are off: set EDIARY_TEST_POSTGRES=1 (CI does)")
        yield from fresh_postgres_database()
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'audiences.sqlite'}"


@pytest.fixture
async def fresh(fresh_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_url)
    await upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _downgrade(engine: AsyncEngine, revision: str) -> None:
    def run(conn: Connection) -> None:
        command.downgrade(alembic_config(conn), revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def test_down_to_0009_and_up_again(fresh: AsyncEngine) -> None:
    clock = FixedClock(datetime(2025, 10, 15, 10, 0, tzinfo=UTC))
    async with session_factory(fresh)() as session:
        world = await build_world(session, clock)
        admin = await world.ctx(world.admin_a)
        school_id = world.a.id
        await announcements.announce(admin, "Школе", "Текст", "general", school_id)
        await announcements.announce(admin, "Классу", "Текст", "general", school_id, world.class_5a)
        await announcements.announce(
            admin, "Сотрудникам", "Текст", "general", school_id, audience="staff"
        )
        await announcements.announce(
            admin, "Параллели", "Текст", "general", school_id, audience="grade", grade=5
        )
        await announcements.announce(
            admin,
            "Классам",
            "Текст",
            "general",
            school_id,
            audience="classes",
            class_ids=[world.class_5a, world.class_5b],
        )
        await session.commit()

    await _downgrade(fresh, "0009_timetable_drafts")
    await upgrade(fresh)
    async with AsyncSession(fresh) as db:
        rows = await db.execute(
            select(Announcement.title, Announcement.audience, Announcement.class_id)
        )
        kept = {r.title: (r.audience, r.class_id) for r in rows}
    assert kept == {"Школе": ("school", None), "Классу": ("class", world.class_5a)}
