"""Correcting a published timetable over HTTP (docs/regulation.md, clause 6.2): the administrator's
draft correction leaves what families see untouched, and publishing it tells only the changed
class's families what changed, from the correction's own date.

The clock stands on Wednesday 15.10.2025; 5А and 5Б have timetables published from 01.09.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core import timetable
from diary_core.clock import FixedClock
from diary_core.models import Notification, Timetable
from diary_core.timetable import SlotInput
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

SEPT_1 = date(2025, 9, 1)
NEXT_WEEK = "2025-10-20"


@dataclass
class Site:
    base: str
    world: World
    engine: AsyncEngine
    clock: FixedClock
    published_5a: int

    async def browser(self, user_id: int) -> Browser:
        browser = Browser()
        await sign_in_as(browser, self.engine, user_id, self.clock.now())
        return browser

    async def page(self, user_id: int, path: str) -> str:
        browser = await self.browser(user_id)
        try:
            resp = await browser.get(self.base + path)
            assert resp.status == 200, path
            return await resp.text()
        finally:
            await browser.close()

    async def notifications(self, user_id: int) -> list[str]:
        async with AsyncSession(self.engine) as db:
            rows = await db.scalars(
                select(Notification.text)
                .where(Notification.user_id == user_id, Notification.kind == "timetable")
                .order_by(Notification.id)
            )
            return list(rows)


def week_5a(w: World, tuesday_room: str = "14") -> list[SlotInput]:
    """Monday: math (room 12), Russian (room 14); Tuesday: math, Russian in ``tuesday_room``."""
    return [
        SlotInput(1, 1, w.math_a, w.teacher_math, "12"),
        SlotInput(1, 2, w.russian_a, w.ct_5a, "14"),
        SlotInput(2, 1, w.math_a, w.teacher_math, "12"),
        SlotInput(2, 2, w.russian_a, w.ct_5a, tuesday_room),
    ]


def form_of(slots: list[SlotInput], token: str, tt: int | str, valid_from: str) -> dict[str, str]:
    form = {"csrf_token": token, "tt": str(tt), "valid_from": valid_from}
    for s in slots:
        key = f"s{s.weekday}_{s.lesson_number}"
        form.update(
            {
                f"{key}_subject": str(s.subject_id),
                f"{key}_teacher": str(s.teacher_id),
                f"{key}_room": s.room,
            }
        )
    return form


@pytest.fixture
async def site(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[Site]:
    admin = await world.ctx(world.admin_a)
    info = await timetable.set_weekly_timetable(admin, world.class_5a, SEPT_1, week_5a(world))
    await timetable.publish_timetable(admin, info.id)
    other = [SlotInput(1, 1, world.math_a, world.teacher_math, "20")]
    info_b = await timetable.set_weekly_timetable(admin, world.class_5b, SEPT_1, other)
    await timetable.publish_timetable(admin, info_b.id)
    await world.session.commit()
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield Site(url, world, engine, clock, info.id)


def timetable_text(html: str) -> str:
    """The diary's week card as plain text."""
    card = html.split('<section class="card" id="timetable">', 1)[1]
    card = card.split('<section class="card"', 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card))


async def save_correction(
    site: Site, admin: Browser, slots: list[SlotInput], valid_from: str
) -> tuple[int, str]:
    editor = f"{site.base}/console/admin/timetable?class={site.world.class_5a}"
    token = await admin.csrf(editor)
    resp = await admin.post(
        f"{site.base}/console/admin/timetable/classes/{site.world.class_5a}",
        form_of(slots, token, site.published_5a, valid_from),
    )
    return resp.status, (
        resp.headers.get("Location", "") if resp.status == 303 else await resp.text()
    )


