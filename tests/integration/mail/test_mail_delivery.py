"""A saved mark becomes one mail to each opted-in member of the family, and no one else."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import marks
from diary_core.clock import FixedClock
from diary_core.db import session_factory
from diary_core.notifications import notify
from gateway.mail import preferences
from gateway.mail.sink import MailSink
from gateway.mail.worker import MailWorker
from tests.integration.mail.conftest import opt_in, outbox_rows, save_mark, token_of
from tests.support.world import World


async def test_saved_mark_mails_the_parent_naming_the_child(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    await save_mark(world, world.pupil_a1, "5")
    assert await worker.run_once() == 1
    [mail] = sink.mails
    message = mail.message
    assert mail.recipients == ("smirnova@example.ru",)
    assert "smirnova@example.ru" in message["To"] and "Елена" in message["To"]
    assert message["Subject"] == "Отметка: Артём Смирнов, 5А"
    text = mail.part("plain")
    assert "Здравствуйте, Елена Петровна!" in text
    assert "Новая отметка «5» по предмету «Математика»" in text
    assert "Артём Смирнов, 5А" in mail.part("html")
    [row] = await outbox_rows(engine)
    assert message["Message-ID"] == row.message_id and row.status == "sent"
    token = await token_of(engine, world.parent_a1)
    unsubscribe = f"http://127.0.0.1:{worker.settings.server.port}/mail/unsubscribe/{token}"
    assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert await worker.run_once() == 0 and len(sink.mails) == 1


async def test_person_who_did_not_opt_in_gets_no_mail(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    await opt_in(engine, clock, world.parent_a2, "kuznetsova@example.ru")
    await save_mark(world, world.pupil_a1)  # parent_a1 and the pupil never switched mail on
    assert await outbox_rows(engine) == []
    assert await worker.run_once() == 0 and sink.mails == []


async def test_switched_off_marks_are_not_mailed(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru", marks_too=False)
    await save_mark(world, world.pupil_a1)
    assert await outbox_rows(engine) == []
    assert await worker.run_once() == 0 and sink.mails == []


async def test_parent_never_gets_mail_about_another_family_child(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    await opt_in(engine, clock, world.parent_b1, "popova@example.ru")
    await opt_in(engine, clock, world.parent_pending, "pending@example.ru")
    await save_mark(world, world.pupil_a1, "4")
    await worker.run_once()
    assert [m.recipients for m in sink.mails] == [("smirnova@example.ru",)]
    assert "Попов" not in sink.mails[0].part("plain")


async def test_mail_switched_off_before_sending_is_cancelled(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    await save_mark(world, world.pupil_a1)
    token = await token_of(engine, world.parent_a1)
    async with session_factory(engine)() as db:
        assert await preferences.unsubscribe(db, token, clock.now())
        await db.commit()
    await worker.run_once()
    assert sink.mails == []
    assert [r.status for r in await outbox_rows(engine)] == ["cancelled"]


async def test_any_notification_kind_becomes_one_mail(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    """A kind the mail code has never heard of (an import's digest of marks) is mailed too."""
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    text = "Загружены отметки: «5», «4» по предмету «Математика»"
    await notify(
        world.session, [world.parent_a1], "marks_digest", text, world.pupil_a1, clock.now()
    )
    await world.session.commit()
    assert await worker.run_once() == 1
    [mail] = sink.mails
    assert mail.message["Subject"] == "Отметки: Артём Смирнов, 5А" and text in mail.part("plain")


async def test_corrected_mark_is_mailed_saying_what_changed(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    mark_id = await save_mark(world, world.pupil_a1, "3")
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    ctx = await world.ctx(world.teacher_math)
    await marks.correct_mark(ctx, mark_id, value="4", reason="пересдал")
    await world.session.commit()
    assert await worker.run_once() == 1
    [mail] = sink.mails
    assert mail.message["Subject"] == "Отметка: Артём Смирнов, 5А"
    assert "исправлена: «3» → «4»" in mail.part("plain")
