"""The portal's progress reads (:mod:`diary_core.progress`): one pupil's marks, attendance and
period marks in one statement, a batch's in one statement each; both return exactly what the
three queries of before returned, in the same order and with the same types.

The world: pupil_a1 has marks in two subjects (corrected, deleted, pass/fail, not counting,
two on one day), absences (one cleared), period marks, and a mark and a period mark in
school B's «Математика» (the schema allows it: a subject name that two of his subjects share);
pupil_b1 and pupil_z1 (school B) have a little; pupil_a2 has nothing. The clock stands on
Wednesday 15.10.2025.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core.attendance import set_attendance
from diary_core.errors import NotFound
from diary_core.grading import weighted_average
from diary_core.lessons import record_lesson
from diary_core.marks import correct_mark, delete_mark, record_mark
from diary_core.models import (
    Attendance,
    Mark,
    Period,
    PeriodMark,
    Pupil,
    Subject,
    WorkType,
)
from diary_core.period_marks import set_period_mark
from diary_core.policy import PortalReader, PortalScope
from diary_core.progress.model import (
    GradingPeriod,
    PeriodMarkEntry,
    Progress,
    ProgressAbsence,
    ProgressMark,
    SubjectAverage,
)
from diary_core.progress.reading import load_progress, load_progress_batch, load_progress_rows
from diary_core.progress.rows import ProgressRows
from diary_core.progress.summary import assemble, iter_progress
from tests.support.statements import statements_sent
from tests.support.world import World

YEAR = (date(2025, 9, 1), date(2026, 5, 31))
#: A portal client serving every school: these tests are about what is read, not who may.
READER = PortalReader("test", None, frozenset({PortalScope.READ_PROGRESS}))
RANGES = [
    YEAR,
    (date(2025, 9, 3), date(2025, 9, 10)),  # some marks and absences; quarter 1 and the year
    (date(2025, 11, 10), date(2025, 11, 20)),  # no marks; quarter 2 and the year
    (date(2025, 10, 1), date(2025, 10, 1)),  # one day
]


async def _lesson(world: World, subject_id: int, day: date, number: int) -> int:
    teacher = world.teacher_math if subject_id == world.math_a else world.ct_5a
    ctx = await world.ctx(teacher)
    lesson = await record_lesson(
        ctx, class_id=world.class_5a, subject_id=subject_id, day=day, lesson_number=number
    )
    return lesson.id


async def _foreign_subject_records(world: World) -> None:
    """A mark and a quarter mark of pupil_a1 in school B's «Математика», written directly:
    the use cases keep to the pupil's school, the schema does not."""
    now = world.clock.now()
    stamps: dict[str, Any] = {"created_at": now, "updated_at": now}
    world.session.add(
        Mark(
            school_id=world.a.id, pupil_id=world.pupil_a1, subject_id=world.math_b,
            lesson_id=None, date=date(2025, 9, 8), value="4", numeric=4,
            work_type_id=world.a.work_type_ids["Диктант"], weight=2, counts=True, comment="",
            **stamps,
        )
    )  # fmt: skip
    world.session.add(
        PeriodMark(
            school_id=world.a.id, pupil_id=world.pupil_a1, subject_id=world.math_b,
            period_id=world.a.quarter_ids[0], value="4", numeric=4, **stamps,
        )
    )  # fmt: skip
    await world.session.flush()


