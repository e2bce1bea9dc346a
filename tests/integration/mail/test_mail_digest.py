"""Daily digest: a person's notifications are held and go out as one mail at his hour."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import timetable
from diary_core.clock import FixedClock
from diary_core.timetable import ChangeRequest
from gateway.mail.sink import MailSink
from gateway.mail.worker import MailWorker
from tests.integration.mail.conftest import opt_in, outbox_rows, save_mark
from tests.support.world import World


async def test_digest_sends_one_mail_at_the_chosen_hour(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    # 10:00 UTC is 13:00 in Moscow; the digest hour 16 is 13:00 UTC.
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru", mode="digest", hour=16)
    await save_mark(world, world.pupil_a1, "5")
    clock.advance(timedelta(minutes=10))
    await save_mark(world, world.pupil_a1, "4")
    assert {r.status for r in await outbox_rows(engine)} == {"held"}
    clock.advance(timedelta(hours=2, minutes=49))  # 12:59 UTC
    assert await worker.run_once() == 0 and sink.mails == []
    clock.advance(timedelta(minutes=1))
    assert await worker.run_once() == 1
    [mail] = sink.mails
    assert mail.message["Subject"] == "Электронный дневник за 15.10.2025: 2 уведомления"
    text = mail.part("plain")
    assert "«5»" in text and "«4»" in text and text.count("Артём Смирнов, 5А") == 2
    rows = await outbox_rows(engine)
    [digest] = [r for r in rows if r.kind == "digest"]
    assert digest.status == "sent" and mail.message["Message-ID"] == digest.message_id
    assert sorted(r.status for r in rows) == ["bundled", "bundled", "sent"]
    assert all(r.digest_id == digest.id for r in rows if r.kind != "digest")
    assert await worker.run_once() == 0 and len(sink.mails) == 1


async def test_notification_after_the_hour_waits_for_the_next_day(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru", mode="digest", hour=9)
    await save_mark(world, world.pupil_a1)  # 13:00 Moscow: after today's 09:00
    clock.advance(timedelta(hours=12))
    assert await worker.run_once() == 0
    clock.advance(timedelta(hours=8))  # 06:00 UTC on the 16th = 09:00 Moscow
    assert await worker.run_once() == 1 and len(sink.mails) == 1


async def test_timetable_change_mail_names_the_child_of_that_class(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    ctx = await world.ctx(world.ct_5a)
    slots = [timetable.SlotInput(1, 1, world.math_a, world.teacher_math, "12")]
    info = await timetable.set_weekly_timetable(ctx, world.class_5a, date(2025, 9, 1), slots)
    await timetable.publish_timetable(ctx, info.id)
    await world.session.commit()
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    await opt_in(engine, clock, world.parent_b1, "popova@example.ru")
    monday = date(2025, 10, 20)
    await timetable.change_timetable(
        ctx, world.class_5a, monday, 1, ChangeRequest(kind="cancellation")
    )
    await world.session.commit()
    await worker.run_once()
    [mail] = sink.mails
    assert mail.recipients == ("smirnova@example.ru",)
    assert mail.message["Subject"] == "Изменение расписания: Артём Смирнов, 5А"
