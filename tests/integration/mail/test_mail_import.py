"""A marks file imported by the school becomes one mail per opted-in family account, listing
that import's marks of their child, never one mail per mark and never to another family."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import FixedClock
from gateway.mail.sink import MailSink
from gateway.mail.worker import MailWorker
from tests.integration.imports.test_marks_import import import_as_admin, marks_file, snils_of
from tests.integration.mail.conftest import opt_in, outbox_rows
from tests.support.world import World


async def test_an_import_mails_each_family_one_digest_of_its_childs_marks(
    world: World, engine: AsyncEngine, clock: FixedClock, worker: MailWorker, sink: MailSink
) -> None:
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    await opt_in(engine, clock, world.parent_b1, "popova@example.ru")
    a1 = await snils_of(world, world.pupil_a1_user)
    b1 = await snils_of(world, world.pupil_b1_user)
    await import_as_admin(
        world,
        marks_file(
            f"5А,Математика,{a1},2025-10-01,5,Ответ на уроке,,",
            f"5А,Русский язык,{a1},2025-10-02,4,Контрольная работа,,",
            f"5А,Математика,{a1},2025-10-03,3,Ответ на уроке,,",
            f"5Б,Математика,{b1},2025-10-03,2,Ответ на уроке,,",
        ),
    )

    rows = await outbox_rows(engine)
    assert sorted(r.user_id for r in rows) == sorted([world.parent_a1, world.parent_b1])
    assert await worker.run_once() == 2
    by_address = {m.recipients: m for m in sink.mails}
    assert set(by_address) == {("smirnova@example.ru",), ("popova@example.ru",)}

    smirnova = by_address[("smirnova@example.ru",)].part("plain")
    assert "Артём" in smirnova
    assert all(f"«{v}»" in smirnova for v in ("5", "4", "3")), smirnova
    assert "Попов" not in smirnova and "«2»" not in smirnova

    popova = by_address[("popova@example.ru",)].part("plain")
    assert "«2»" in popova and "Артём" not in popova
    assert await worker.run_once() == 0 and len(sink.mails) == 2
