"""A grid saved in the teacher's console tells each new mark to the pupil's family, one
notification per mark (an import sends a digest instead: tests/integration/imports)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import lessons
from diary_core.clock import FixedClock
from diary_core.models import Notification, Pupil
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


async def test_a_grid_save_notifies_once_per_mark(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    ctx = await world.ctx(world.teacher_math)
    lesson = await lessons.record_lesson(
        ctx, class_id=world.class_5a, subject_id=world.math_a, day=date(2025, 10, 13),
        lesson_number=2,
    )  # fmt: skip
    a2 = await world.session.get(Pupil, world.pupil_a2)
    assert a2 is not None
    a2_user = a2.user_id
    await world.session.commit()
    browser = Browser()
    await sign_in_as(browser, engine, world.teacher_math, clock.now())
    url = (
        f"{base}/console/gradebook?class={world.class_5a}&subject={world.math_a}"
        f"&period={world.a.quarter_ids[0]}"
    )
    resp = await browser.post(
        base + "/console/gradebook",
        {
            "csrf_token": await browser.csrf(url),
            "class": str(world.class_5a),
            "subject": str(world.math_a),
            "period": str(world.a.quarter_ids[0]),
            f"c_{world.pupil_a1}_{lesson.id}": "5 4",
            f"c_{world.pupil_a2}_{lesson.id}": "3",
            f"wt_{lesson.id}": str(world.a.work_type_ids["Ответ на уроке"]),
        },
    )
    assert resp.status == 303, await resp.text()
    await browser.close()
    async with engine.connect() as conn:
        told = (
            await conn.execute(
                select(Notification.user_id, Notification.kind, Notification.text).order_by(
                    Notification.id
                )
            )
        ).all()
    assert {kind for _, kind, _ in told} == {"mark"}
    assert Counter(user for user, _, _ in told) == {
        world.pupil_a1_user: 2,
        world.parent_a1: 2,
        a2_user: 1,
        world.parent_a2: 1,
    }
    assert sorted(text for user, _, text in told if user == world.parent_a1) == [
        "Новая отметка «4» по предмету «Математика» (ответ на уроке, 13.10)",
        "Новая отметка «5» по предмету «Математика» (ответ на уроке, 13.10)",
    ]
