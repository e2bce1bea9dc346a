"""What a polling calendar costs the server (docs/calendar.md): the demo school's parent's and
teacher's timetable feeds, a full answer (200) and a conditional one (304).

The database holds the demo school (``generate_demo_school``, year 2025/26) in a temporary
SQLite file. The real gateway (``create_app``, a FixedClock in March) runs in-process on
loopback; the demo parent and the demo teacher get subscription addresses
(``gateway.calendar.tokens.issue``) and the bench GETs each address ``--requests`` times
without and with ``If-None-Match``. Server time is measured by a middleware placed first in
the app's chain; beside it the process's CPU time, the SQL statements sent and the size.
The first request of each feed (which writes the events' revisions) is not counted. It
prints p50/p99 and asserts nothing about time.

    python bench/bench_calendar.py [--requests 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from diary_core.clock import FixedClock
from diary_core.db import create_engine, session_factory
from diary_core.demo.generator import generate_demo_school
from diary_core.models import User
from gateway.app import create_app
from gateway.calendar import tokens
from gateway.calendar.handlers import FEED_PATH
from gateway.storage.schema import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.gateway import free_port, gateway_settings

CLOCK = FixedClock(datetime(2026, 3, 18, 9, 0, tzinfo=UTC))  # a Wednesday in the 3rd quarter
STATEMENTS = [0]


@event.listens_for(Engine, "before_cursor_execute")
def _count_statement(*_: object) -> None:
    STATEMENTS[0] += 1


@dataclass(frozen=True)
class Sample:
    ms: float
    cpu_ms: float
    statements: int


def timing_middleware(sink: list[Sample]) -> Any:
    @web.middleware
    async def timed(request: web.Request, handler: Any) -> web.StreamResponse:
        started, cpu, statements = time.perf_counter(), time.process_time(), STATEMENTS[0]
        try:
            return await handler(request)
        finally:
            sink.append(
                Sample(
                    (time.perf_counter() - started) * 1000,
                    (time.process_time() - cpu) * 1000,
                    STATEMENTS[0] - statements,
                )
            )

    return timed


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.sqlite"
        engine = create_engine(url)
        await upgrade(engine)
        async with session_factory(engine)() as db:
            await generate_demo_school(db, CLOCK, year=2025)
            await db.commit()
            logins = ("parent", "teacher")
            ids = dict(
                (await db.execute(select(User.login, User.id).where(User.login.in_(logins)))).all()
            )
            feeds = {who: await tokens.issue(db, ids[who], CLOCK.now()) for who in logins}
            await db.commit()
        await engine.dispose()
        sink: list[Sample] = []
        settings = gateway_settings(url, free_port())
        app = create_app(settings, clock=CLOCK)
        app.middlewares.insert(0, timing_middleware(sink))
        server = TestServer(app, host="127.0.0.1", port=settings.server.port)
        await server.start_server()
        base = str(server.make_url("")).rstrip("/")
        try:
            async with aiohttp.ClientSession() as http:
                for who, token in feeds.items():
                    address = base + FEED_PATH.format(token=token)
                    async with http.get(address) as first:  # writes the revisions
                        body = await first.read()
                        etag = first.headers["ETag"]
                    events = body.count(b"BEGIN:VEVENT")
                    for label, headers in (("200", {}), ("304", {"If-None-Match": etag})):
                        sink.clear()
                        for _ in range(ns.requests):
                            async with http.get(address, headers=headers) as resp:
                                await resp.read()
                                assert resp.status == int(label), resp.status
                        ms = [s.ms for s in sink]
                        cpu = [s.cpu_ms for s in sink]
                        print(
                            f"  {who:7} {label} ({events} events, {len(body) / 1024:.0f} KB): "
                            f"server p50 {pct(ms, 50):6.1f} p99 {pct(ms, 99):6.1f} "
                            f"mean {statistics.fmean(ms):6.1f} ms | CPU p50 {pct(cpu, 50):6.1f} ms"
                            f" | {statistics.fmean(s.statements for s in sink):.0f} statements"
                        )
        finally:
            await server.close()


if __name__ == "__main__":
    asyncio.run(main())
