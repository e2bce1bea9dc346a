"""The terms' dates are the school's to adjust in the console (/console/admin/periods): a
new school gets the usual calendar's quarters, and a school whose holidays differ moves
them. Inside the year, clear of the other terms, never for a signed-off term; audited."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core import period_marks
from diary_core.clock import FixedClock
from diary_core.models import AuditEvent, Period
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

URL = "/console/admin/periods"


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


async def _admin(engine: AsyncEngine, clock: FixedClock, user_id: int) -> Browser:
    browser = Browser()
    await sign_in_as(browser, engine, user_id, clock.now())
    return browser


async def _dates(engine: AsyncEngine, period_id: int) -> tuple[date, date]:
    async with AsyncSession(engine) as db:
        period = await db.get(Period, period_id)
        assert period is not None
        return period.starts_on, period.ends_on


async def _post(
    browser: Browser, base: str, period_id: int, starts: str, ends: str
) -> tuple[int, str]:
    token = await browser.csrf(base + URL)
    resp = await browser.post(
        base + f"{URL}/{period_id}/dates",
        {"csrf_token": token, "starts_on": starts, "ends_on": ends},
    )
    return resp.status, html_lib.unescape(await resp.text())


async def test_administrator_moves_a_quarter(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    first = world.a.quarter_ids[0]
    browser = await _admin(engine, clock, world.admin_a)
    page = await (await browser.get(base + URL)).text()
    assert "Даты четвертей" in page
    forms = re.findall(r'action="/console/admin/periods/(\d+)/dates"', page)
    assert [int(f) for f in forms] == world.a.quarter_ids  # the four quarters, not the year
    status, text = await _post(browser, base, first, "2025-09-01", "2025-10-24")
    assert status == 303, text
    assert await _dates(engine, first) == (date(2025, 9, 1), date(2025, 10, 24))
    after = await (await browser.get(base + URL + "?ok=dates")).text()
    assert "Даты периода изменены" in after and 'value="2025-10-24"' in after
    await browser.close()
    async with AsyncSession(engine) as db:
        event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "period.dates"))
    assert event is not None and event.actor_id == world.admin_a
    assert event.object_id == str(first)


@pytest.mark.parametrize(
    ("starts", "ends", "said"),
    [
        ("2025-09-01", "2025-12-31", "даты пересекаются с периодом «2 четверть»"),
        ("2025-08-25", "2025-10-24", "внутри 2025/2026 учебного года (01.09.2025 – 31.05.2026)"),
        ("2025-10-24", "2025-09-01", "период не может закончиться раньше, чем начался"),
        ("31.02.2025", "2025-10-24", "неверная дата в поле «начало»"),
    ],
)
async def test_bad_dates_are_refused_with_what_was_typed(
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    starts: str,
    ends: str,
    said: str,
) -> None:
    first = world.a.quarter_ids[0]
    before = await _dates(engine, first)
    browser = await _admin(engine, clock, world.admin_a)
    status, text = await _post(browser, base, first, starts, ends)
    await browser.close()
    assert status == 400
    assert said in text
    assert f'value="{starts}"' in text and f'value="{ends}"' in text
    assert await _dates(engine, first) == before


async def test_a_signed_off_quarter_keeps_its_dates(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    first = world.a.quarter_ids[0]
    teacher = await world.ctx(world.teacher_math)
    await period_marks.set_period_mark(
        teacher, pupil_id=world.pupil_a1, subject_id=world.math_a, period_id=first, value="4"
    )
    await period_marks.lock_period_marks(await world.ctx(world.admin_a), world.a.id, first)
    await world.session.commit()
    before = await _dates(engine, first)
    browser = await _admin(engine, clock, world.admin_a)
    status, text = await _post(browser, base, first, "2025-09-01", "2025-10-24")
    await browser.close()
    assert status == 400 and "уже закрыты" in text
    assert await _dates(engine, first) == before


async def test_another_schools_period_is_not_found(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    theirs = world.b.quarter_ids[0]
    before = await _dates(engine, theirs)
    browser = await _admin(engine, clock, world.admin_a)
    status, _ = await _post(browser, base, theirs, "2025-09-01", "2025-10-24")
    await browser.close()
    assert status == 404
    assert await _dates(engine, theirs) == before
