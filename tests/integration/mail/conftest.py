"""Mail tests: a real SMTP server in-process (aiosmtpd), the outbox on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from config import Settings
from diary_core import marks
from diary_core.clock import FixedClock
from diary_core.db import session_factory
from gateway.mail import outbox, preferences
from gateway.mail.sink import MailSink, running_sink
from gateway.mail.worker import MailWorker
from gateway.storage.mail import MailPreference, OutboxMail
from tests.support.gateway import free_port, gateway_settings
from tests.support.world import World

MOSCOW = "Europe/Moscow"


@pytest.fixture
def sink() -> MailSink:
    return MailSink()


@pytest.fixture
async def smtp_port(sink: MailSink) -> AsyncIterator[int]:
    async with running_sink(sink) as port:
        yield port


def mail_settings(db_url: str, smtp_port: int, **extra: str) -> Settings:
    env = {
        "EDIARY_MAIL_HOST": "127.0.0.1",
        "EDIARY_MAIL_PORT": str(smtp_port),
        "EDIARY_MAIL_SECURITY": "none",
        "EDIARY_MAIL_SENDER": "dnevnik@school.example",
        "EDIARY_MAIL_TIMEOUT_SECONDS": "5",
        "EDIARY_MAIL_POLL_SECONDS": "1",
        **extra,
    }
    return gateway_settings(db_url, free_port(), env)


@pytest.fixture
def settings(db_url: str, smtp_port: int) -> Settings:
    s = mail_settings(db_url, smtp_port)
    outbox.install(s)
    return s


@pytest.fixture
def worker(engine: AsyncEngine, settings: Settings, clock: FixedClock) -> MailWorker:
    return MailWorker(engine, settings, clock)


async def opt_in(
    engine: AsyncEngine,
    clock: FixedClock,
    user_id: int,
    address: str,
    *,
    mode: str = "instant",
    hour: int = 18,
    marks_too: bool = True,
) -> None:
    from zoneinfo import ZoneInfo

    choice = preferences.MailChoice(True, address, marks_too, True, True, True, mode, hour)
    async with session_factory(engine)() as db:
        await preferences.save(db, user_id, choice, clock.now(), ZoneInfo(MOSCOW))
        await db.commit()


async def save_mark(world: World, pupil_id: int, value: str = "5") -> int:
    ctx = await world.ctx(world.teacher_math)
    mark = await marks.record_mark(
        ctx,
        pupil_id=pupil_id,
        subject_id=world.math_a,
        day=date(2025, 10, 14),
        value=value,
        work_type_id=world.a.work_type_ids["Контрольная работа"],
    )
    await world.session.commit()
    return mark.id


async def outbox_rows(engine: AsyncEngine) -> list[OutboxMail]:
    async with session_factory(engine)() as db:
        return list(await db.scalars(select(OutboxMail).order_by(OutboxMail.id)))


async def token_of(engine: AsyncEngine, user_id: int) -> str:
    async with session_factory(engine)() as db:
        pref = await db.get(MailPreference, user_id)
        assert pref is not None
        return pref.unsubscribe_token
