"""The mail outbox (issue 17): how fast the worker delivers, and how soon a mark is mailed.

A small school (the test world: two schools, a few families) in a fresh database — SQLite in
a temporary folder by default, ``--postgres`` for a database ``ediary_bench_mail_<random>``
on 127.0.0.1:5432, dropped afterwards — and an SMTP server in this process (aiosmtpd, the
demo's sink). Two measurements:

- *throughput*: ``--mails`` notifications queued for opted-in parents, then the worker
  drains the outbox (``run_once`` until nothing is due): mails per second delivered;
- *latency*: the worker runs in the background as in ``ediary serve``; ``--marks`` marks
  are saved one by one (a teacher's pace: ``--gap`` seconds apart), and for each, the time
  from its commit to the SMTP server having the mail: p50 and p99.

It asserts nothing about time.

    PYTHONPATH=. python bench/bench_mail_outbox.py
    PYTHONPATH=. python bench/bench_mail_outbox.py --postgres --mails 5000 --marks 300
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from config import Settings, load_settings
from diary_core import marks
from diary_core.clock import FixedClock
from diary_core.db import create_engine, session_factory
from diary_core.notifications import notify
from gateway.mail import outbox, preferences
from gateway.mail.sink import MailSink, running_sink
from gateway.mail.worker import MailWorker
from gateway.storage.mail import OutboxMail
from gateway.storage.schema import upgrade
from tests.support.world import World, build_world

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/"
CLOCK = FixedClock(datetime(2025, 10, 15, 10, tzinfo=UTC))


@asynccontextmanager
async def database(postgres: bool) -> AsyncIterator[str]:
    if not postgres:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{tmp}/bench.sqlite"
        return
    name = f"ediary_bench_mail_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG + name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def settings_for(url: str, smtp_port: int) -> Settings:
    return load_settings(
        environ={
            "EDIARY_DATABASE_URL": url,
            "EDIARY_MAIL_HOST": "127.0.0.1",
            "EDIARY_MAIL_PORT": str(smtp_port),
            "EDIARY_MAIL_SECURITY": "none",
            "EDIARY_MAIL_SENDER": "dnevnik@school.example",
            "EDIARY_MAIL_POLL_SECONDS": "5",
        }
    )


async def opt_in(engine: AsyncEngine, user_ids: list[int]) -> None:
    async with session_factory(engine)() as db:
        for uid in user_ids:
            choice = preferences.MailChoice(
                True, f"parent{uid}@example.ru", True, True, True, True, "instant", 18
            )
            await preferences.save(db, uid, choice, CLOCK.now(), ZoneInfo("Europe/Moscow"))
        await db.commit()


async def throughput(engine: AsyncEngine, world: World, worker: MailWorker, n: int) -> float:
    parents = [world.parent_a1, world.parent_a2, world.parent_b1, world.parent_z1]
    async with session_factory(engine)() as db:
        for i in range(n // len(parents)):
            text = f"Новая отметка «5» по предмету «Математика» (№ {i})"
            await notify(db, parents, "mark", text, None, CLOCK.now())
            if i % 100 == 99:
                await db.commit()
        await db.commit()
    started = time.perf_counter()
    sent = 0
    while handled := await worker.run_once():
        sent += handled
    return sent / (time.perf_counter() - started)


async def latency(
    engine: AsyncEngine, world: World, worker: MailWorker, sink: MailSink, n: int, gap: float
) -> list[float]:
    """Seconds from each mark's commit to its mail at the SMTP server."""
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_forever(stop))
    await asyncio.sleep(0.5)  # the worker holds its lock and waits
    saved: dict[str, float] = {}
    before = len(sink.mails)
    ctx = await world.ctx(world.teacher_math)
    for i in range(n):
        await marks.record_mark(
            ctx,
            pupil_id=world.pupil_a1,
            subject_id=world.math_a,
            day=date(2025, 10, 14),
            value=str(2 + i % 4),
            work_type_id=world.a.work_type_ids["Ответ на уроке"],
        )
        await world.session.commit()
        at = time.time()
        newest = select(OutboxMail.message_id).order_by(OutboxMail.id.desc()).limit(1)
        message_id = await world.session.scalar(newest)
        assert message_id is not None
        saved[message_id] = at
        await asyncio.sleep(gap)
    async with asyncio.timeout(120):
        received = await sink.wait_for(before + n)
    stop.set()
    await running
    return [
        m.received_at.timestamp() - saved[m.message["Message-ID"]]
        for m in received[before:]
        if m.message["Message-ID"] in saved
    ]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def main(args: argparse.Namespace) -> None:
    sink = MailSink()
    async with database(args.postgres) as url, running_sink(sink) as port:
        engine = create_engine(url)
        await upgrade(engine)
        settings = settings_for(url, port)
        outbox.install(settings)
        async with session_factory(engine)() as session:
            world = await build_world(session, CLOCK)
            families = [world.parent_a1, world.parent_a2, world.parent_b1, world.parent_z1]
            await opt_in(engine, families)
            worker = MailWorker(engine, settings)
            rate = await throughput(engine, world, worker, args.mails)
            delays = await latency(engine, world, worker, sink, args.marks, args.gap)
        await engine.dispose()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"database: {backend}; SMTP: aiosmtpd in this process (127.0.0.1:{port})")
    print(f"throughput: {args.mails} mails delivered at {rate:,.0f} mails/s")
    print(
        f"mark saved → mail sent ({len(delays)} marks, {args.gap * 1000:.0f} ms apart): "
        f"p50 {statistics.median(delays) * 1000:.1f} ms, p99 {percentile(delays, 99) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL on 127.0.0.1:5432")
    parser.add_argument("--mails", type=int, default=2000, help="mails for the throughput run")
    parser.add_argument("--marks", type=int, default=200, help="marks for the latency run")
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between marks")
    asyncio.run(main(parser.parse_args()))