async def _records(world: World) -> None:
    math = await world.ctx(world.teacher_math)
    russian = await world.ctx(world.ct_5a)
    wt = world.a.work_type_ids
    a1 = world.pupil_a1

    async def mark(ctx: Any, subject: int, day: date, value: str, kind: str, **kw: Any) -> int:
        m = await record_mark(
            ctx, pupil_id=a1, subject_id=subject, day=day, value=value, work_type_id=wt[kind], **kw
        )
        return m.id

    await mark(math, world.math_a, date(2025, 9, 3), "5", "Контрольная работа")
    await mark(math, world.math_a, date(2025, 9, 3), "4", "Ответ на уроке")  # same day
    corrected = await mark(math, world.math_a, date(2025, 9, 10), "3", "Диктант")
    await correct_mark(math, corrected, value="4", weight=5, reason="пересдача")
    await mark(math, world.math_a, date(2025, 9, 12), "зач", "Ответ на уроке")
    await mark(math, world.math_a, date(2025, 9, 15), "2", "Диктант", counts=False)
    deleted = await mark(math, world.math_a, date(2025, 9, 16), "1", "Диктант")
    await delete_mark(math, deleted, reason="ошибка")
    await mark(math, world.math_a, date(2025, 10, 1), "5", "Ответ на уроке", weight=10)
    await mark(russian, world.russian_a, date(2025, 9, 5), "5", "Диктант")
    await mark(russian, world.russian_a, date(2025, 9, 20), "4", "Ответ на уроке", weight=3)
    await mark(russian, world.russian_a, date(2025, 10, 14), "3", "Контрольная работа")
    await _foreign_subject_records(world)

    for subject, day, number, kind in [
        (world.math_a, date(2025, 9, 3), 1, "н"),
        (world.russian_a, date(2025, 9, 3), 2, "б"),
        (world.math_a, date(2025, 9, 10), 3, "оп"),
        (world.russian_a, date(2025, 9, 1), 5, "н"),
        (world.math_a, date(2025, 10, 1), 1, "б"),
    ]:
        ctx = math if subject == world.math_a else russian
        lesson = await _lesson(world, subject, day, number)
        await set_attendance(ctx, pupil_id=a1, lesson_id=lesson, kind=kind)
    cleared = await _lesson(world, world.russian_a, date(2025, 9, 4), 1)
    await set_attendance(russian, pupil_id=a1, lesson_id=cleared, kind="н")
    await set_attendance(russian, pupil_id=a1, lesson_id=cleared, kind=None)

    q1, q2 = world.a.quarter_ids[:2]
    for ctx, subject, period, value in [
        (math, world.math_a, q1, "5"),
        (russian, world.russian_a, q1, "4"),
        (math, world.math_a, q2, "зач"),
        (math, world.math_a, world.a.year_period_id, "5"),
    ]:
        await set_period_mark(ctx, pupil_id=a1, subject_id=subject, period_id=period, value=value)

    await record_mark(
        math, pupil_id=world.pupil_b1, subject_id=world.math_a, day=date(2025, 9, 9),
        value="3", work_type_id=wt["Диктант"],
    )  # fmt: skip
    other = await world.ctx(world.teacher_b)
    await record_mark(
        other, pupil_id=world.pupil_z1, subject_id=world.math_b, day=date(2025, 9, 9),
        value="4", work_type_id=world.b.work_type_ids["Диктант"],
    )  # fmt: skip
    await set_period_mark(
        other, pupil_id=world.pupil_z1, subject_id=world.math_b,
        period_id=world.b.quarter_ids[0], value="4",
    )  # fmt: skip
    await world.session.commit()


@pytest.fixture
async def records(world: World) -> World:
    await _records(world)
    return world


async def _pupil_ids(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(Pupil.id).order_by(Pupil.id)))


async def _reference_rows(
    session: AsyncSession, ids: list[int], start: date, end: date
) -> tuple[list[Any], list[Any], list[Any]]:
    """The three queries the combined statement replaced, as they were (the period marks'
    order completed by subject id and id: equal subject names left it open)."""
    marks = (
        select(
            Mark.pupil_id, Mark.id, Mark.date, Mark.subject_id, Subject.name, WorkType.name,
            Mark.weight, Mark.value, Mark.numeric, Mark.counts,
        )
        .join(Subject, Subject.id == Mark.subject_id)
        .join(WorkType, WorkType.id == Mark.work_type_id)
        .where(Mark.pupil_id.in_(ids), Mark.date >= start, Mark.date <= end)
        .order_by(Mark.pupil_id, Subject.name, Mark.subject_id, Mark.date, Mark.id)
    )  # fmt: skip
    attendance = (
        select(
            Attendance.pupil_id, Attendance.id, Attendance.date, Attendance.lesson_number,
            Attendance.subject_id, Subject.name, Attendance.kind,
        )
        .join(Subject, Subject.id == Attendance.subject_id)
        .where(Attendance.pupil_id.in_(ids), Attendance.date >= start, Attendance.date <= end)
        .order_by(Attendance.pupil_id, Attendance.date, Attendance.lesson_number)
    )  # fmt: skip
    period_marks = (
        select(
            PeriodMark.pupil_id, PeriodMark.id, Period.id, Period.kind, Period.number,
            Period.name, Period.starts_on, Period.ends_on, PeriodMark.subject_id, Subject.name,
            PeriodMark.value, PeriodMark.numeric,
        )
        .join(Period, Period.id == PeriodMark.period_id)
        .join(Subject, Subject.id == PeriodMark.subject_id)
        .where(PeriodMark.pupil_id.in_(ids), Period.starts_on <= end, Period.ends_on >= start)
        .order_by(
            PeriodMark.pupil_id, Period.starts_on, Period.ends_on, Subject.name,
            PeriodMark.subject_id, PeriodMark.id,
        )
    )  # fmt: skip
    conn = await session.connection()
    found = [[tuple(r) for r in await conn.execute(q)] for q in (marks, attendance, period_marks)]
    return found[0], found[1], found[2]


