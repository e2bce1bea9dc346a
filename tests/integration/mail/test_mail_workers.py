"""Several gateway instances and a separate worker on one database: every mail once."""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import AsyncExitStack

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from config import Settings
from diary_core.clock import FixedClock
from gateway.mail.sink import MailSink
from gateway.mail.worker import MailWorker
from tests.integration.mail.conftest import opt_in, outbox_rows, save_mark
from tests.support.gateway import free_port, running_gateway
from tests.support.world import World


async def _all_sent(engine: AsyncEngine, expected: int) -> None:
    while True:
        rows = await outbox_rows(engine)
        if len(rows) == expected and all(r.status == "sent" for r in rows):
            return
        await asyncio.sleep(0.1)


async def test_two_gateways_and_a_worker_send_each_mail_exactly_once(
    world: World,
    engine: AsyncEngine,
    clock: FixedClock,
    settings: Settings,
    sink: MailSink,
) -> None:
    for user in (world.parent_a1, world.pupil_a1_user, world.parent_a2):
        await opt_in(engine, clock, user, f"user{user}@example.ru")
    async with AsyncExitStack() as stack:
        for _ in range(2):
            other = settings.replace("server", port=free_port())
            await stack.enter_async_context(running_gateway(other, clock))
        stop = asyncio.Event()
        standalone = asyncio.create_task(MailWorker(engine, settings, clock).run_forever(stop))
        for n in range(12):
            await save_mark(world, world.pupil_a1 if n % 2 else world.pupil_a2, str(2 + n % 4))
        expected = 6 * 2 + 6  # pupil_a1's marks: him and his parent; pupil_a2's: her parent
        async with asyncio.timeout(60):
            await _all_sent(engine, expected)
        stop.set()
        await standalone
    # every worker has stopped: nothing more can arrive
    sent = Counter(m.message["Message-ID"] for m in sink.mails)
    assert len(sent) == expected and set(sent.values()) == {1}
    assert {r.message_id for r in await outbox_rows(engine)} == set(sent)


async def test_one_sender_at_a_time_on_postgresql(
    db_url: str, engine: AsyncEngine, clock: FixedClock, settings: Settings
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite's writers take turns by themselves: no sender lock")
    first, second = MailWorker(engine, settings, clock), MailWorker(engine, settings, clock)
    async with first.sender_lock() as first_holds:
        async with second.sender_lock() as second_holds:
            assert await first_holds() and not await second_holds()
    async with second.sender_lock() as second_holds:
        assert await second_holds()  # released when the first stopped
