"""The marks import (README.md): all or nothing, idempotent, corrections kept in the change log."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.errors import Forbidden, NotFound
from diary_core.imports import MARKS_COLUMNS, ImportFailed, MarksReport, import_marks
from diary_core.models import AuditEvent, ChangeLogEntry, Lesson, Mark, User
from tests.support.world import World

DATA = Path(__file__).with_name("data")
TABLES = (Mark, ChangeLogEntry, AuditEvent)


def marks_file(*rows: str) -> str:
    return "\n".join((",".join(MARKS_COLUMNS), *rows)) + "\n"


async def snils_of(world: World, user_id: int) -> str:
    user = await world.session.get(User, user_id)
    assert user is not None and user.snils
    return user.snils


async def counts(session: AsyncSession) -> dict[str, int]:
    return {
        t.__tablename__: await session.scalar(select(func.count()).select_from(t)) or 0
        for t in TABLES
    }


async def import_as_admin(world: World, data: bytes | str) -> MarksReport:
    ctx = await world.ctx(world.admin_a)
    report = await import_marks(ctx, world.a.id, data, file_name="marks.csv")
    await world.session.commit()
    return report


async def marks_of(session: AsyncSession, pupil_id: int) -> list[Mark]:
    session.expire_all()
    return list(
        await session.scalars(select(Mark).where(Mark.pupil_id == pupil_id).order_by(Mark.id))
    )


async def a1_file(world: World) -> str:
    """Three marks of pupil_a1 (5А): two answers on one day and a test."""
    a1 = await snils_of(world, world.pupil_a1_user)
    return marks_file(
        f"5А,Математика,{a1},2025-10-01,5,Ответ на уроке,,",
        f"5А,Математика,{a1},2025-10-01,4,Ответ на уроке,,вторая",
        f"5А,Русский язык,{a1},06.10.2025,зач,Контрольная работа,2,",
    )


async def test_marks_are_created_with_weights_lessons_and_change_log(world: World) -> None:
    s = world.session
    lesson = Lesson(
        school_id=world.a.id,
        class_id=world.class_5a,
        subject_id=world.math_a,
        teacher_id=world.teacher_math,
        date=date(2025, 10, 1),
        lesson_number=2,
        created_at=world.clock.now(),
        updated_at=world.clock.now(),
    )
    s.add(lesson)
    await s.commit()
    lesson_id = lesson.id
    report = await import_as_admin(world, await a1_file(world))
    assert (report.rows, report.marks.created) == (3, 3)
    first, second, test = await marks_of(s, world.pupil_a1)
    assert (first.value, first.numeric, first.weight, first.counts) == ("5", 5, 1, True)
    assert (first.lesson_id, second.lesson_id, test.lesson_id) == (lesson_id, lesson_id, None)
    assert (second.value, second.comment) == ("4", "вторая")
    assert (test.value, test.numeric, test.weight) == ("зач", None, 2)
    assert test.work_type_id == world.a.work_type_ids["Контрольная работа"]
    assert (first.created_by_id, first.updated_by_id) == (world.admin_a, world.admin_a)
    entries = list(await s.scalars(select(ChangeLogEntry).order_by(ChangeLogEntry.entity_id)))
    assert [(e.entity, e.entity_id, e.action, e.old) for e in entries] == [
        ("mark", m.id, "create", None) for m in (first, second, test)
    ]
    assert entries[0].new == {
        "subject_id": world.math_a,
        "date": "2025-10-01",
        "value": "5",
        "numeric": 5,
        "work_type_id": world.a.work_type_ids["Ответ на уроке"],
        "weight": 1,
        "counts": True,
        "comment": "",
        "lesson_id": lesson_id,
    }
    assert entries[0].actor_id == world.admin_a


async def test_one_audit_event_per_marks_import(world: World) -> None:
    before = await counts(world.session)
    await import_as_admin(world, await a1_file(world))
    assert (await counts(world.session))["audit_events"] == before["audit_events"] + 1
    event = await world.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "marks.import")
    )
    assert event is not None and event.school_id == world.a.id
    assert event.details["file"] == "marks.csv"
    assert event.details["marks"] == {"created": 3, "updated": 0, "unchanged": 0}


async def test_reimporting_the_same_marks_changes_nothing(world: World) -> None:
    data = await a1_file(world)
    await import_as_admin(world, data)
    before = await counts(world.session)
    stamps = [(m.id, m.updated_at) for m in await marks_of(world.session, world.pupil_a1)]
    report = await import_as_admin(world, data)
    assert (report.marks.created, report.marks.updated, report.marks.unchanged) == (0, 0, 3)
    assert await counts(world.session) == {**before, "audit_events": before["audit_events"] + 1}
    again = [(m.id, m.updated_at) for m in await marks_of(world.session, world.pupil_a1)]
    assert again == stamps


async def test_a_changed_mark_on_reimport_is_one_logged_correction(world: World) -> None:
    data = await a1_file(world)
    await import_as_admin(world, data)
    first, second, _ = await marks_of(world.session, world.pupil_a1)
    before = await counts(world.session)
    fixed = data.replace(",4,Ответ на уроке,,вторая", ",3,Ответ на уроке,,исправлено")
    report = await import_as_admin(world, fixed)
    assert (report.marks.created, report.marks.updated, report.marks.unchanged) == (0, 1, 2)
    after = await counts(world.session)
    assert after["marks"] == before["marks"]
    assert after["change_log"] == before["change_log"] + 1
    entry = await world.session.scalar(
        select(ChangeLogEntry).where(ChangeLogEntry.action == "update")
    )
    assert entry is not None and entry.entity_id == second.id
    assert entry.old is not None and entry.new is not None
    assert (entry.old["value"], entry.old["comment"]) == ("4", "вторая")
    assert (entry.new["value"], entry.new["numeric"], entry.new["comment"]) == (
        "3",
        3,
        "исправлено",
    )
    now_first, now_second, _ = await marks_of(world.session, world.pupil_a1)
    assert (now_second.value, now_second.numeric) == ("3", 3)
    assert now_first.updated_at == first.updated_at


async def test_weight_from_the_file_overrides_the_work_type(world: World) -> None:
    a1 = await snils_of(world, world.pupil_a1_user)
    await import_as_admin(world, marks_file(f"5А,математика,{a1},2025-10-01,5,ответ на уроке,3,"))
    (mark,) = await marks_of(world.session, world.pupil_a1)
    assert mark.weight == 3


async def test_excel_file_with_semicolons_bom_and_russian_dates(world: World) -> None:
    from diary_core.imports import import_roster

    ctx = await world.ctx(world.admin_a)
    await import_roster(ctx, world.a.id, (DATA / "roster_excel.csv").read_bytes())
    report = await import_as_admin(world, (DATA / "marks_excel.csv").read_bytes())
    assert report.marks.created == 4
    marks = list(await world.session.scalars(select(Mark).order_by(Mark.id)))
    assert [(m.date, m.value) for m in marks] == [
        (date(2025, 10, 1), "5"),
        (date(2025, 10, 1), "4"),
        (date(2025, 10, 2), "3"),
        (date(2025, 10, 3), "зач"),
    ]
    assert marks[3].comment == "зачёт; с пересдачей"


async def test_every_bad_row_is_reported_with_line_and_column_and_nothing_written(
    world: World,
) -> None:
    a1 = await snils_of(world, world.pupil_a1_user)
    b1 = await snils_of(world, world.pupil_b1_user)
    z1 = await snils_of(world, world.pupil_z1_user)
    data = marks_file(
        f"5А,Математика,{a1},2025-10-01,5,Ответ на уроке,,",  # 2: fine
        "5А,Математика,112-233-000 00,2025-10-01,5,Ответ на уроке,,",  # 3: checksum
        f"5В,Математика,{a1},2025-10-01,5,Ответ на уроке,,",  # 4: unknown class
        f"5А,Математика,{a1},31.02.2025,5,Ответ на уроке,,",  # 5: bad date
        f"5А,Математика,{a1},2025-10-01,6,Ответ на уроке,,",  # 6: unknown mark
        f"5А,Физика,{a1},2025-10-01,5,Ответ на уроке,,",  # 7: unknown subject
        f"5А,Математика,{a1},2025-10-01,5,Сочинение,,",  # 8: unknown work type
        f"5А,Математика,{b1},2025-10-01,5,Ответ на уроке,,",  # 9: pupil of 5Б
        f"5А,Математика,{a1},2026-06-15,5,Ответ на уроке,,",  # 10: after the year
        f"5А,Математика,{a1},2025-10-01,5,Ответ на уроке,0,",  # 11: weight 0
        f"5А,Математика,{a1},2025-10-01,5,Ответ на уроке,1.5,",  # 12: weight 1.5
        f"5А,Математика,{z1},2025-10-01,5,Ответ на уроке,,",  # 13: pupil of school Б
        f"5А,,{a1},2025-10-01,5,Ответ на уроке,,",  # 14: no subject
        f"5А,Математика,{a1},вчера,отл,Ответ на уроке,-1,",  # 15: three errors
    )
    before = await counts(world.session)
    with pytest.raises(ImportFailed) as caught:
        await import_as_admin(world, data)
    await world.session.rollback()
    found = [(e.line, e.column) for e in caught.value.errors]
    assert found == [
        (3, "pupil_snils"),
        (4, "class"),
        (5, "date"),
        (6, "mark"),
        (7, "subject"),
        (8, "work_type"),
        (9, "pupil_snils"),
        (10, "date"),
        (11, "weight"),
        (12, "weight"),
        (13, "pupil_snils"),
        (14, "subject"),
        (15, "date"),
        (15, "mark"),
        (15, "weight"),
    ]
    reasons = {(e.line, e.column): e.reason for e in caught.value.errors}
    assert "контрольная сумма" in reasons[(3, "pupil_snils")]
    assert "5В" in reasons[(4, "class")]
    assert "неизвестная отметка" in reasons[(6, "mark")]
    assert "не числится в классе 5А" in reasons[(9, "pupil_snils")]
    assert "вне учебного года" in reasons[(10, "date")]
    assert "целым положительным" in reasons[(11, "weight")]
    assert await counts(world.session) == before


async def test_other_schools_administrator_cannot_import_marks(world: World) -> None:
    ctx = await world.ctx(world.admin_b)
    with pytest.raises(NotFound):
        await import_marks(ctx, world.a.id, await a1_file(world))


async def test_a_teacher_cannot_import_marks(world: World) -> None:
    ctx = await world.ctx(world.teacher_math)
    with pytest.raises(Forbidden):
        await import_marks(ctx, world.a.id, await a1_file(world))


async def test_an_empty_file_imports_nothing(world: World) -> None:
    report = await import_as_admin(world, marks_file())
    assert report.rows == 0 and report.marks.created == 0
