"""The diary page through a signed-in browser: a parent sees his child, not another family's."""

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


async def test_parent_diary_shows_own_child_only(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    browser = Browser()
    await sign_in_as(browser, engine, world.parent_a1, clock.now())
    text = await (await browser.get(base + "/diary")).text()
    assert "Смирнов Артём" in text and "Кузнецова Дарья" not in text
    other = await browser.get(base + f"/diary?pupil={world.pupil_a2}")
    assert other.status == 404 and "Кузнецова" not in await other.text()
    await browser.close()
