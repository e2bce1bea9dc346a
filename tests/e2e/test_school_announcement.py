"""A school-wide announcement in a browser (docs/regulation.md, clause 2.3): the administrator
writes it in the console on a 360 px phone screen, without horizontal scrolling; a parent of another
class sees it in his announcements, opens it, and the administrator sees «прочитали 1 из …»
with the parent's name."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import FixedClock
from tests.e2e.sessions import sign_in
from tests.e2e.test_diary_workflows import PHONE, open_ok, shot
from tests.support.gateway import free_port, gateway_settings, running_gateway
from tests.support.world import World


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


async def _fits(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways: {width}px"


async def test_admin_announces_to_the_school_and_a_parent_reads_it(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
) -> None:
    admin_ctx = await chromium.new_context(viewport=PHONE)  # type: ignore[arg-type]
    await sign_in(admin_ctx, base, engine, world.admin_a, clock.now())
    console = await admin_ctx.new_page()
    await open_ok(console, base + "/console/admin/staff")
    await console.click("nav.admin-nav a:has-text('Объявления')")
    await console.wait_for_url("**/console/admin/announcements")
    await console.check("input[name=audience][value=school]")
    await console.check("input[name=kind][value=general]")
    await console.fill("input[name=title]", "Карантин отменён")
    await console.fill("textarea[name=body]", "Занятия идут по обычному расписанию.")
    await _fits(console)
    await console.click("button:has-text('Опубликовать')")
    await console.wait_for_url("**done=posted**")
    row = console.locator("table.announcements-admin tr", has_text="Карантин отменён")
    assert "для всей школы" in await row.inner_text()
    assert "прочитали 0 из" in await row.inner_text()
    await _fits(console)
    await console.screenshot(path=shot("admin-announcement-360", db_url), full_page=True)

    parent_ctx = await chromium.new_context(viewport=PHONE)  # type: ignore[arg-type]
    await sign_in(parent_ctx, base, engine, world.parent_b1, clock.now())  # a 5Б parent
    news = await parent_ctx.new_page()
    await open_ok(news, base + "/announcements")
    item = news.locator("li.announcement", has_text="Карантин отменён")
    assert "для всей школы" in await item.inner_text()
    await item.locator("a:has-text('Карантин отменён')").click()
    await news.wait_for_url("**/announcements/*")
    assert "Занятия идут по обычному расписанию." in await news.inner_text("main")
    await _fits(news)
    await news.screenshot(path=shot("parent-announcement-360", db_url), full_page=True)

    await console.reload()
    row = console.locator("table.announcements-admin tr", has_text="Карантин отменён")
    assert "прочитали 1 из" in await row.inner_text()
    await row.locator("a").click()
    assert "Попова Анна" in await console.locator("#receipts").inner_text()
    await console.screenshot(path=shot("admin-announcement-receipts-360", db_url), full_page=True)
    await admin_ctx.close()
    await parent_ctx.close()
