"""Nothing is lost: a server that is down gets the mail later, under the same Message-ID;
a permanent refusal is recorded on the mail and never retried."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import FixedClock
from gateway.mail import outbox
from gateway.mail.sink import MailSink, running_sink
from gateway.mail.worker import MailWorker, backoff
from gateway.storage.mail import MailPreference
from tests.integration.mail.conftest import mail_settings, opt_in, outbox_rows, save_mark
from tests.support.gateway import free_port
from tests.support.world import World


async def test_server_down_then_back_delivers_same_message_id(
    world: World, engine: AsyncEngine, db_url: str, clock: FixedClock
) -> None:
    port = free_port()  # nothing listens there yet
    settings = mail_settings(db_url, port)
    outbox.install(settings)
    worker = MailWorker(engine, settings, clock)
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    await save_mark(world, world.pupil_a1)
    [queued] = await outbox_rows(engine)
    assert await worker.run_once() == 1
    [waiting] = await outbox_rows(engine)
    assert waiting.status == "queued" and waiting.attempts == 1
    assert waiting.last_error.startswith("no connection")
    assert waiting.due_at == clock.now() + backoff(1)
    assert waiting.message_id == queued.message_id and waiting.lease_owner is None
    sink = MailSink()
    async with running_sink(sink, port=port):
        assert await worker.run_once() == 0  # not due yet: backing off
        clock.advance(backoff(1))
        assert await worker.run_once() == 1
    [mail] = sink.mails
    assert mail.message["Message-ID"] == queued.message_id
    [sent] = await outbox_rows(engine)
    assert sent.status == "sent" and sent.attempts == 2 and sent.sent_at == clock.now()


class Refusing(MailSink):
    """Refuses one recipient at RCPT (550) and every mail at DATA for another (554)."""

    def __init__(self) -> None:
        super().__init__()
        self.data_calls = 0
        self.rcpt_calls = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        self.rcpt_calls += 1
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_calls += 1
        if any(a.startswith("spam@") for a in envelope.rcpt_tos):
            return "554 5.7.1 Message refused as spam"
        return await super().handle_DATA(server, session, envelope)


async def test_permanent_refusals_are_recorded_and_never_retried(
    world: World, engine: AsyncEngine, db_url: str, clock: FixedClock
) -> None:
    server = Refusing()
    async with running_sink(server) as port:
        settings = mail_settings(db_url, port)
        outbox.install(settings)
        worker = MailWorker(engine, settings, clock)
        await opt_in(engine, clock, world.parent_a1, "nobody@example.ru")
        await opt_in(engine, clock, world.pupil_a1_user, "spam@example.ru")
        await save_mark(world, world.pupil_a1)
        assert await worker.run_once() == 2
        rows = {r.address: r for r in await outbox_rows(engine)}
        assert rows["nobody@example.ru"].status == "bounced"
        assert rows["nobody@example.ru"].last_error.startswith("550 ")
        assert rows["spam@example.ru"].status == "refused"
        assert rows["spam@example.ru"].last_error.startswith("554 ")
        calls = (server.rcpt_calls, server.data_calls)
        clock.advance(timedelta(days=1))
        assert await worker.run_once() == 0
        assert (server.rcpt_calls, server.data_calls) == calls and server.mails == []
        assert all(r.attempts == 1 for r in await outbox_rows(engine))


class Busy(MailSink):
    """Answers 451 (try again later) to every mail until told otherwise."""

    busy = True

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.busy:
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


async def test_temporary_refusal_backs_off_exponentially(
    world: World, engine: AsyncEngine, db_url: str, clock: FixedClock
) -> None:
    server = Busy()
    async with running_sink(server) as port:
        settings = mail_settings(db_url, port)
        outbox.install(settings)
        worker = MailWorker(engine, settings, clock)
        await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
        await save_mark(world, world.pupil_a1)
        waits = []
        for _ in range(3):
            assert await worker.run_once() == 1
            [row] = await outbox_rows(engine)
            waits.append(row.due_at - clock.now())
            clock.advance(row.due_at - clock.now())
        assert waits == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2)]
        assert row.last_error.startswith("451 ")
        server.busy = False
        assert await worker.run_once() == 1
    assert len(server.mails) == 1 and (await outbox_rows(engine))[0].status == "sent"


async def test_mail_that_cannot_be_written_fails_alone(
    world: World, engine: AsyncEngine, db_url: str, clock: FixedClock
) -> None:
    sink = MailSink()
    async with running_sink(sink) as port:
        settings = mail_settings(db_url, port)
        outbox.install(settings)
        worker = MailWorker(engine, settings, clock)
        await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
        await opt_in(engine, clock, world.pupil_a1_user, "artem@example.ru")
        async with engine.begin() as conn:  # an address stored before checks were this strict
            await conn.execute(
                update(MailPreference)
                .where(MailPreference.user_id == world.pupil_a1_user)
                .values(address="artem@@example.ru")
            )
        await save_mark(world, world.pupil_a1)
        assert await worker.run_once() == 2
        clock.advance(timedelta(days=1))
        assert await worker.run_once() == 0
    assert [m.recipients for m in sink.mails] == [("smirnova@example.ru",)]
    broken = [r for r in await outbox_rows(engine) if r.user_id == world.pupil_a1_user]
    assert broken[0].status == "failed" and broken[0].last_error.startswith("cannot be written")
