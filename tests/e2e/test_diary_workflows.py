"""The diary's workflows as people go through them in a browser (docs/regulation.md, clauses 1.4,
3.2, 4.1, 5.1): a teacher's mark reaches the parent with the new average; a class teacher's change
of tomorrow's timetable reaches the parent, marked and notified; a parent's message left
unanswered for seven days shows as overdue on the administrator's dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from playwright.async_api import Browser, BrowserContext, Page
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import lessons, marks, timetable
from diary_core.clock import FixedClock
from diary_core.timetable import SlotInput
from tests.e2e.conftest import artifact
from tests.e2e.sessions import sign_in
from tests.support.gateway import free_port, gateway_settings, running_gateway
from tests.support.world import World

WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
THURSDAY = 4  # the clock's "tomorrow": Thursday, 16 October 2025


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


def shot(name: str, db_url: str) -> str:
    """The artifact path of a screenshot, one per database."""
    return str(artifact(f"{name}-{db_url.split('+')[0].split(':')[0]}.png"))


async def signed_in_page(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    user_id: int,
    clock: FixedClock,
    viewport: dict[str, int] = WIDE,
) -> tuple[BrowserContext, Page]:
    context = await chromium.new_context(viewport=viewport)  # type: ignore[arg-type]
    await sign_in(context, base, engine, user_id, clock.now())
    return context, await context.new_page()


async def open_ok(page: Page, url: str) -> None:
    response = await page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"


# --- 1. a mark, typed in the gradebook, reaches the parent with the new average ------------


async def test_teacher_enters_mark_and_parent_sees_new_average(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
) -> None:
    teacher = await world.ctx(world.teacher_math)
    earlier = await lessons.record_lesson(
        teacher,
        class_id=world.class_5a,
        subject_id=world.math_a,
        day=date(2025, 10, 10),
        lesson_number=1,
        topic="Дроби",
    )
    today = await lessons.record_lesson(
        teacher,
        class_id=world.class_5a,
        subject_id=world.math_a,
        day=date(2025, 10, 15),
        lesson_number=1,
        topic="Сложение дробей",
    )
    await marks.record_mark(
        teacher,
        pupil_id=world.pupil_a1,
        subject_id=world.math_a,
        day=date(2025, 10, 10),
        value="5",
        work_type_id=world.a.work_type_ids["Ответ на уроке"],
        lesson_id=earlier.id,
    )
    await world.session.commit()

    login = await chromium.new_page(viewport=WIDE)  # type: ignore[arg-type]
    await open_ok(login, base + "/login")
    assert await login.locator("input[name=password]").count() == 1
    await login.screenshot(path=shot("login-1280", db_url), full_page=True)
    await login.close()

    parent_ctx, parent = await signed_in_page(chromium, base, engine, world.parent_a1, clock)
    await open_ok(parent, base + "/diary")
    math = parent.locator("details.subject", has_text="Математика")
    assert "5,00" in await math.locator(".avg").inner_text()

    teacher_ctx, grid = await signed_in_page(chromium, base, engine, world.teacher_math, clock)
    await open_ok(grid, base + "/console")
    assert "5А" in await grid.inner_text("main")
    await grid.screenshot(path=shot("console-index-teacher-1280", db_url), full_page=True)
    quarter = world.a.quarter_ids[0]
    await open_ok(
        grid,
        base + f"/console/gradebook?class={world.class_5a}&subject={world.math_a}&period={quarter}",
    )
    # Rows are in name order: Кузнецова, then Смирнов. Start on Кузнецова's cell of today's
    # lesson and go down to Смирнов's with the arrow key, as a teacher does.
    await grid.focus(f"input[name=c_{world.pupil_a2}_{today.id}]")
    await grid.keyboard.press("ArrowDown")
    await grid.keyboard.type("3")
    cell = grid.locator(f"input[name=c_{world.pupil_a1}_{today.id}]")
    assert await cell.input_value() == "3"
    # «Контрольная работа» by its short name (the full one is in the column's title)
    await grid.select_option(f"select[name=wt_{today.id}]", label="Контр. раб. (3)")
    await grid.click("#grid button[type=submit]")
    await grid.wait_for_url("**saved=1**")
    assert "Сохранено. Изменено клеток: 1." in await grid.inner_text("main")
    assert await cell.input_value() == "3"
    await grid.screenshot(path=shot("gradebook-1280", db_url), full_page=True)

    await parent.reload()
    math = parent.locator("details.subject", has_text="Математика")
    assert (await math.locator(".marks").inner_text()).split() == ["5", "3"]
    # (5 × 1 + 3 × 3) / (1 + 3) = 3.50
    assert "3,50" in await math.locator(".avg").inner_text()
    await math.locator("summary").click()
    listed = await math.locator("table.mark-list").inner_text()
    assert "Контрольная работа" in listed and "Сложение дробей" in listed
    await parent.screenshot(path=shot("diary-marks-1280", db_url), full_page=True)
    await parent_ctx.close()
    await teacher_ctx.close()


# --- 2. tomorrow's timetable changes; the parent sees it marked and is notified -------------


async def _publish_week(world: World) -> None:
    """5А's weekly timetable from 1 September, published by the administrator."""
    admin = await world.ctx(world.admin_a)
    slots = [SlotInput(day, 1, world.math_a, world.teacher_math, "12") for day in range(1, 6)] + [
        SlotInput(day, 2, world.russian_a, world.ct_5a, "14") for day in range(1, 6)
    ]
    info = await timetable.set_weekly_timetable(admin, world.class_5a, date(2025, 9, 1), slots)
    await timetable.publish_timetable(admin, info.id)
    await world.session.commit()


