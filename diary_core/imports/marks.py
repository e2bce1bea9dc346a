"""The marks import (formats: README.md): marks of the school's pupils, one per row.

A mark is identified by pupil, subject, date, work type and its occurrence among the file's
rows with that same key (two answers on one day are the first and the second). Re-importing
the same file changes nothing; a row whose mark differs from the stored one is a correction,
kept in the change log with old and new values. Every row is checked before anything is
written (the file on its own: :mod:`diary_core.imports.marks_file`; then against the school),
and a file with any error writes nothing and tells nobody.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from diary_core.imports.common import (
    Counts,
    ProgressFn,
    chunked,
    import_target,
    name_key,
    record_import,
    select_in_chunks,
    table,
)
from diary_core.imports.csvfile import Errors
from diary_core.imports.marks_file import ParsedMarkLine, read_marks
from diary_core.mark_writes import MarkWrites, check_day
from diary_core.models import (
    AcademicYear,
    Lesson,
    Mark,
    Pupil,
    SchoolClass,
    Subject,
    User,
    WorkType,
)
from diary_core.text import shown

MARKS = table(Mark)
#: The reason each change of an import gives in the change log.
REASON = "импорт отметок"


@dataclass
class MarksReport:
    """What a marks import did."""

    rows: int
    marks: Counts = field(default_factory=Counts)

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "marks": self.marks.as_dict()}


# --- checking against the database (a few bulk reads) ---------------------------------------


@dataclass
class Known:
    classes: dict[str, int]
    subjects: dict[str, int]
    work_types: dict[str, tuple[int, int]]  # key → (id, weight)
    pupils: dict[str, tuple[int, int, int]]  # SNILS → (pupil id, school id, class id)


@dataclass(frozen=True)
class Resolved:
    """A row with every name turned into an id: ready to compare and write."""

    line: int
    pupil_id: int
    class_id: int
    subject_id: int
    day: date
    work_type_id: int
    occurrence: int
    value: str
    numeric: int | None
    weight: int
    comment: str

    @property
    def key(self) -> tuple[int, int, date, int]:
        return (self.pupil_id, self.subject_id, self.day, self.work_type_id)


async def _load(ctx: Ctx, school_id: int, year: AcademicYear, rows: list[ParsedMarkLine]) -> Known:
    session = ctx.session
    classes = await session.execute(
        select(SchoolClass.name, SchoolClass.id).where(
            SchoolClass.school_id == school_id, SchoolClass.year_id == year.id
        )
    )
    subjects = await session.execute(
        select(Subject.name, Subject.id).where(Subject.school_id == school_id)
    )
    work_types = await session.execute(
        select(WorkType.name, WorkType.id, WorkType.weight).where(WorkType.school_id == school_id)
    )
    # Single-table reads by indexed keys: right after a big roster import the planner's
    # statistics are stale, and a join could then turn into a nested loop over whole tables.
    users = await select_in_chunks(
        session,
        lambda part: select(User.snils, User.id).where(User.snils.in_(part)),
        sorted({r.snils for r in rows}),
    )
    snils_of = {user_id: snils for snils, user_id in users}
    pupils = await select_in_chunks(
        session,
        lambda part: select(Pupil.user_id, Pupil.id, Pupil.school_id, Pupil.class_id).where(
            Pupil.user_id.in_(part)
        ),
        sorted(snils_of),
    )
    return Known(
        classes=dict(classes.all()),
        subjects={name_key(n): i for n, i in subjects},
        work_types={name_key(n): (i, w) for n, i, w in work_types},
        pupils={snils_of[u]: (p, sch, c) for u, p, sch, c in pupils},
    )


def _resolve_row(
    row: ParsedMarkLine,
    known: Known,
    school_id: int,
    year: AcademicYear,
    today: date,
    errors: Errors,
) -> tuple[int, int, int, int, int] | None:
    """(pupil, class, subject, work type, weight) ids for a row, or None after its errors."""
    before = len(errors.items)
    class_id = known.classes.get(row.class_name)
    if class_id is None:
        errors.add(row.line, "class", f"класса {row.class_name} нет в учебном году {year.name}")
    subject_id = known.subjects.get(row.subject)
    if subject_id is None:
        errors.add(row.line, "subject", f"предмета «{shown(row.subject_text)}» в школе нет")
    work_type = known.work_types.get(row.work_type)
    if work_type is None:
        errors.add(row.line, "work_type", f"вида работы «{shown(row.work_type_text)}» в школе нет")
    try:
        check_day(row.day, today, (year.starts_on, year.ends_on), year.name)
    except InvalidInput as exc:
        errors.add(row.line, "date", str(exc))
    pupil = known.pupils.get(row.snils)
    if pupil is None or pupil[1] != school_id:
        errors.add(row.line, "pupil_snils", f"обучающегося со СНИЛС «{row.snils}» в школе нет")
    elif class_id is not None and pupil[2] != class_id:
        errors.add(row.line, "pupil_snils", f"обучающийся не числится в классе {row.class_name}")
    if len(errors.items) > before:
        return None
    assert pupil is not None and class_id is not None and subject_id is not None
    assert work_type is not None
    return pupil[0], class_id, subject_id, work_type[0], row.weight or work_type[1]


def resolve(
    rows: list[ParsedMarkLine],
    known: Known,
    school_id: int,
    year: AcademicYear,
    today: date,
    errors: Errors,
) -> list[Resolved]:
    """Every row against the school's classes, subjects, work types, pupils and year (a
    mark's date as a saved mark's is checked, ``today`` the last day allowed); the rows that
    fail are added to ``errors``."""
    occurrences: Counter[tuple[int, int, date, int]] = Counter()
    resolved: list[Resolved] = []
    for row in rows:
        ids = _resolve_row(row, known, school_id, year, today, errors)
        if ids is None:
            continue
        pupil_id, class_id, subject_id, work_type_id, weight = ids
        key = (pupil_id, subject_id, row.day, work_type_id)
        resolved.append(
            Resolved(
                line=row.line,
                pupil_id=pupil_id,
                class_id=class_id,
                subject_id=subject_id,
                day=row.day,
                work_type_id=work_type_id,
                occurrence=occurrences[key],
                value=row.mark.text,
                numeric=row.mark.numeric,
                weight=weight,
                comment=row.comment,
            )
        )
        occurrences[key] += 1
    return resolved


# --- comparing with the stored marks and writing --------------------------------------------


async def _existing(
    ctx: Ctx, school_id: int, rows: Sequence[Resolved]
) -> dict[tuple[int, int, date, int], list[Any]]:
    """Stored marks with the keys of the rows, in the order they were written."""
    first, last = min(r.day for r in rows), max(r.day for r in rows)
    subjects = sorted({r.subject_id for r in rows})
    found = await select_in_chunks(
        ctx.session,
        lambda part: (
            select(MARKS)
            .where(
                MARKS.c.school_id == school_id,
                MARKS.c.pupil_id.in_(part),
                MARKS.c.subject_id.in_(subjects),
                MARKS.c.date.between(first, last),
            )
            .order_by(MARKS.c.id)
        ),
        sorted({r.pupil_id for r in rows}),
    )
    found.sort(key=lambda m: m.id)
    by_key: dict[tuple[int, int, date, int], list[Any]] = {}
    for mark in found:
        by_key.setdefault((mark.pupil_id, mark.subject_id, mark.date, mark.work_type_id), [])
        by_key[(mark.pupil_id, mark.subject_id, mark.date, mark.work_type_id)].append(mark)
    return by_key


async def _lessons(
    ctx: Ctx, school_id: int, rows: Sequence[Resolved]
) -> dict[tuple[int, int, date], int]:
    """The lesson each mark belongs to: the first lesson of its class and subject that day."""
    first, last = min(r.day for r in rows), max(r.day for r in rows)
    result = await ctx.session.execute(
        select(Lesson.class_id, Lesson.subject_id, Lesson.date, Lesson.id)
        .where(Lesson.school_id == school_id, Lesson.date.between(first, last))
        .order_by(Lesson.lesson_number.desc())
    )
    # Later rows overwrite earlier ones: the lowest lesson number of the day wins.
    return {(c, s, d): i for c, s, d, i in result}


async def _write(
    writes: MarkWrites,
    school_id: int,
    rows: Sequence[Resolved],
    existing: dict[tuple[int, int, date, int], list[Any]],
    lessons: dict[tuple[int, int, date], int],
    counts: Counts,
) -> None:
    """Rows of the file as new marks, corrections of stored ones, or nothing (a stored mark
    with the row's value, weight and comment)."""
    creates: list[dict[str, Any]] = []
    fixes: list[tuple[Mapping[str, Any], dict[str, Any]]] = []
    for row in rows:
        lesson_id = lessons.get((row.class_id, row.subject_id, row.day))
        stored = existing.get(row.key, [])
        if row.occurrence >= len(stored):
            creates.append(
                {
                    "school_id": school_id,
                    "pupil_id": row.pupil_id,
                    "subject_id": row.subject_id,
                    "lesson_id": lesson_id,
                    "date": row.day,
                    "value": row.value,
                    "numeric": row.numeric,
                    "work_type_id": row.work_type_id,
                    "weight": row.weight,
                    "counts": True,
                    "comment": row.comment,
                }
            )
            continue
        mark = stored[row.occurrence]
        if (mark.value, mark.weight, mark.comment) == (row.value, row.weight, row.comment):
            counts.unchanged += 1
            continue
        fields = {
            "value": row.value,
            "numeric": row.numeric,
            "weight": row.weight,
            "comment": row.comment,
            "lesson_id": mark.lesson_id or lesson_id,
        }
        fixes.append((mark._mapping, fields))
    counts.created += len(await writes.create(creates))
    counts.updated += await writes.correct(fixes)


async def import_marks(
    ctx: Ctx,
    school_id: int,
    data: bytes | str,
    *,
    file_name: str = "",
    progress: ProgressFn | None = None,
) -> MarksReport:
    """Import a marks file into the school's current academic year, all or nothing.

    Every row is checked first (the file on its own, then against the school's classes,
    subjects, work types, pupils and year dates with a few bulk reads); any error raises
    :class:`~diary_core.imports.csvfile.ImportFailed` listing them all, and nothing is
    written, nobody told. The marks are written through the journal's write path
    (:class:`~diary_core.mark_writes.MarkWrites`): new marks and corrections each get the
    change-log entry a save in the gradebook would write, and each family account one
    notification (``marks_digest``) listing its children's new and corrected marks. One
    audit event records the import. All of it in the caller's transaction.
    """
    _, year = await import_target(ctx, school_id)
    errors = Errors()
    parsed = read_marks(data, errors)
    known = await _load(ctx, school_id, year, parsed)
    rows = resolve(parsed, known, school_id, year, ctx.now().date(), errors)
    errors.raise_if_any()
    report = MarksReport(rows=len(rows))
    if rows:
        existing = await _existing(ctx, school_id, rows)
        lessons = await _lessons(ctx, school_id, rows)
        writes = MarkWrites(ctx, reason=REASON, bulk=True)
        done = 0
        for part in chunked(rows):
            await _write(writes, school_id, part, existing, lessons, report.marks)
            done += len(part)
            if progress is not None:
                progress(done, report.rows)
        await writes.finish()
    await record_import(ctx, "marks", school_id, file_name, year, report.as_dict())
    return report
