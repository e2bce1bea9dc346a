"""Russian wording where a person reads it, over HTTP on both databases: how long a message
waits for a reply («ждёт меньше дня», «1 день», «2 дня», «5 дней»), the sender's name in
the genitive («от Смирновой Елены Петровны»), browsers by name in the sessions table, and
how long to wait after too many failed sign-ins, and where a moved lesson takes place
(«урок пройдёт в актовом зале»)."""

from __future__ import annotations

import hashlib
import html as html_lib
import math
import re
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core import accounts
from diary_core.clock import FixedClock
from gateway.storage import WebSession
from tests.integration.pages.test_class_teacher_pages import TOMORROW, _published_timetable
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World
from tests.unit.test_useragent import IPHONE_SAFARI, WIN_CHROME


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


def _text(page: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


async def _page(engine: AsyncEngine, clock: FixedClock, user_id: int, url: str) -> str:
    browser = Browser()
    try:
        await sign_in_as(browser, engine, user_id, clock.now())
        resp = await browser.get(url)
        assert resp.status == 200, url
        return _text(await resp.text())
    finally:
        await browser.close()


async def _parent_writes(base: str, engine: AsyncEngine, clock: FixedClock, w: World) -> None:
    parent = Browser()
    await sign_in_as(parent, engine, w.parent_a1, clock.now())
    token = await parent.csrf(base + "/messages/new")
    resp = await parent.post(
        base + "/messages/new",
        {
            "csrf_token": token,
            "recipient": str(w.teacher_math),
            "topic": "Контрольная по дробям",
            "body": "Можно ли переписать?",
        },
    )
    await parent.close()
    assert resp.status == 303


@pytest.mark.parametrize(
    ("after", "teacher_sees", "admin_sees"),
    [
        (timedelta(minutes=5), "ждёт меньше дня", "меньше часа"),
        (timedelta(days=1), "ждёт 1 день", "1 день"),
        (timedelta(days=2, hours=3), "ждёт 2 дня", "2 дня 3 часа"),
        (timedelta(days=5, hours=1), "ждёт 5 дней", "5 дней 1 час"),
    ],
)
async def test_how_long_a_message_waits_for_a_reply(
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    after: timedelta,
    teacher_sees: str,
    admin_sees: str,
) -> None:
    await _parent_writes(base, engine, clock, world)
    clock.advance(after)
    listing = await _page(engine, clock, world.teacher_math, base + "/messages")
    console = await _page(engine, clock, world.teacher_math, base + "/console")
    board = await _page(engine, clock, world.admin_a, base + "/console/admin/replies")
    assert f"({teacher_sees})" in listing
    assert f"— {teacher_sees} (с" in console
    assert f"({admin_sees})" in board
    for page in (listing, console, board):
        assert "дн." not in page and " ч." not in page


async def test_notification_names_the_sender_in_the_genitive(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await _parent_writes(base, engine, clock, world)
    page = await _page(engine, clock, world.teacher_math, base + "/notifications")
    assert "Новое сообщение от Смирновой Елены Петровны: «Контрольная по дробям»" in page


async def test_sessions_table_names_browsers_and_systems(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    browser = Browser()
    await sign_in_as(browser, engine, world.teacher_math, clock.now())
    async with AsyncSession(engine) as db:
        await db.execute(
            update(WebSession)
            .where(WebSession.user_id == world.teacher_math)
            .values(user_agent=WIN_CHROME)
        )
        for agent in (IPHONE_SAFARI, ""):
            db.add(
                WebSession(
                    id_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
                    user_id=world.teacher_math,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=clock.now(),
                    last_seen_at=clock.now(),
                    expires_at=clock.now() + timedelta(hours=12),
                    ip="192.0.2.7",
                    user_agent=agent,
                    method="esia",
                    data={},
                )
            )
        await db.commit()
    resp = await browser.get(base + "/account")
    await browser.close()
    assert resp.status == 200
    cells = [_text(c) for c in re.findall(r'<td class="ua">(.*?)</td>', await resp.text(), re.S)]
    assert sorted(cells) == sorted(
        ["Chrome 131, Windows 10", "Safari, iOS 17", "неизвестный браузер"]
    )
    assert "Mozilla" not in await resp.text()


async def test_lockout_page_says_how_long_to_wait(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    ctx = await world.ctx(world.admin_a)
    issued = await accounts.issue_credentials(ctx, world.teacher_math)
    await world.session.commit()
    browser = Browser()
    try:
        for _ in range(10):
            assert (await browser.login(base, issued.login, "wrong-password-1")).status == 401
        waits = []
        for step in (timedelta(0), timedelta(seconds=90)):
            clock.advance(step)
            refused = await browser.login(base, issued.login, issued.one_time_password)
            assert refused.status == 429
            retry_after = int(refused.headers["Retry-After"])
            found = re.search(
                r"Слишком много неудачных попыток\. Попробуйте снова через (\d+) мин\.",
                _text(await refused.text()),
            )
            assert found, "no wait on the lock-out page"
            assert int(found.group(1)) == math.ceil(retry_after / 60)
            waits.append(int(found.group(1)))
        assert waits == [5, 4]  # the window is five minutes; a minute and a half later, four
    finally:
        await browser.close()


@pytest.mark.parametrize(
    ("room", "said"),
    [
        ("актовый зал", "урок пройдёт в актовом зале"),
        ("12", "урок пройдёт в кабинете 12"),
        ("Точка роста", "другой кабинет — Точка роста"),
    ],
)
async def test_room_change_says_where_in_good_russian(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, room: str, said: str
) -> None:
    await _published_timetable(world)
    browser = Browser()
    await sign_in_as(browser, engine, world.ct_5a, clock.now())
    url = f"{base}/console/class/{world.class_5a}/timetable"
    token = await browser.csrf(url)
    resp = await browser.post(
        url,
        {
            "csrf_token": token,
            "date": TOMORROW.isoformat(),
            "lesson_number": "2",
            "kind": "room_change",
            "teacher_id": "",
            "subject_id": "",
            "room": room,
            "moved_to_date": "",
            "moved_to_lesson": "",
            "note": "",
        },
    )
    await browser.close()
    assert resp.status == 303, await resp.text()
    page = await _page(engine, clock, world.parent_a1, base + "/notifications")
    assert said in page
    assert "в кабинете актовый" not in page and "в кабинете Точка" not in page