async def test_class_teacher_changes_tomorrow_and_parent_is_notified(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
) -> None:
    await _publish_week(world)
    tomorrow = clock.now().date() + timedelta(days=1)
    assert tomorrow.isoweekday() == THURSDAY

    ct_ctx, ct = await signed_in_page(chromium, base, engine, world.ct_5a, clock)
    await open_ok(ct, base + "/console")
    assert "5А" in await ct.inner_text("main")
    await ct.screenshot(path=shot("console-index-class-teacher-1280", db_url), full_page=True)
    await open_ok(ct, base + f"/console/class/{world.class_5a}/timetable")
    assert await ct.input_value("input[name=date]") == tomorrow.isoformat()
    await ct.select_option("select[name=lesson_number]", label="1-й")
    await ct.select_option("select[name=kind]", label="Замена учителя")
    await ct.select_option("select[name=teacher_id]", label="Буквина Ирина")
    await ct.fill("input[name=note]", "Мария Числова на курсах")
    await ct.click("button:has-text('Сохранить изменение')")
    await ct.wait_for_url("**notified=**")
    assert "Изменение сохранено" in await ct.inner_text("main")
    thursday = ct.locator(".week .day").nth(THURSDAY - 1)
    assert "замена" in await thursday.locator("li.substitution").inner_text()
    await ct.screenshot(path=shot("class-timetable-1280", db_url), full_page=True)

    parent_ctx, parent = await signed_in_page(chromium, base, engine, world.parent_a1, clock, PHONE)
    await open_ok(parent, base + "/diary")
    day = parent.locator("#timetable section.day", has_text="16.10")
    changed = day.locator("li.lesson.changed.substitution")
    assert await changed.count() == 1
    text = await changed.inner_text()
    assert "Буквина" in text and "замена" in text and "вместо Числова" in text
    assert "Мария Числова на курсах" in text
    # The rest of the week is as published, unmarked.
    assert await parent.locator("#timetable li.lesson.changed").count() == 1
    notice = parent.locator("#notifications li.unread", has_text="Изменение расписания 5А")
    assert await notice.count() == 1
    assert "16.10.2025, 1-й урок" in await notice.inner_text()
    await parent.screenshot(path=shot("diary-timetable-360", db_url), full_page=True)

    await open_ok(parent, base + "/notifications")
    assert "Изменение расписания 5А на 16.10.2025" in await parent.inner_text("main")
    await parent_ctx.close()
    await ct_ctx.close()


# --- 3. a parent's message unanswered for seven days is overdue on the dashboard ------------


async def test_unanswered_message_overdue_after_seven_days(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
) -> None:
    parent_ctx, parent = await signed_in_page(chromium, base, engine, world.parent_a1, clock)
    await open_ok(parent, base + "/messages/new")
    teacher = parent.locator("select[name=recipient] option", has_text="Числова")
    value = await teacher.get_attribute("value")
    assert value == str(world.teacher_math)
    await parent.select_option("select[name=recipient]", value=value)
    await parent.fill("input[name=topic]", "Контрольная по дробям")
    await parent.fill("textarea[name=body]", "Здравствуйте! Можно ли переписать контрольную?")
    await parent.click("button:has-text('Отправить')")
    await parent.wait_for_url("**/messages/*")
    assert "Можно ли переписать контрольную?" in await parent.inner_text("main")
    await open_ok(parent, base + "/messages")
    assert "Контрольная по дробям" in await parent.inner_text("main")
    await parent.screenshot(path=shot("messages-1280", db_url), full_page=True)
    await parent_ctx.close()

    admin_ctx, admin = await signed_in_page(chromium, base, engine, world.admin_a, clock)
    await open_ok(admin, base + "/console/admin/replies")
    board = await admin.inner_text("main")
    assert "Контрольная по дробям" in board and "Просроченных переписок нет." in board
    await admin_ctx.close()

    clock.advance(timedelta(days=7))

    admin_ctx, admin = await signed_in_page(chromium, base, engine, world.admin_a, clock)
    await open_ok(admin, base + "/console/admin/replies")
    assert "Просрочено переписок: 1." in await admin.inner_text("main")
    row = admin.locator("table.replies tr.overdue")
    assert await row.count() == 1 and "Числова" in await row.inner_text()
    thread = admin.locator("table.replies tr.threads li", has_text="Контрольная по дробям")
    assert "просрочено" in await thread.inner_text()
    await admin.screenshot(path=shot("admin-replies-1280", db_url), full_page=True)
    await open_ok(admin, base + "/console")
    await admin.screenshot(path=shot("console-index-admin-1280", db_url), full_page=True)
    await admin_ctx.close()
