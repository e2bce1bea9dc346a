"""The marks import writes through the journal's own write path: the change log a save in the
gradebook writes, and one digest notification per family account and import."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from diary_core import families, marks
from diary_core.changes import MARK_SNAPSHOT
from diary_core.imports import ImportFailed
from diary_core.mark_notices import DIGEST_KIND
from diary_core.models import ChangeLogEntry, Mark, Notification, Pupil
from tests.integration.imports.test_marks_import import import_as_admin, marks_file, snils_of
from tests.support.world import World


async def user_of(world: World, pupil_id: int) -> int:
    pupil = await world.session.get(Pupil, pupil_id)
    assert pupil is not None
    return pupil.user_id


async def notifications(world: World) -> list[Notification]:
    world.session.expire_all()
    return list(await world.session.scalars(select(Notification).order_by(Notification.id)))


async def three_families_file(world: World) -> str:
    """Five marks of three pupils: 5А's Смирнов and Кузнецова, 5Б's Попов."""
    a1 = await snils_of(world, world.pupil_a1_user)
    a2 = await snils_of(world, await user_of(world, world.pupil_a2))
    b1 = await snils_of(world, world.pupil_b1_user)
    return marks_file(
        f"5А,Математика,{a1},2025-10-01,5,Ответ на уроке,,",
        f"5А,Русский язык,{a1},2025-10-02,4,Контрольная работа,,",
        f"5А,Математика,{a2},2025-10-01,3,Ответ на уроке,,",
        f"5Б,Математика,{b1},2025-10-03,2,Ответ на уроке,,",
        f"5Б,Математика,{b1},2025-10-03,зач,Ответ на уроке,,",
    )


async def test_an_import_sends_one_digest_per_family_account_listing_each_mark(
    world: World,
) -> None:
    # Смирнова Елена is the parent of both Смирнов (5А) and Попов (5Б): one digest, both named.
    await families.link_guardian(
        await world.ctx(), world.parent_a1, world.pupil_b1, source="roster", confirmed=True
    )
    await world.session.commit()
    await import_as_admin(world, await three_families_file(world))

    told = await notifications(world)
    assert {n.kind for n in told} == {DIGEST_KIND}
    per_account = Counter(n.user_id for n in told)
    a2_user = await user_of(world, world.pupil_a2)
    assert per_account == {
        world.pupil_a1_user: 1,
        a2_user: 1,
        world.pupil_b1_user: 1,
        world.parent_a1: 1,
        world.parent_a2: 1,
        world.parent_b1: 1,
    }  # the pending parent is told nothing
    text = {n.user_id: n.text for n in told}
    pupil_of = {n.user_id: n.pupil_id for n in told}

    both = text[world.parent_a1]
    assert both.startswith("Загружены отметки из файла школы: 4 новые отметки.")
    assert "Смирнов Артём:" in both and "Попов Илья:" in both
    assert "— Математика, 01.10: новая отметка «5» (ответ на уроке)" in both
    assert "— Русский язык, 02.10: новая отметка «4» (контрольная работа)" in both
    assert "— Математика, 03.10: новая отметка «2» (ответ на уроке)" in both
    assert "— Математика, 03.10: новая отметка «зач» (ответ на уроке)" in both
    assert "«3»" not in both  # another family's mark
    assert pupil_of[world.parent_a1] is None  # a digest of two children

    own = text[world.pupil_a1_user]
    assert "Смирнов Артём:" in own and "Попов" not in own
    assert own.count("новая отметка") == 2
    assert pupil_of[world.pupil_a1_user] == world.pupil_a1
    assert text[world.parent_a2] == text[a2_user]
    assert "Кузнецова Дарья:\n— Математика, 01.10: новая отметка «3»" in text[world.parent_a2]
    assert text[world.parent_b1].count("новая отметка") == 2


async def test_a_corrected_mark_is_in_the_next_digest_and_a_repeat_tells_nobody(
    world: World,
) -> None:
    data = await three_families_file(world)
    await import_as_admin(world, data)
    first = len(await notifications(world))
    await import_as_admin(world, data)  # nothing changes: nobody is told
    assert len(await notifications(world)) == first

    a1 = await snils_of(world, world.pupil_a1_user)
    await import_as_admin(
        world,
        marks_file(
            f"5А,Математика,{a1},2025-10-01,3,Ответ на уроке,,",
            f"5А,Математика,{a1},2025-10-07,5,Ответ на уроке,,",
        ),
    )
    later = (await notifications(world))[first:]
    assert sorted(n.user_id for n in later) == sorted([world.pupil_a1_user, world.parent_a1])
    for n in later:
        assert n.text.startswith(
            "Загружены отметки из файла школы: 1 новая отметка, 1 исправленная."
        )
        assert "— Математика, 01.10: отметка исправлена: «5» → «3»" in n.text
        assert "— Математика, 07.10: новая отметка «5» (ответ на уроке)" in n.text


async def test_an_import_with_one_bad_row_writes_nothing_and_tells_nobody(world: World) -> None:
    good = await three_families_file(world)
    a1 = await snils_of(world, world.pupil_a1_user)
    bad = good + f"5А,Математика,{a1},2025-10-01,5,Ответ на уроке,11,\n"  # weight over 10
    with pytest.raises(ImportFailed) as caught:
        await import_as_admin(world, bad)
    await world.session.rollback()
    assert [(e.line, e.column) for e in caught.value.errors] == [(7, "weight")]
    for model in (Mark, ChangeLogEntry, Notification):
        assert await world.session.scalar(select(func.count()).select_from(model)) == 0


async def test_a_mark_dated_in_the_future_is_refused_as_in_the_gradebook(world: World) -> None:
    a1 = await snils_of(world, world.pupil_a1_user)
    tomorrow = world.clock.now().date() + timedelta(days=1)
    with pytest.raises(ImportFailed) as caught:
        await import_as_admin(
            world, marks_file(f"5А,Математика,{a1},{tomorrow.isoformat()},5,Ответ на уроке,,")
        )
    await world.session.rollback()
    assert [(e.column, e.reason) for e in caught.value.errors] == [
        ("date", "нельзя поставить отметку на будущую дату")
    ]


async def _log(world: World, pupil_id: int, action: str) -> Any:
    """The pupil's one change-log entry of a mark with ``action``: (old, new, reason)."""
    entry = (
        await world.session.execute(
            select(ChangeLogEntry.old, ChangeLogEntry.new, ChangeLogEntry.reason).where(
                ChangeLogEntry.pupil_id == pupil_id,
                ChangeLogEntry.entity == "mark",
                ChangeLogEntry.action == action,
            )
        )
    ).one()
    return entry


