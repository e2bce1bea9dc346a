"""The class teacher's console over real HTTP: credentials on slips shown once, ESIA link
codes, guardianship decisions, class announcements and timetable changes
(docs/regulation.md, clauses 3.1, 3.3, 4.1, 2.3)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import timetable
from diary_core.accounts import HASHER
from diary_core.clock import FixedClock
from diary_core.models import (
    Announcement,
    Guardianship,
    Notification,
    OneTimeCode,
    TimetableChange,
    User,
)
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

TOMORROW = date(2025, 10, 16)  # the clock stands on Wednesday 15.10.2025


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


async def browser_as(engine: AsyncEngine, user_id: int, clock: FixedClock) -> Browser:
    browser = Browser()
    await sign_in_as(browser, engine, user_id, clock.now())
    return browser


def class_url(base: str, world: World, suffix: str = "") -> str:
    return f"{base}/console/class/{world.class_5a}{suffix}"


async def user_row(engine: AsyncEngine, user_id: int) -> User:
    async with engine.connect() as conn:
        return (await conn.execute(select(User).where(User.id == user_id))).one()  # type: ignore[return-value]


async def notified(engine: AsyncEngine, kind: str) -> set[int]:
    async with engine.connect() as conn:
        return set(
            await conn.scalars(select(Notification.user_id).where(Notification.kind == kind))
        )


async def test_class_page_lists_pupils_parents_and_their_access(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    browser = await browser_as(engine, world.ct_5a, clock)
    resp = await browser.get(class_url(base, world))
    text = await resp.text()
    assert resp.status == 200
    for name in ("Смирнов Артём", "Кузнецова Дарья", "Смирнова Елена", "Смирнов Олег"):
        assert name in text
    assert "Попов" not in text  # 5Б
    assert "не подтверждён" in text and "нет доступа" in text
    assert "Ожидают подтверждения" in text
    await browser.close()


async def test_class_teacher_issues_credentials_shown_once_on_a_slip(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    browser = await browser_as(engine, world.ct_5a, clock)
    token = await browser.csrf(class_url(base, world))
    issued = await browser.post(
        class_url(base, world, "/credentials"),
        {"csrf_token": token, "what": "password", "user_id": str(world.parent_a1)},
    )
    assert issued.status == 303  # a reload of the slip is a GET: it issues nothing
    resp = await browser.get(base + issued.headers["Location"])
    text = await resp.text()
    assert resp.status == 200
    assert "no-store" in resp.headers["Cache-Control"]
    secrets = re.findall(r'<dd class="secret">([^<]+)</dd>', text)
    assert len(secrets) == 2, text
    login, password = secrets
    assert "Смирнова Елена" in text and "@media print" not in text  # styles come from a file
    stored = await user_row(engine, world.parent_a1)
    assert stored.login == login and stored.must_change_password
    assert stored.password_hash and password not in stored.password_hash
    assert HASHER.verify(stored.password_hash, password)
    for again in (
        base + issued.headers["Location"],
        class_url(base, world, "/credentials"),
        class_url(base, world),
    ):
        later = await browser.get(again)
        assert later.status == 200 and password not in await later.text()
    await browser.close()
    parent = Browser()
    signed = await parent.login(base, login, password)
    assert signed.status == 303 and signed.headers["Location"] == "/account/password"
    await parent.close()


async def test_link_code_slip_shows_the_code_once_and_stores_its_hash(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    browser = await browser_as(engine, world.ct_5a, clock)
    token = await browser.csrf(class_url(base, world))
    issued = await browser.post(
        class_url(base, world, "/credentials"),
        {"csrf_token": token, "what": "link_code", "user_id": str(world.pupil_a1_user)},
    )
    assert issued.status == 303
    resp = await browser.get(base + issued.headers["Location"])
    text = await resp.text()
    assert resp.status == 200 and "no-store" in resp.headers["Cache-Control"]
    codes = re.findall(r'<dd class="secret">([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</dd>', text)
    assert len(codes) == 1 and "Смирнов Артём" in text
    async with engine.connect() as conn:
        row = (await conn.execute(select(OneTimeCode))).one()
    assert row.user_id == world.pupil_a1_user
    assert row.code_hash == hashlib.sha256(codes[0].replace("-", "").encode()).hexdigest()
    for again in (base + issued.headers["Location"], class_url(base, world, "/credentials")):
        assert codes[0] not in await (await browser.get(again)).text()
    await browser.close()


async def test_class_teacher_of_another_class_is_refused_and_nothing_written(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    browser = await browser_as(engine, world.ct_5b, clock)
    page = await browser.get(class_url(base, world))
    assert page.status == 403 and "Смирнов" not in await page.text()
    token = await browser.csrf(f"{base}/console/class/{world.class_5b}")
    issue = await browser.post(
        class_url(base, world, "/credentials"),
        {"csrf_token": token, "what": "password", "user_id": str(world.parent_a1)},
    )
    assert issue.status == 403
    # his own class's address does not reach another class's people either
    smuggled = await browser.post(
        f"{base}/console/class/{world.class_5b}/credentials",
        {"csrf_token": token, "what": "password", "user_id": str(world.parent_a1)},
    )
    assert smuggled.status == 404
    async with engine.connect() as conn:
        link_id = await conn.scalar(
            select(Guardianship.id).where(Guardianship.guardian_id == world.parent_pending)
        )
    decide = await browser.post(
        class_url(base, world, f"/guardianships/{link_id}"),
        {"csrf_token": token, "decision": "confirm"},
    )
    assert decide.status == 403
    meeting = await browser.post(
        class_url(base, world, "/announcements"),
        {"csrf_token": token, "kind": "parent_meeting", "title": "Собрание", "body": "В 18:00"},
    )
    assert meeting.status == 403
    stored = await user_row(engine, world.parent_a1)
    assert stored.password_hash is None and stored.login is None
    async with engine.connect() as conn:
        status = await conn.scalar(select(Guardianship.status).where(Guardianship.id == link_id))
        assert status == "pending"
        assert (await conn.execute(select(Announcement))).first() is None
    await browser.close()
    stranger = await browser_as(engine, world.teacher_b, clock)
    assert (await stranger.get(class_url(base, world))).status == 404
    await stranger.close()


async def test_confirming_a_pending_guardianship_opens_the_childs_diary(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    parent = await browser_as(engine, world.parent_pending, clock)
    before = await (await parent.get(base + "/diary")).text()
    assert "Смирнов Артём" not in before
    browser = await browser_as(engine, world.ct_5a, clock)
    token = await browser.csrf(class_url(base, world))
    async with engine.connect() as conn:
        link_id = await conn.scalar(
            select(Guardianship.id).where(Guardianship.guardian_id == world.parent_pending)
        )
    resp = await browser.post(
        class_url(base, world, f"/guardianships/{link_id}"),
        {"csrf_token": token, "decision": "confirm"},
    )
    assert resp.status == 303
    after = await (await parent.get(base + "/diary")).text()
    assert "Смирнов Артём" in after
    again = await browser.post(
        class_url(base, world, f"/guardianships/{link_id}"),
        {"csrf_token": token, "decision": "reject"},
    )
    assert again.status == 404  # no longer pending
    await browser.close()
    await parent.close()


async def test_parent_meeting_announcement_notifies_the_class_parents(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    browser = await browser_as(engine, world.ct_5a, clock)
    url = class_url(base, world, "/announcements")
    token = await browser.csrf(url)
    empty = await browser.post(
        url, {"csrf_token": token, "kind": "parent_meeting", "title": " ", "body": "В 18:00"}
    )
    text = await empty.text()
    assert empty.status == 400 and "Заголовок" in text and "В 18:00" in text
    resp = await browser.post(
        url,
        {
            "csrf_token": token,
            "kind": "parent_meeting",
            "title": "Собрание 20.10",
            "body": "В 18:00, кабинет 12",
            "expires": "20.10.2025",
        },
    )
    assert resp.status == 303
    assert await notified(engine, "meeting") == {world.parent_a1, world.parent_a2}
    async with engine.connect() as conn:
        row = (await conn.execute(select(Announcement))).one()
    assert (row.class_id, row.kind) == (world.class_5a, "parent_meeting")
    listing = await (await browser.get(url)).text()
    assert "Собрание 20.10" in listing
    await browser.close()


async def _published_timetable(world: World) -> None:
    admin = await world.ctx(world.admin_a)
    info = await timetable.set_weekly_timetable(
        admin,
        world.class_5a,
        date(2025, 9, 1),
        [
            timetable.SlotInput(TOMORROW.isoweekday(), 1, world.math_a, world.teacher_math, "7"),
            timetable.SlotInput(TOMORROW.isoweekday(), 2, world.russian_a, world.ct_5a, "8"),
        ],
    )
    await timetable.publish_timetable(admin, info.id)
    await world.session.commit()


async def test_timetable_change_for_tomorrow_notifies_the_class_families(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await _published_timetable(world)
    browser = await browser_as(engine, world.ct_5a, clock)
    url = class_url(base, world, "/timetable")
    token = await browser.csrf(url)
    resp = await browser.post(
        url,
        {
            "csrf_token": token,
            "date": TOMORROW.isoformat(),
            "lesson_number": "1",
            "kind": "substitution",
            "teacher_id": str(world.ct_5b),
            "subject_id": "",
            "room": "",
            "moved_to_date": "",
            "moved_to_lesson": "",
            "note": "Учитель на курсах",
        },
    )
    assert resp.status == 303, await resp.text()
    families = await notified(engine, "timetable_change")
    assert {world.pupil_a1_user, world.parent_a1, world.parent_a2} <= families
    assert world.parent_b1 not in families and world.parent_pending not in families
    week = await (await browser.get(base + resp.headers["Location"])).text()
    assert "замена" in week and "Буквина И." in week
    async with engine.connect() as conn:
        change = (await conn.execute(select(TimetableChange))).one()
    assert (change.kind, change.teacher_id, change.date) == ("substitution", world.ct_5b, TOMORROW)
    await browser.close()


async def test_bad_timetable_change_keeps_the_form_and_writes_nothing(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await _published_timetable(world)
    browser = await browser_as(engine, world.ct_5a, clock)
    url = class_url(base, world, "/timetable")
    token = await browser.csrf(url)
    resp = await browser.post(
        url,
        {
            "csrf_token": token,
            "date": TOMORROW.isoformat(),
            "lesson_number": "2",
            "kind": "room_change",
            "room": "",
            "note": "Ремонт",
        },
    )
    text = await resp.text()
    assert resp.status == 400 and "укажите новый кабинет" in text and 'value="Ремонт"' in text
    assert await notified(engine, "timetable_change") == set()
    await browser.close()


async def test_class_forms_without_csrf_are_refused(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    browser = await browser_as(engine, world.ct_5a, clock)
    resp = await browser.post(
        class_url(base, world, "/credentials"),
        {"what": "password", "user_id": str(world.parent_a1)},
    )
    assert resp.status == 403
    assert (await user_row(engine, world.parent_a1)).password_hash is None
    await browser.close()
