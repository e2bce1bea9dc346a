"""Correcting a published timetable in a browser (docs/regulation.md, clause 6.2): the administrator
changes one room and saves a draft; the parent's diary still shows the published week (not «Уроков
нет»); once the correction is published the parent sees the new room from its date and is
told what changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import timetable
from diary_core.clock import FixedClock
from diary_core.timetable import SlotInput
from tests.e2e.sessions import sign_in
from tests.e2e.test_diary_workflows import WIDE, open_ok, shot
from tests.support.gateway import free_port, gateway_settings, running_gateway
from tests.support.world import World


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    admin = await world.ctx(world.admin_a)
    slots = [
        SlotInput(1, 1, world.math_a, world.teacher_math, "12"),
        SlotInput(2, 2, world.russian_a, world.ct_5a, "14"),
    ]
    info = await timetable.set_weekly_timetable(admin, world.class_5a, date(2025, 9, 1), slots)
    await timetable.publish_timetable(admin, info.id)
    await world.session.commit()
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


async def test_admin_corrects_a_room_and_the_parent_keeps_the_week_until_published(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
) -> None:
    admin_ctx = await chromium.new_context(viewport=WIDE)  # type: ignore[arg-type]
    await sign_in(admin_ctx, base, engine, world.admin_a, clock.now())
    editor = await admin_ctx.new_page()
    await open_ok(editor, base + f"/console/admin/timetable?class={world.class_5a}")
    valid_from = editor.locator("input[name=valid_from]")
    assert await valid_from.input_value() == "15.10.2025"  # a correction starts today
    await valid_from.fill("20.10.2025")
    await editor.fill("input[name=s2_2_room]", "5")
    await editor.click("button:has-text('Сохранить черновик')")
    await editor.wait_for_url("**ok=saved**")
    assert "до тех пор видят опубликованное расписание" in await editor.inner_text("main")
    await editor.screenshot(path=shot("timetable-correction-draft-1280", db_url), full_page=True)

    parent_ctx = await chromium.new_context(viewport=WIDE)  # type: ignore[arg-type]
    await sign_in(parent_ctx, base, engine, world.parent_a1, clock.now())
    diary = await parent_ctx.new_page()
    await open_ok(diary, base + "/diary?week=2025-10-20#timetable")
    days = diary.locator("#timetable section.day")
    monday, tuesday = days.nth(0), days.nth(1)
    assert "Математика" in await monday.inner_text()
    assert "Уроков нет" not in await monday.inner_text()
    tuesday_text = await tuesday.inner_text()
    assert "Русский язык" in tuesday_text and "каб. 14" in tuesday_text
    assert "каб. 5" not in tuesday_text
    await diary.screenshot(path=shot("diary-during-draft-1280", db_url), full_page=True)

    draft_row = editor.locator("table.versions tr", has_text="Черновик")
    await draft_row.locator("button:has-text('Опубликовать')").click()
    await editor.wait_for_url("**/publish")  # the confirmation page asks first
    asked = await editor.locator("section.confirm").inner_text()
    assert "Опубликовать расписание 5А с 20.10.2025?" in asked
    await editor.locator("section.confirm button:has-text('Опубликовать')").click()
    await editor.wait_for_url("**ok=published**")

    await diary.reload()
    tuesday_text = await diary.locator("#timetable section.day").nth(1).inner_text()
    assert "каб. 5" in tuesday_text and "каб. 14" not in tuesday_text
    told = await diary.locator("#notifications").inner_text()
    assert "Изменения в расписании 5А с 20.10.2025: вторник, 2-й урок — кабинет 5 вместо 14" in told
    await diary.screenshot(path=shot("diary-after-correction-1280", db_url), full_page=True)
    await open_ok(diary, base + "/diary?week=2025-10-13#timetable")
    assert "каб. 14" in await diary.locator("#timetable section.day").nth(1).inner_text()
    await admin_ctx.close()
    await parent_ctx.close()