async def test_a_draft_correction_leaves_the_parents_week_as_published(site: Site) -> None:
    w = site.world
    before = timetable_text(await site.page(w.parent_a1, f"/diary?week={NEXT_WEEK}"))
    assert "Русский язык · Классова" in before and "каб. 14" in before
    admin = await site.browser(w.admin_a)
    editor = await (
        await admin.get(f"{site.base}/console/admin/timetable?class={w.class_5a}")
    ).text()
    # the published version opens as a correction from today, and its date may be changed
    assert 'name="valid_from" value="15.10.2025"' in editor
    assert 'value="15.10.2025" required inputmode="numeric" placeholder="ДД.ММ.ГГГГ">' in editor
    status, where = await save_correction(site, admin, week_5a(w, tuesday_room="5"), "20.10.2025")
    assert status == 303 and "ok=saved" in where
    draft = await (await admin.get(site.base + where)).text()
    assert "Черновик" in draft and 'value="5"' in draft and "Опубликовано" in draft
    await admin.close()

    for family in (w.parent_a1, w.pupil_a1_user):
        after = timetable_text(await site.page(family, f"/diary?week={NEXT_WEEK}"))
        assert after == before, "a draft must not change what families see"
        assert "Уроков нет" not in after.split("Ср, 22.10")[0]  # Monday and Tuesday have lessons
    assert await site.notifications(w.parent_a1) == [
        "Опубликовано расписание класса 5А с 01.09.2025"
    ]
    # staff see the draft they are working on in the class's week
    staff = await site.page(w.ct_5a, f"/console/class/{w.class_5a}/timetable?week={NEXT_WEEK}")
    assert "Классова О., каб. 5" in staff and "черновик" in staff


async def test_a_correction_may_not_start_in_the_past(site: Site) -> None:
    admin = await site.browser(site.world.admin_a)
    status, text = await save_correction(site, admin, week_5a(site.world, "5"), "01.09.2025")
    await admin.close()
    assert status == 400
    assert (
        "исправление опубликованного расписания действует с сегодняшнего дня (15.10.2025)" in text
    )
    async with AsyncSession(site.engine) as db:
        drafts = await db.scalars(select(Timetable.id).where(Timetable.published_at.is_(None)))
        assert list(drafts) == []


async def test_publishing_a_correction_tells_only_the_changed_class_what_changed(
    site: Site,
) -> None:
    w = site.world
    admin = await site.browser(w.admin_a)
    status, where = await save_correction(site, admin, week_5a(w, tuesday_room="5"), "20.10.2025")
    assert status == 303
    draft_id = int(re.search(r"tt=(\d+)", where).group(1))  # type: ignore[union-attr]
    token = await admin.csrf(site.base + where)
    resp = await admin.post(
        f"{site.base}/console/admin/timetable/versions/{draft_id}/publish",
        {"csrf_token": token, "confirm": "yes"},
    )
    assert resp.status == 303
    await admin.close()

    change = "Изменения в расписании 5А с 20.10.2025: вторник, 2-й урок — кабинет 5 вместо 14"
    for family in (w.parent_a1, w.parent_a2, w.pupil_a1_user):
        assert (await site.notifications(family))[-1] == change
    diary = await site.page(w.parent_a1, "/diary")
    assert change in re.sub(r"\s+", " ", diary)
    # 5Б's families hear nothing of 5А's correction
    assert await site.notifications(w.parent_b1) == [
        "Опубликовано расписание класса 5Б с 01.09.2025"
    ]
    assert "Изменения в расписании" not in await site.page(w.parent_b1, "/diary")
    # the correction applies from its own date; the weeks before stay as they were
    this_week = timetable_text(await site.page(w.parent_a1, "/diary?week=2025-10-13"))
    next_week = timetable_text(await site.page(w.parent_a1, f"/diary?week={NEXT_WEEK}"))
    tuesday = this_week.split("Вт, 14.10", 1)[1].split("Ср, 15.10", 1)[0]
    assert "каб. 14" in tuesday and "каб. 5" not in tuesday
    tuesday = next_week.split("Вт, 21.10", 1)[1].split("Ср, 22.10", 1)[0]
    assert "каб. 5" in tuesday and "каб. 14" not in tuesday


async def test_publishing_a_correction_without_changes_tells_nobody(site: Site) -> None:
    w = site.world
    admin = await site.browser(w.admin_a)
    status, where = await save_correction(site, admin, week_5a(w), "20.10.2025")
    draft_id = int(re.search(r"tt=(\d+)", where).group(1))  # type: ignore[union-attr]
    token = await admin.csrf(site.base + where)
    resp = await admin.post(
        f"{site.base}/console/admin/timetable/versions/{draft_id}/publish",
        {"csrf_token": token, "confirm": "yes"},
    )
    await admin.close()
    assert status == 303 and resp.status == 303
    assert await site.notifications(w.parent_a1) == [
        "Опубликовано расписание класса 5А с 01.09.2025"
    ]
