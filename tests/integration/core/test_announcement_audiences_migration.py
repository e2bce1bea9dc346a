"""Migration 0010 (announcement audiences) on both databases, down to 0009 and up again:
school and class announcements keep their meaning both ways; going down, the audiences the
old schema cannot express (staff only, a grade, several classes) go rather than reach the
whole school."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core import announcements
from diary_core.clock import FixedClock
from diary_core.db import session_factory
from diary_core.models import Announcement
from gateway.storage.schema import upgrade
from tests.support.migrations import downgrade
from tests.support.world import build_world


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

    await downgrade(fresh, "0009_timetable_drafts")
    await upgrade(fresh)
    async with AsyncSession(fresh) as db:
        rows = await db.execute(
            select(Announcement.title, Announcement.audience, Announcement.class_id)
        )
        kept = {r.title: (r.audience, r.class_id) for r in rows}
    assert kept == {"Школе": ("school", None), "Классу": ("class", world.class_5a)}
