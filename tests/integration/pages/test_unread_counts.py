"""Unread counts in the header and the diary's tabs: «Сообщения (2)», «Уведомления (1)» for
every signed-in role, the number in the link text itself, none when nothing is unread;
counted by one statement per page, not per conversation or notification."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core import messaging
from diary_core.actors import load_actor
from diary_core.clock import FixedClock
from diary_core.context import Ctx
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World


@dataclass
class Site:
    base: str
    world: World
    engine: AsyncEngine
    clock: FixedClock

    async def page(self, user_id: int, path: str) -> str:
        browser = Browser()
        await sign_in_as(browser, self.engine, user_id, self.clock.now())
        try:
            resp = await browser.get(self.base + path)
            assert resp.status == 200, path
            return html_lib.unescape(await resp.text())
        finally:
            await browser.close()

    async def write(self, author: int, to: int, topic: str) -> int:
        self.clock.advance(timedelta(minutes=1))
        async with AsyncSession(self.engine) as db:
            ctx = Ctx(db, await load_actor(db, author), self.clock)
            conversation = await messaging.start_conversation(ctx, [to], topic, "Текст.")
            await db.commit()
        return conversation

    async def reply(self, author: int, conversation_id: int) -> None:
        self.clock.advance(timedelta(minutes=1))
        async with AsyncSession(self.engine) as db:
            ctx = Ctx(db, await load_actor(db, author), self.clock)
            await messaging.reply(ctx, conversation_id, "Ответ.")
            await db.commit()


@pytest.fixture
async def site(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[Site]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield Site(url, world, engine, clock)


def _header(page: str) -> str:
    found = re.search(r'<header class="top">.*?</header>', page, re.S)
    assert found
    return found.group(0)


def _tabs(page: str) -> str:
    found = re.search(r'<nav class="tabs".*?</nav>', page, re.S)
    assert found
    return found.group(0)


def _link(part: str, href: str) -> str:
    found = re.search(rf'<a href="{href}"[^>]*>([^<]*)</a>', part)
    assert found, href
    return found.group(1).strip()


async def test_counts_go_up_with_messages_and_down_when_read(site: Site) -> None:
    w = site.world
    page = await site.page(w.parent_a1, "/diary")
    assert _link(_header(page), "/messages") == "Сообщения"  # nothing unread: no count
    assert _link(_tabs(page), "/messages") == "Сообщения"
    assert _link(_header(page), "/notifications") == "Уведомления"
    first = await site.write(w.teacher_math, w.parent_a1, "Контрольная")
    page = await site.page(w.parent_a1, "/diary")
    assert _link(_header(page), "/messages") == "Сообщения (1)"
    assert _link(_tabs(page), "/messages") == "Сообщения (1)"
    assert _link(_header(page), "/notifications") == "Уведомления (1)"
    await site.reply(w.teacher_math, first)
    await site.write(w.ct_5a, w.parent_a1, "Экскурсия")
    page = await site.page(w.parent_a1, "/messages")
    assert _link(_header(page), "/messages") == "Сообщения (3)"
    # opening a thread reads it: its own page already counts it read
    page = await site.page(w.parent_a1, f"/messages/{first}")
    assert _link(_header(page), "/messages") == "Сообщения (1)"
    page = await site.page(w.parent_a1, "/diary")
    assert _link(_tabs(page), "/messages") == "Сообщения (1)"
    assert _link(_header(page), "/notifications") == "Уведомления (3)"
    # marking his notifications read takes their count away
    browser = Browser()
    await sign_in_as(browser, site.engine, w.parent_a1, site.clock.now())
    token = await browser.csrf(site.base + "/notifications")
    resp = await browser.post(site.base + "/notifications/read", {"csrf_token": token, "all": "1"})
    assert resp.status == 303
    page = html_lib.unescape(await (await browser.get(site.base + "/diary")).text())
    await browser.close()
    assert _link(_header(page), "/notifications") == "Уведомления"
    assert _link(_header(page), "/messages") == "Сообщения (1)"
    # someone else's unread messages are not his
    page = await site.page(w.parent_a2, "/diary")
    assert _link(_header(page), "/messages") == "Сообщения"


async def test_staff_see_their_counts_too(site: Site) -> None:
    w = site.world
    await site.write(w.parent_a1, w.teacher_math, "Вопрос по домашнему заданию")
    page = await site.page(w.teacher_math, "/console")
    assert _link(_header(page), "/messages") == "Сообщения (1)"
    assert _link(_header(page), "/notifications") == "Уведомления (1)"
    page = await site.page(w.admin_a, "/console/admin/announcements")
    assert _link(_header(page), "/messages") == "Сообщения"


@pytest.fixture
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def test_one_statement_per_page(site: Site, statements: list[str]) -> None:
    w = site.world
    for topic in ("Раз", "Два", "Три"):
        await site.write(w.teacher_math, w.parent_a1, topic)
    statements.clear()
    page = await site.page(w.parent_a1, "/diary")
    assert _link(_header(page), "/messages") == "Сообщения (3)"
    counting = [s for s in statements if "conversation_participants AS me" in s]
    assert len(counting) == 1, counting
    assert "notifications AS n" in counting[0]
