"""Pages on a 360 px phone in Debian's Chromium: a 180-letter word without spaces, typed into
every kind of text people type (a message's topic and body, an announcement's title and text,
a lesson's topic and homework, a mark's comment), wraps instead of widening the page; and in
the diary a mark's weight and lesson topic are on screen once its subject is opened, beside a
legend that says what bold marks are."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import announcements, lessons, marks, messaging
from diary_core.clock import FixedClock
from tests.e2e.conftest import artifact
from tests.e2e.sessions import sign_in
from tests.support.gateway import free_port, gateway_settings, running_gateway
from tests.support.world import World

PHONE = {"width": 360, "height": 740}
#: 180 letters, no space, no hyphen: nothing a browser would break at by itself.
LONG = "Сверхдлинноеслово" * 10 + "оченьдлинн"
assert len(LONG) == 180 and " " not in LONG

MONDAY = date(2025, 10, 13)  # the clock is Wednesday 15 October 2025
THURSDAY = date(2025, 10, 16)


@dataclass
class Seeded:
    lesson_id: int
    conversation_id: int


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


async def _seed(world: World) -> Seeded:
    """Long words everywhere 5А's parent and math teacher read typed text."""
    teacher = await world.ctx(world.teacher_math)
    lesson = await lessons.record_lesson(
        teacher,
        class_id=world.class_5a,
        subject_id=world.math_a,
        day=MONDAY,
        lesson_number=1,
        topic="Дроби",
        homework="№ 1",
    )
    # Changed once, so the lesson's history shows the topic and homework twice.
    await lessons.record_lesson(
        teacher,
        class_id=world.class_5a,
        subject_id=world.math_a,
        day=MONDAY,
        lesson_number=1,
        topic=LONG,
        homework=LONG,
    )
    await lessons.record_lesson(
        teacher,
        class_id=world.class_5a,
        subject_id=world.math_a,
        day=THURSDAY,
        lesson_number=1,
        topic=LONG,
        homework=LONG,
    )
    wt = world.a.work_type_ids
    await marks.record_mark(
        teacher,
        pupil_id=world.pupil_a1,
        subject_id=world.math_a,
        day=MONDAY,
        value="3",
        work_type_id=wt["Контрольная работа"],
        comment=LONG,
        lesson_id=lesson.id,
    )
    await marks.record_mark(
        teacher,
        pupil_id=world.pupil_a1,
        subject_id=world.math_a,
        day=MONDAY,
        value="5",
        work_type_id=wt["Ответ на уроке"],
        lesson_id=lesson.id,
    )
    conversation = await messaging.start_conversation(
        await world.ctx(world.parent_a1), [world.teacher_math], LONG, f"{LONG} {LONG}"
    )
    await messaging.reply(teacher, conversation, LONG)
    # The parent writes again: the thread awaits the teacher's answer on his console.
    await messaging.reply(await world.ctx(world.parent_a1), conversation, LONG)
    await announcements.announce(
        await world.ctx(world.admin_a), LONG, f"{LONG}\n{LONG}", "general", world.a.id
    )
    await world.session.commit()
    return Seeded(lesson.id, conversation)


async def _phone(
    chromium: Browser, base: str, engine: AsyncEngine, user: int, now: datetime
) -> Page:
    context = await chromium.new_context(viewport=PHONE)  # type: ignore[arg-type]
    await sign_in(context, base, engine, user, now)
    return await context.new_page()


def _shot(name: str, db_url: str) -> str:
    return str(artifact(f"{name}-360-{db_url.split('+')[0].split(':')[0]}.png"))


async def _page_width(page: Page, url: str, name: str, db_url: str) -> int:
    """The page's full width at 360 px, every details element open; a screenshot kept."""
    response = await page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    # Open every details element: text folded away must fit too.
    await page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert LONG[:40] in await page.inner_text("main"), f"{url} does not show the long word"
    await page.screenshot(path=_shot(name, db_url), full_page=True)
    return int(await page.evaluate("document.documentElement.scrollWidth"))


async def test_long_words_wrap_on_a_phone(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
) -> None:
    seeded = await _seed(world)
    widths: dict[str, int] = {}
    parent = await _phone(chromium, base, engine, world.parent_a1, clock.now())
    for path, name in (
        ("/diary", "diary-long-words"),
        ("/messages", "messages-long-words"),
        (f"/messages/{seeded.conversation_id}", "thread-long-words"),
        ("/announcements", "announcements-long-words"),
        ("/notifications", "notifications-long-words"),
    ):
        widths[path] = await _page_width(parent, base + path, name, db_url)
    await parent.context.close()

    teacher = await _phone(chromium, base, engine, world.teacher_math, clock.now())
    for path, name in (
        ("/console", "console-long-words"),
        (f"/console/lessons/{seeded.lesson_id}/history", "lesson-history-long-words"),
        (f"/messages/{seeded.conversation_id}", "teacher-thread-long-words"),
    ):
        widths["teacher " + path] = await _page_width(teacher, base + path, name, db_url)
    await teacher.context.close()

    admin = await _phone(chromium, base, engine, world.admin_a, clock.now())
    for path, name in (
        ("/console/admin/announcements", "admin-announcements-long-words"),
        ("/console/admin/replies", "admin-replies-long-words"),
    ):
        widths["admin " + path] = await _page_width(admin, base + path, name, db_url)
    await admin.context.close()
    too_wide = {path: width for path, width in widths.items() if width > PHONE["width"]}
    assert not too_wide, f"wider than a 360 px phone: {too_wide}"


async def test_mark_weight_and_topic_on_a_phone(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
) -> None:
    await _seed(world)
    page = await _phone(chromium, base, engine, world.parent_a1, clock.now())
    response = await page.goto(base + "/diary")
    assert response is not None and response.ok
    legend = page.locator("#marks .legend")
    assert "Жирным — отметки с весом больше 1" in await legend.inner_text()
    assert await legend.is_visible()

    # The documented interaction: a tap on the subject opens what each mark was for.
    math = page.locator("details.subject", has_text="Математика")
    await math.locator("summary").click()
    test_mark = math.locator(".mark-list tbody tr", has_text="Контрольная работа")
    assert await test_mark.count() == 1
    await page.screenshot(path=_shot("diary-mark-details", db_url), full_page=True)
    await page.locator("#marks").screenshot(path=_shot("diary-marks-card", db_url))
    for what, expected in (("weight", "3"), ("topic", LONG[:20])):
        cell = test_mark.locator(f"td.{what}")
        assert await cell.is_visible(), what
        assert expected in await cell.inner_text(), what
        box = await cell.bounding_box()
        assert box is not None, what
        assert 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], (what, box)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.context.close()
