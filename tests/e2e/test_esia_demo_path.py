"""The demo path as a new user tries it: "Войти через Госуслуги", pick a test parent on the
emulator's page, land in the diary with the children linked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import FixedClock
from diary_core.models import User
from tests.e2e.conftest import artifact
from tests.support.gateway import free_port, gateway_settings, running_esia, running_gateway
from tests.support.world import World

PARENT_OID = "1000000101"


@pytest.fixture
async def demo(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock, tmp_path: Path
) -> AsyncIterator[str]:
    parent = await world.session.get(User, world.parent_a1)
    assert parent is not None
    persons: list[dict[str, Any]] = [
        {
            "oid": PARENT_OID,
            "lastName": parent.last_name,
            "firstName": parent.first_name,
            "middleName": parent.middle_name,
            "birthDate": "02.03.1984",
            "gender": "F",
            "snils": parent.snils,
            "trusted": True,
            "email": "",
            "mobile": "",
            "kids": [],
        }
    ]
    async with running_esia(persons, tmp_path) as (_esia, env):
        settings = gateway_settings(db_url, free_port(), env)
        async with running_gateway(settings, clock) as url:
            yield url


async def test_parent_signs_in_through_esia_and_sees_his_child(
    chromium: Browser, demo: str, db_url: str
) -> None:
    page = await chromium.new_page(viewport={"width": 360, "height": 740})
    await page.goto(demo + "/login")
    await page.screenshot(path=artifact(f"login-{db_url.split('+')[0]}.png"), full_page=True)
    await page.click("text=Войти через Госуслуги")
    await page.wait_for_selector("input[name=oid]")
    await page.check(f"input[name=oid][value='{PARENT_OID}']")
    await page.click("button[type=submit]:not([name=deny])")
    await page.wait_for_url(demo + "/diary")
    assert "Смирнов Артём" in await page.inner_text("main")
    await page.screenshot(
        path=artifact(f"diary-after-esia-{db_url.split('+')[0]}.png"), full_page=True
    )
