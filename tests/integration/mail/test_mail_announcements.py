"""A published announcement is mailed to everyone in its audience who wants announcements by
mail, in the publishing transaction, and to no one outside the audience."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.announcements import announce
from diary_core.clock import FixedClock
from diary_core.db import session_factory
from diary_core.models import Notification
from gateway.mail import preferences
from gateway.mail.sink import MailSink
from gateway.mail.worker import MailWorker
from tests.integration.mail.conftest import MOSCOW, opt_in, outbox_rows
from tests.support.world import World

BODY = "Уважаемые родители!\nЗанятия 20 октября отменяются.\nСпасибо."


async def test_school_announcement_mails_every_opted_in_member(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    await opt_in(engine, clock, world.parent_b1, "popova@example.ru")
    await opt_in(engine, clock, world.teacher_math, "chislova@example.ru")
    await opt_in(engine, clock, world.parent_z1, "dalekaya@example.ru")  # the other school
    ctx = await world.ctx(world.admin_a)
    await announce(ctx, "Каникулы", BODY, "general", world.a.id)
    await world.session.commit()
    assert await worker.run_once() == 3
    by_address = {mail.recipients: mail for mail in sink.mails}
    assert set(by_address) == {
        ("smirnova@example.ru",),
        ("popova@example.ru",),
        ("chislova@example.ru",),
    }
    mail = by_address[("smirnova@example.ru",)]
    assert mail.message["Subject"] == "Объявление: Каникулы"
    text = mail.part("plain")
    assert "Занятия 20 октября отменяются." in text
    assert "— Завучева Анна, Школа А" in text
    html = mail.part("html")
    assert "Уважаемые родители!<br>" in html
    assert mail.message["List-Unsubscribe"].startswith("<http://")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert await worker.run_once() == 0 and len(sink.mails) == 3


async def test_not_opted_in_or_switched_off_gets_none(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    no_announcements = preferences.MailChoice(
        True, "kuznetsova@example.ru", True, True, False, True, "instant", 18
    )
    async with session_factory(engine)() as db:
        from zoneinfo import ZoneInfo

        await preferences.save(db, world.parent_a2, no_announcements, clock.now(), ZoneInfo(MOSCOW))
        await db.commit()
    ctx = await world.ctx(world.admin_a)
    await announce(ctx, "Каникулы", BODY, "general", world.a.id)
    await world.session.commit()
    assert [r.user_id for r in await outbox_rows(engine)] == [world.parent_a1]
    assert await worker.run_once() == 1
    assert [m.recipients for m in sink.mails] == [("smirnova@example.ru",)]


async def test_class_announcement_reaches_only_that_class(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    await opt_in(engine, clock, world.parent_b1, "popova@example.ru")  # 5Б
    await opt_in(engine, clock, world.parent_pending, "smirnov@example.ru")  # not confirmed
    ctx = await world.ctx(world.ct_5a)
    await announce(ctx, "Экскурсия", BODY, "general", world.a.id, world.class_5a)
    await world.session.commit()
    assert await worker.run_once() == 1
    [mail] = sink.mails
    assert mail.recipients == ("smirnova@example.ru",)
    assert mail.message["Subject"] == "Объявление: Экскурсия"
    assert "— Классова Ольга, Школа А, 5А" in mail.part("plain")


async def test_announcement_to_several_classes_reaches_their_families(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    await opt_in(engine, clock, world.parent_b1, "popova@example.ru")
    ctx = await world.ctx(world.admin_a)
    await announce(
        ctx,
        "Субботник",
        BODY,
        "general",
        world.a.id,
        audience="classes",
        class_ids=[world.class_5b],
    )
    await world.session.commit()
    assert await worker.run_once() == 1
    [mail] = sink.mails
    assert mail.recipients == ("popova@example.ru",)
    assert "Школа А, 5Б" in mail.part("plain")


async def test_meeting_is_mailed_once_per_person(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    await opt_in(engine, clock, world.ct_5a, "klassova@example.ru")
    ctx = await world.ctx(world.ct_5a)
    await announce(ctx, "Собрание 5А", BODY, "parent_meeting", world.a.id, world.class_5a)
    await world.session.commit()
    # The core still notified the parent of the meeting; his mail is the announcement's.
    async with session_factory(engine)() as db:
        from sqlalchemy import select

        kinds = list(
            await db.scalars(
                select(Notification.kind).where(Notification.user_id == world.parent_a1)
            )
        )
    assert kinds == ["meeting"]
    rows = await outbox_rows(engine)
    assert sorted(r.user_id for r in rows) == sorted([world.parent_a1, world.ct_5a])
    assert await worker.run_once() == 2
    by_address = {mail.recipients: mail for mail in sink.mails}
    mail = by_address[("smirnova@example.ru",)]
    assert mail.message["Subject"] == "Родительское собрание: Собрание 5А"
    assert "Занятия 20 октября отменяются." in mail.part("plain")


async def test_rolled_back_announcement_is_not_mailed(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    ctx = await world.ctx(world.admin_a)
    await announce(ctx, "Черновик", BODY, "general", world.a.id)
    await world.session.rollback()
    await world.session.commit()
    assert await outbox_rows(engine) == []


@pytest.mark.parametrize("hour", [16])
async def test_digest_collects_the_announcement(
    world: World,
    engine: AsyncEngine,
    clock: FixedClock,
    worker: MailWorker,
    sink: MailSink,
    hour: int,
) -> None:
    # 10:00 UTC is 13:00 in Moscow; the digest hour 16 is 13:00 UTC.
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru", mode="digest", hour=hour)
    ctx = await world.ctx(world.admin_a)
    await announce(ctx, "Каникулы", BODY, "general", world.a.id)
    await world.session.commit()
    assert [r.status for r in await outbox_rows(engine)] == ["held"]
    assert await worker.run_once() == 0
    clock.advance(timedelta(hours=3))
    assert await worker.run_once() == 1
    [mail] = sink.mails
    assert mail.message["Subject"] == "Электронный дневник за 15.10.2025: 1 уведомление"
    text = mail.part("plain")
    assert "Объявление" in text and "Каникулы" in text and "Занятия 20 октября" in text
