"""The journal on a 1366×768 laptop in Debian's Chromium, a quarter of lessons wide: the grid
uses the window's width; scrolled sideways, the pupils' names stay at the left and the
average and period mark stay reachable at the right, none covered by the lessons; after a
save (Ctrl+Enter) and after a refused one the page opens with the edited or flagged cell in
view and focused; the skip link «к журналу» is the first Tab stop and Enter puts the focus in
the grid, with the keyboard script and without it. Screenshots are kept as artifacts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from playwright.async_api import Browser, BrowserContext, Page
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import lessons
from diary_core.clock import FixedClock
from tests.e2e.conftest import artifact
from tests.e2e.sessions import sign_in
from tests.support.gateway import free_port, gateway_settings, running_gateway
from tests.support.world import World

LAPTOP = {"width": 1366, "height": 768}
FIRST_DAY = date(2025, 9, 1)  # the clock is Wednesday 15 October 2025
LAST_DAY = date(2025, 10, 14)


@pytest.fixture
async def lesson_ids(world: World) -> list[int]:
    """A maths lesson of 5А on every weekday from 1 September to 14 October: 32 columns."""
    teacher = await world.ctx(world.teacher_math)
    found = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        if day.weekday() < 5:
            lesson = await lessons.record_lesson(
                teacher, class_id=world.class_5a, subject_id=world.math_a, day=day, lesson_number=1
            )
            found.append(lesson.id)
        day += timedelta(days=1)
    await world.session.commit()
    return found


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock, lesson_ids: list[int]
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


def _shot(name: str, db_url: str) -> str:
    return str(artifact(f"{name}-1366-{db_url.split('+')[0].split(':')[0]}.png"))


def _grid(base: str, world: World) -> str:
    return (
        f"{base}/console/gradebook?class={world.class_5a}&subject={world.math_a}"
        f"&period={world.a.quarter_ids[0]}"
    )


async def _teacher(
    chromium: Browser, base: str, engine: AsyncEngine, world: World, clock: FixedClock, **kw: bool
) -> tuple[BrowserContext, Page]:
    context = await chromium.new_context(viewport=LAPTOP, **kw)  # type: ignore[arg-type]
    await sign_in(context, base, engine, world.teacher_math, clock.now())
    page = await context.new_page()
    response = await page.goto(_grid(base, world))
    assert response is not None and response.ok
    return context, page


async def _on_top(page: Page, selector: str) -> bool:
    """Whether the element is what the window shows at its own centre (not covered)."""
    return bool(
        await page.evaluate(
            """sel => {
                const el = document.querySelector(sel);
                const r = el.getBoundingClientRect();
                const x = r.left + r.width / 2, y = r.top + r.height / 2;
                if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) { return false; }
                const hit = document.elementFromPoint(x, y);
                return hit === el || el.contains(hit);
            }""",
            selector,
        )
    )


async def test_names_stay_left_and_average_and_final_mark_stay_reachable(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
    lesson_ids: list[int],
) -> None:
    context, page = await _teacher(chromium, base, engine, world, clock)
    wrap = page.locator("#journal")
    box = await wrap.bounding_box()
    assert box is not None and box["width"] > 1200, box  # the window's width, not 1100 px
    sizes = await wrap.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert sizes[0] > sizes[1] + 500, sizes  # a quarter's lessons: much wider than the window
    name = f"#p{world.pupil_a1}"
    final = f"#p{world.pupil_a1} ~ td.final"
    average = f"#p{world.pupil_a1} ~ td.avg"
    before = await page.locator(name).bounding_box()
    assert before is not None
    # Unscrolled: the period mark and the average are on screen at the right already.
    for selector in (name, average, final):
        assert await _on_top(page, selector), f"{selector} hidden before scrolling"
    await page.screenshot(path=_shot("gradebook-start", db_url))

    await wrap.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    assert await wrap.evaluate("e => e.scrollLeft") > 500
    after = await page.locator(name).bounding_box()
    assert after is not None and abs(after["x"] - before["x"]) < 1, (before, after)
    last = f"#l{lesson_ids[-1]}"
    for selector in (name, average, final, last):
        assert await _on_top(page, selector), f"{selector} hidden after scrolling right"
    first_column = f"#l{lesson_ids[0]}"
    assert not await _on_top(page, first_column)  # scrolled away, under the names
    await page.screenshot(path=_shot("gradebook-scrolled-right", db_url))
    await context.close()


async def test_after_a_save_and_a_refused_one_the_cell_is_in_view_and_focused(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
    lesson_ids: list[int],
) -> None:
    context, page = await _teacher(chromium, base, engine, world, clock)
    # A column in the middle of the quarter: off screen until the grid is scrolled to it.
    name = f"c_{world.pupil_a2}_{lesson_ids[len(lesson_ids) // 2]}"
    cell = page.locator(f'input[name="{name}"]')
    assert not await _on_top(page, f'input[name="{name}"]')
    await cell.fill("5")
    async with page.expect_navigation():
        await cell.press("Control+Enter")  # the hint's «Ctrl+Enter — сохранить»
    assert f"#cell-{name}" in page.url
    assert "Сохранено. Изменено клеток: 1." in await page.inner_text("main")
    assert await _on_top(page, f"#cell-{name}"), "the saved cell is not in view"
    assert await page.evaluate("document.activeElement.name") == name
    await page.screenshot(path=_shot("gradebook-after-save", db_url))

    # Refused: the flagged cell, far right, comes back in view and focused (autofocus).
    bad = f"c_{world.pupil_a1}_{lesson_ids[-2]}"
    await page.locator("#journal").evaluate("e => { e.scrollLeft = 0; }")
    await page.locator(f'input[name="{bad}"]').fill("7")
    async with page.expect_navigation():
        await page.locator('form#grid button[type="submit"]').click()
    assert "неизвестная отметка «7»" in await page.inner_text("main")
    assert await _on_top(page, f"#cell-{bad}"), "the flagged cell is not in view"
    assert await page.evaluate("document.activeElement.name") == bad
    await page.screenshot(path=_shot("gradebook-refused", db_url))
    await context.close()


@pytest.mark.parametrize("script", [True, False], ids=["with-script", "without-script"])
async def test_skip_link_is_the_first_stop_and_enters_the_grid(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
    script: bool,
) -> None:
    context, page = await _teacher(chromium, base, engine, world, clock, java_script_enabled=script)
    await page.keyboard.press("Tab")
    focused = await page.evaluate(
        "[document.activeElement.className, document.activeElement.textContent]"
    )
    assert focused == ["skip", "к журналу"]
    assert await _on_top(page, "a.skip")  # shown once focused
    await page.screenshot(path=_shot(f"gradebook-skip-link-{'js' if script else 'nojs'}", db_url))
    await page.keyboard.press("Enter")
    in_grid = await page.evaluate(
        "[!!document.activeElement.closest('#journal'), document.activeElement.tagName]"
    )
    assert in_grid[0], in_grid
    if script:  # straight to the first cell one types into
        assert in_grid[1] == "INPUT"
        assert await page.evaluate("document.activeElement.name") == (
            f"c_{await _first_pupil(page)}"
        )
    await context.close()


async def _first_pupil(page: Page) -> str:
    """``{pupil}_{lesson}`` of the grid's first cell."""
    return str(
        await page.evaluate(
            "document.querySelector('#journal td input:not([type=hidden])').name.slice(2)"
        )
    )