async def test_imported_change_log_entries_equal_what_a_gradebook_save_writes(
    world: World,
) -> None:
    """The same mark of two pupils of 5А: Кузнецова's saved in the gradebook, Смирнов's
    imported; then both corrected the same way. The entries differ only in whose they are."""
    answer = world.a.work_type_ids["Ответ на уроке"]
    teacher = await world.ctx(world.teacher_math)
    saved = await marks.record_mark(
        teacher,
        pupil_id=world.pupil_a2,
        subject_id=world.math_a,
        day=date(2025, 10, 1),
        value="5",
        work_type_id=answer,
        comment="у доски",
    )
    await world.session.commit()
    a1 = await snils_of(world, world.pupil_a1_user)
    await import_as_admin(
        world, marks_file(f"5А,Математика,{a1},2025-10-01,5,Ответ на уроке,,у доски")
    )

    created_saved = await _log(world, world.pupil_a2, "create")
    created_imported = await _log(world, world.pupil_a1, "create")
    assert created_saved.old is None and created_imported.old is None
    assert list(created_imported.new) == list(created_saved.new) == list(MARK_SNAPSHOT)
    assert created_imported.new == created_saved.new

    await marks.correct_mark(await world.ctx(world.teacher_math), saved.id, value="3", weight=2)
    await world.session.commit()
    await import_as_admin(
        world, marks_file(f"5А,Математика,{a1},2025-10-01,3,Ответ на уроке,2,у доски")
    )
    fixed_saved = await _log(world, world.pupil_a2, "update")
    fixed_imported = await _log(world, world.pupil_a1, "update")
    assert (fixed_imported.old, fixed_imported.new) == (fixed_saved.old, fixed_saved.new)
    assert fixed_imported.new["value"] == "3" and fixed_imported.new["weight"] == 2
    assert fixed_imported.reason == "импорт отметок"


async def test_a_gradebook_save_still_tells_each_mark_on_its_own(world: World) -> None:
    teacher = await world.ctx(world.teacher_math)
    for value in ("5", "4"):
        await marks.record_mark(
            teacher,
            pupil_id=world.pupil_a1,
            subject_id=world.math_a,
            day=date(2025, 10, 1),
            value=value,
            work_type_id=world.a.work_type_ids["Ответ на уроке"],
        )
    await world.session.commit()
    told = await notifications(world)
    assert {n.kind for n in told} == {"mark"}
    assert Counter(n.user_id for n in told) == {world.pupil_a1_user: 2, world.parent_a1: 2}
    assert [n.text for n in told if n.user_id == world.parent_a1] == [
        "Новая отметка «5» по предмету «Математика» (ответ на уроке, 01.10)",
        "Новая отметка «4» по предмету «Математика» (ответ на уроке, 01.10)",
    ]