@pytest.mark.parametrize(("start", "end"), RANGES)
async def test_rows_are_those_of_the_three_queries_in_their_order(
    records: World, start: date, end: date
) -> None:
    session = records.session
    ids = await _pupil_ids(session)
    rows = await load_progress_rows(session, READER, [*ids, 10_000], start, end)
    marks, attendance, period_marks = await _reference_rows(session, ids, start, end)
    assert [r[0] for r in rows.pupils] == ids  # the unknown id is left out
    assert rows.marks == marks
    assert rows.attendance == attendance
    assert rows.period_marks == period_marks
    if (start, end) == YEAR:
        assert (len(marks), len(attendance), len(period_marks)) == (12, 5, 6)


@pytest.mark.parametrize(("start", "end"), RANGES)
async def test_one_pupils_statement_builds_what_the_batch_builds(
    records: World, engine: AsyncEngine, start: date, end: date
) -> None:
    session = records.session
    ids = await _pupil_ids(session)
    batch = await load_progress_batch(session, READER, ids, start, end)
    reference = assemble(
        ProgressRows(start, end, (await load_progress_rows(session, READER, ids, start, end))
                     .pupils, *await _reference_rows(session, ids, start, end))
    )  # fmt: skip
    assert batch == reference
    for pupil_id in ids:
        with statements_sent(engine) as statements:
            one = await load_progress(
                session, READER, pupil_id, start, end, pupil=batch[pupil_id].pupil
            )
        assert len(statements) == 1
        assert one == batch[pupil_id]
        assert await load_progress(session, READER, pupil_id, start, end) == batch[pupil_id]
    with pytest.raises(NotFound):
        await load_progress(session, READER, 10_000, start, end)


async def test_a_batch_is_read_in_four_statements(records: World, engine: AsyncEngine) -> None:
    ids = await _pupil_ids(records.session)
    with statements_sent(engine) as statements:
        rows = await load_progress_rows(records.session, READER, ids, *YEAR)
    assert len(statements) == 4
    assert len(rows.pupils) == len(ids)


async def test_order_subjects_by_name_then_id_and_periods_by_dates(records: World) -> None:
    w = records
    progress = await load_progress(w.session, READER, w.pupil_a1, *YEAR)
    assert progress is not None
    assert [(m.subject_id, m.date, m.value) for m in progress.marks] == [
        (w.math_a, date(2025, 9, 3), "5"),
        (w.math_a, date(2025, 9, 3), "4"),  # same day: by id
        (w.math_a, date(2025, 9, 10), "4"),  # corrected from 3
        (w.math_a, date(2025, 9, 12), "зач"),
        (w.math_a, date(2025, 9, 15), "2"),
        (w.math_a, date(2025, 10, 1), "5"),
        (w.math_b, date(2025, 9, 8), "4"),  # the same name: by subject id
        (w.russian_a, date(2025, 9, 5), "5"),
        (w.russian_a, date(2025, 9, 20), "4"),
        (w.russian_a, date(2025, 10, 14), "3"),
    ]
    assert [(a.date, a.lesson_number, a.kind) for a in progress.attendance] == [
        (date(2025, 9, 1), 5, "н"),
        (date(2025, 9, 3), 1, "н"),
        (date(2025, 9, 3), 2, "б"),
        (date(2025, 9, 10), 3, "оп"),
        (date(2025, 10, 1), 1, "б"),
    ]
    q1, q2 = w.a.quarter_ids[:2]
    assert [(p.period.id, p.subject_id, p.value) for p in progress.period_marks] == [
        (q1, w.math_a, "5"),
        (q1, w.math_b, "4"),  # the same name: by subject id
        (q1, w.russian_a, "4"),
        (w.a.year_period_id, w.math_a, "5"),  # starts with quarter 1, ends after it
        (q2, w.math_a, "зач"),
    ]
    assert [(a.subject_id, a.subject, a.average, a.marks) for a in progress.averages] == [
        # (5·3 + 4·1 + 4·5 + 5·10) / 19 = 89 / 19 = 4.684…; зач and the 2 not counting
        (w.math_a, "Математика", Decimal("4.68"), 6),
        (w.math_b, "Математика", Decimal("4.00"), 1),
        # (5·2 + 4·3 + 3·3) / 8 = 31 / 8 = 3.875
        (w.russian_a, "Русский язык", Decimal("3.88"), 3),
    ]


