"""Tables that scroll sideways on a phone can be reached by keyboard (WCAG 2.1.1): the account
page's sessions table sits in a focusable, named region, over real HTTP on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import FixedClock
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


async def test_sessions_table_scrolls_in_a_focusable_named_region(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    browser = Browser()
    await sign_in_as(browser, engine, world.parent_a1, clock.now())
    resp = await browser.get(base + "/account")
    text = await resp.text()
    await browser.close()
    assert resp.status == 200, text
    region = '<div class="table-wrap" tabindex="0" role="region" aria-label="Активные сеансы">'
    assert text.count(region) == 1
    assert text.index(region) < text.index("<th>Начат</th>")
    assert '<div class="table-wrap"><table>' not in text  # no scroll box left unreachable
