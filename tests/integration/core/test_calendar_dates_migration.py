"""Migrations 0008 and 0009 on both databases, down to 0007 and up again.

0008: an announcement expiry written by the old code (a UTC midnight, meaning "through the day
before it") becomes the school's midnight after that day; other instants stay as they were.
0009: a class may have a published timetable and a draft from the same date; going down, the
draft beside a published timetable goes (the old rule allows one timetable per date).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core import announcements, timetable
from diary_core.clock import FixedClock
from diary_core.db import session_factory
from diary_core.models import Announcement, Timetable
from diary_core.timetable import SlotInput
from gateway.storage.schema import upgrade
from tests.support.migrations import downgrade
from tests.support.world import World, build_world

OLD_STYLE = datetime(2025, 12, 18, 0, 0, tzinfo=UTC)  # the old "through 17.12"
MOSCOW_MIDNIGHT = datetime(2025, 12, 17, 21, 0, tzinfo=UTC)  # 18.12 00:00 in Moscow
OTHER = datetime(2025, 12, 18, 10, 30, tzinfo=UTC)


async def _expiries(engine: AsyncEngine) -> dict[str, datetime | None]:
    async with AsyncSession(engine) as db:
        rows = await db.execute(select(Announcement.title, Announcement.expires_at))
        return {r.title: r.expires_at for r in rows}


async def test_old_utc_midnights_become_the_schools_midnight_and_back(fresh: AsyncEngine) -> None:
    clock = FixedClock(datetime(2025, 10, 15, 10, 0, tzinfo=UTC))
    async with session_factory(fresh)() as session:
        world: World = await build_world(session, clock)
        ctx = await world.ctx(world.ct_5a)
        for title, at in (("old", OLD_STYLE), ("other", OTHER), ("none", None)):
            await announcements.announce(
                ctx, title, "…", "general", world.a.id, world.class_5a, expires_at=at
            )
        await session.commit()
    await downgrade(fresh, "0008_calendar_dates")  # 0009 only: the expiries stay
    assert await _expiries(fresh) == {"old": OLD_STYLE, "other": OTHER, "none": None}
    await downgrade(fresh, "0007_lesson_history")
    await upgrade(fresh)
    assert await _expiries(fresh) == {"old": MOSCOW_MIDNIGHT, "other": OTHER, "none": None}
    await downgrade(fresh, "0007_lesson_history")
    assert await _expiries(fresh) == {"old": OLD_STYLE, "other": OTHER, "none": None}
    await upgrade(fresh, timezone="Asia/Vladivostok")  # a school at UTC+10
    vladivostok = datetime(2025, 12, 17, 14, 0, tzinfo=UTC)
    assert await _expiries(fresh) == {"old": vladivostok, "other": OTHER, "none": None}


async def test_a_draft_beside_a_published_timetable_of_its_date(fresh: AsyncEngine) -> None:
    clock = FixedClock(datetime(2025, 10, 15, 10, 0, tzinfo=UTC))
    sept_1 = date(2025, 9, 1)
    async with session_factory(fresh)() as session:
        world = await build_world(session, clock)
        ctx = await world.ctx(world.admin_a)
        slot = SlotInput(1, 1, world.math_a, world.teacher_math, "12")
        published = await timetable.set_weekly_timetable(ctx, world.class_5a, sept_1, [slot])
        await timetable.publish_timetable(ctx, published.id)
        await timetable.set_weekly_timetable(ctx, world.class_5a, sept_1, [slot])
        await session.commit()
    async with AsyncSession(fresh) as db:
        assert await db.scalar(select(func.count()).select_from(Timetable)) == 2
        # the database itself keeps one draft and one published timetable per date
        with pytest.raises(IntegrityError):
            await db.execute(
                text(
                    "INSERT INTO timetables (school_id, class_id, valid_from, created_at, "
                    "updated_at) SELECT school_id, class_id, valid_from, created_at, updated_at "
                    "FROM timetables WHERE published_at IS NULL"
                )
            )
        await db.rollback()
    await downgrade(fresh, "0008_calendar_dates")
    async with AsyncSession(fresh) as db:
        left = list(await db.scalars(select(Timetable.id)))
    assert left == [published.id]
    await upgrade(fresh)