async def test_averages_follow_the_rule_for_every_pupil_and_range(records: World) -> None:
    ids = await _pupil_ids(records.session)
    for start, end in RANGES:
        batch = await load_progress_batch(records.session, READER, ids, start, end)
        for progress in batch.values():
            expected: dict[int, list[ProgressMark]] = {}
            for m in progress.marks:
                expected.setdefault(m.subject_id, []).append(m)
            assert progress.averages == tuple(
                SubjectAverage(
                    sid,
                    ms[0].subject,
                    weighted_average((m.numeric, m.weight, m.counts) for m in ms),
                    len(ms),
                )
                for sid, ms in expected.items()
            )


def _check_types(p: Progress) -> None:
    for m in p.marks:
        assert type(m) is ProgressMark
        assert type(m.id) is int and type(m.date) is date and type(m.counts) is bool
        assert type(m.weight) is int and (m.numeric is None or type(m.numeric) is int)
    for a in p.attendance:
        assert type(a) is ProgressAbsence
        assert type(a.date) is date and type(a.lesson_number) is int and type(a.kind) is str
    for pm in p.period_marks:
        assert type(pm) is PeriodMarkEntry and type(pm.period) is GradingPeriod
        assert type(pm.period.starts_on) is date and type(pm.period.ends_on) is date
        assert type(pm.period.number) is int
        assert pm.numeric is None or type(pm.numeric) is int
    for average in p.averages:
        assert average.average is None or type(average.average) is Decimal


async def test_fields_have_their_types_on_either_database(records: World) -> None:
    """SQLite stores dates as text and booleans as numbers: the combined statement's typed
    columns bring them back as dates and booleans (``1 == True`` would hide a number)."""
    w = records
    progress = await load_progress(w.session, READER, w.pupil_a1, *YEAR)
    assert progress is not None
    _check_types(progress)
    one = await load_progress(w.session, READER, w.pupil_a1, *YEAR, pupil=progress.pupil)
    assert one is not None
    _check_types(one)
    assert not one.marks[4].counts and one.marks[0].counts
    assert one.marks[3].numeric is None and one.period_marks[-1].numeric is None


async def test_a_pupil_with_nothing_has_an_empty_document(records: World) -> None:
    w = records
    empty = await load_progress(w.session, READER, w.pupil_a2, *YEAR)
    assert empty is not None
    assert (empty.marks, empty.averages, empty.attendance, empty.period_marks) == ((), (), (), ())
    rows = await load_progress_rows(w.session, READER, [w.pupil_a2, w.pupil_a1], *YEAR)
    built = list(iter_progress(rows))
    assert [p.pupil.id for p in built] == sorted([w.pupil_a1, w.pupil_a2])
    assert built[[p.pupil.id for p in built].index(w.pupil_a2)] == empty


def test_records_are_named_tuples_with_the_documents_field_order() -> None:
    """The documents read these by name; the change feed tells them apart by class."""
    assert ProgressMark._fields == (
        "id", "date", "subject_id", "subject", "work_type", "weight", "value", "numeric",
        "counts",
    )  # fmt: skip
    assert ProgressAbsence._fields == (
        "id", "date", "lesson_number", "subject_id", "subject", "kind",
    )  # fmt: skip
    assert GradingPeriod._fields == ("id", "kind", "number", "name", "starts_on", "ends_on")
    assert PeriodMarkEntry._fields == (
        "id", "period", "subject_id", "subject", "value", "numeric",
    )  # fmt: skip
    assert SubjectAverage._fields == ("subject_id", "subject", "average", "marks")
    mark = ProgressMark(1, date(2025, 9, 1), 2, "Математика", "Диктант", 1, "5", 5, True)
    assert not isinstance(mark, ProgressAbsence | PeriodMarkEntry)
    period = GradingPeriod(1, "quarter", 1, "1 четверть", date(2025, 9, 1), date(2025, 10, 31))
    assert PeriodMarkEntry(1, period, 2, "Математика", "5", 5).period.name == "1 четверть"
