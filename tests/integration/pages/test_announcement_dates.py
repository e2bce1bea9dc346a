"""An announcement's inclusive end date is a calendar date of the school (``[server]
timezone``, Europe/Moscow here) over HTTP: "показывать до 17.12" keeps it shown through
17.12 23:59:59 Moscow time, hides it from 18.12 00:00 Moscow time (21:00 UTC), and staff and
parents both read back "17.12" as typed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core import timetable
from diary_core.clock import FixedClock
from diary_core.models import Announcement
from diary_core.timetable import ChangeRequest, SlotInput
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

POSTED = datetime(2025, 12, 10, 10, 0, tzinfo=UTC)
LAST_MINUTE = datetime(2025, 12, 17, 20, 59, tzinfo=UTC)  # 17.12 23:59 in Moscow
MIDNIGHT = datetime(2025, 12, 17, 21, 0, tzinfo=UTC)  # 18.12 00:00 in Moscow
TITLE = "Сбор макулатуры"


@dataclass
class Site:
    base: str
    world: World
    engine: AsyncEngine
    clock: FixedClock

    def at(self, moment: datetime) -> None:
        self.clock.advance(moment - self.clock.now())

    async def page(self, user_id: int, path: str) -> str:
        browser = Browser()
        try:
            await sign_in_as(browser, self.engine, user_id, self.clock.now())
            resp = await browser.get(self.base + path)
            assert resp.status == 200, path
            return re.sub(r"\s+", " ", await resp.text())
        finally:
            await browser.close()


@pytest.fixture
async def site(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[Site]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield Site(url, world, engine, clock)


async def post_announcement(site: Site, expires: str) -> int:
    w = site.world
    browser = Browser()
    try:
        await sign_in_as(browser, site.engine, w.ct_5a, site.clock.now())
        url = f"{site.base}/console/class/{w.class_5a}/announcements"
        token = await browser.csrf(url)
        form = {"csrf_token": token, "kind": "general", "title": TITLE, "body": "Во дворе школы."}
        resp = await browser.post(url, {**form, "expires": expires})
        assert resp.status == 303, await resp.text()
    finally:
        await browser.close()
    return w.class_5a


@pytest.mark.parametrize("typed", ["2025-12-17", "17.12.2025"])
async def test_inclusive_last_day_ends_at_the_schools_midnight(site: Site, typed: str) -> None:
    w = site.world
    site.at(POSTED)
    await post_announcement(site, typed)
    async with AsyncSession(site.engine) as db:
        stored = await db.scalar(select(Announcement.expires_at))
    assert stored == MIDNIGHT  # the first instant of 18.12 in Moscow

    staff = await site.page(w.ct_5a, f"/console/class/{w.class_5a}/announcements")
    assert "показывается до 17.12.2025 включительно" in staff and "18.12" not in staff
    parent = await site.page(w.parent_a1, "/announcements")
    assert "до 17.12.2025 включительно" in parent and "18.12" not in parent

    site.at(LAST_MINUTE)
    for user_id, path in (
        (w.parent_a1, "/announcements"),
        (w.parent_a1, "/diary"),
        (w.pupil_a1_user, "/announcements"),
        (w.ct_5a, f"/console/class/{w.class_5a}/announcements"),
    ):
        assert TITLE in await site.page(user_id, path), (user_id, path)

    site.at(MIDNIGHT)
    for user_id, path in (
        (w.parent_a1, "/announcements"),
        (w.parent_a1, "/diary"),
        (w.pupil_a1_user, "/announcements"),
        (w.ct_5a, f"/console/class/{w.class_5a}/announcements"),
    ):
        assert TITLE not in await site.page(user_id, path), (user_id, path)


async def test_a_last_day_already_over_at_the_school_is_refused(site: Site) -> None:
    """At 17.12 21:30 UTC it is already 18.12 in Moscow: "through 17.12" is over."""
    w = site.world
    site.at(MIDNIGHT + timedelta(minutes=30))
    browser = Browser()
    try:
        await sign_in_as(browser, site.engine, w.ct_5a, site.clock.now())
        url = f"{site.base}/console/class/{w.class_5a}/announcements"
        token = await browser.csrf(url)
        resp = await browser.post(
            url,
            {
                "csrf_token": token,
                "kind": "general",
                "title": TITLE,
                "body": "…",
                "expires": "17.12.2025",
            },
        )
        assert resp.status == 400 and "срок действия объявления уже истёк" in await resp.text()
    finally:
        await browser.close()


async def test_a_timetable_change_announced_is_shown_through_its_day_at_the_school(
    site: Site,
) -> None:
    w = site.world
    site.at(POSTED)
    admin = await w.ctx(w.admin_a)
    slots = [SlotInput(4, 1, w.math_a, w.teacher_math, "12")]  # Thursdays
    info = await timetable.set_weekly_timetable(admin, w.class_5a, date(2025, 9, 1), slots)
    await timetable.publish_timetable(admin, info.id)
    thursday = date(2025, 12, 18)
    await timetable.change_timetable(
        admin, w.class_5a, thursday, 1, ChangeRequest("cancellation"), announce=True
    )
    await w.session.commit()
    async with AsyncSession(site.engine) as db:
        stored = await db.scalar(select(Announcement.expires_at))
    assert stored == datetime(2025, 12, 18, 21, 0, tzinfo=UTC)  # 19.12 00:00 in Moscow
    parent = await site.page(w.parent_a1, "/announcements")
    assert "Изменение расписания 5А на 18.12.2025" in parent
    assert "до 18.12.2025 включительно" in parent
    site.at(datetime(2025, 12, 18, 21, 0, tzinfo=UTC))
    assert "Изменение расписания 5А" not in await site.page(w.parent_a1, "/announcements")


async def test_a_link_codes_expiry_reads_in_the_schools_time(site: Site) -> None:
    """Issued at 22:30 in Moscow on 10.12 (19:30 UTC), a 14-day code dies at 22:30 on 24.12
    in Moscow: the slip says so, not the UTC date and time."""
    w = site.world
    site.at(datetime(2025, 12, 10, 19, 30, tzinfo=UTC))
    browser = Browser()
    try:
        await sign_in_as(browser, site.engine, w.ct_5a, site.clock.now())
        token = await browser.csrf(f"{site.base}/console/class/{w.class_5a}")
        form = {"csrf_token": token, "what": "link_code", "user_id": str(w.pupil_a1_user)}
        issued = await browser.post(f"{site.base}/console/class/{w.class_5a}/credentials", form)
        assert issued.status == 303
        slip = await (await browser.get(site.base + issued.headers["Location"])).text()
    finally:
        await browser.close()
    assert re.search(r"<dt>Действует до</dt><dd>24\.12\.2025 22:30</dd>", slip), slip
