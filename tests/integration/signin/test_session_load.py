"""Loading a request's session (gateway.sessions.load): the signed-in account (active, roles,
children) is read once per request, when the session is checked, and the request acts as
exactly that account; using a session keeps it alive. Over real HTTP on loopback, on both
databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import FixedClock
from tests.support.gateway import (
    Browser,
    free_port,
    gateway_settings,
    running_gateway,
    sign_in_as,
)
from tests.support.world import World


@pytest.fixture
async def base(db_url: str, world: World, clock: FixedClock) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine of this process sends meanwhile."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(sql)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def test_a_signed_in_request_reads_its_account_once(
    world: World, base: str, engine: AsyncEngine, clock: FixedClock
) -> None:
    browser = Browser()
    try:
        await sign_in_as(browser, engine, world.parent_a1, clock.now())
        with statements() as sent:
            resp = await browser.get(base + "/api/v1/session")
        assert resp.status == 200
        body = await resp.json()
        assert (body["user_id"], body["roles"]) == (world.parent_a1, ["parent"])
        account_reads = [sql for sql in sent if "user_roles" in sql]
        assert len(account_reads) == 1, sent
    finally:
        await browser.close()


async def test_the_session_s_actor_reaches_the_account_s_children(
    world: World, base: str, engine: AsyncEngine, clock: FixedClock
) -> None:
    browser = Browser()
    try:
        await sign_in_as(browser, engine, world.parent_a1, clock.now())
        marks = base + "/api/v1/pupils/{}/marks?from=2025-09-01&to=2025-10-31"
        own = await browser.get(marks.format(world.pupil_a1))
        other = await browser.get(marks.format(world.pupil_a2))  # another family's
        assert (own.status, other.status) == (200, 404)
    finally:
        await browser.close()


async def test_using_a_session_keeps_it_alive_past_the_idle_timeout(
    world: World, base: str, engine: AsyncEngine, clock: FixedClock
) -> None:
    browser = Browser()
    try:
        await sign_in_as(browser, engine, world.parent_a1, clock.now())
        for _ in range(4):  # an hour and twenty minutes in all, 20 minutes between requests
            clock.advance(timedelta(minutes=20))
            assert (await browser.get(base + "/api/v1/session")).status == 200
        clock.advance(timedelta(minutes=31))
        assert (await browser.get(base + "/api/v1/session")).status == 401
    finally:
        await browser.close()
