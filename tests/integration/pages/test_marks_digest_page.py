"""A parent reads an import's digest on his notifications page: titled as marks from a file,
its lines kept apart."""

from __future__ import annotations

import html as html_lib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import FixedClock
from diary_core.imports import MARKS_COLUMNS, import_marks
from diary_core.models import User
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


async def test_the_parent_reads_the_digest_with_its_lines(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    pupil = await world.session.get(User, world.pupil_a1_user)
    assert pupil is not None and pupil.snils
    rows = [
        f"5А,Математика,{pupil.snils},2025-10-01,5,Ответ на уроке,,",
        f"5А,Математика,{pupil.snils},2025-10-02,4,Ответ на уроке,,",
    ]
    data = "\n".join((",".join(MARKS_COLUMNS), *rows)) + "\n"
    await import_marks(await world.ctx(world.admin_a), world.a.id, data, file_name="m.csv")
    await world.session.commit()

    browser = Browser()
    await sign_in_as(browser, engine, world.parent_a1, clock.now())
    page = html_lib.unescape(await (await browser.get(base + "/notifications")).text())
    await browser.close()
    assert '<span class="kind">отметки из файла</span>' in page
    assert (
        '<span class="text">Загружены отметки из файла школы: 2 новые отметки.\n'
        "Смирнов Артём:\n"
        "— Математика, 01.10: новая отметка «5» (ответ на уроке)\n"
        "— Математика, 02.10: новая отметка «4» (ответ на уроке)</span>"
    ) in page
