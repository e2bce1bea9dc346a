"""The marks import (formats: README.md): marks of the school's pupils, one per row.

A mark is identified by pupil, subject, date, work type and its occurrence among the file's
rows with that same key (two answers on one day are the first and the second). Re-importing
the same file changes nothing; a row whose mark differs from the stored one is a correction,
kept in the change log with old and new values. Every row is checked before anything is
written, and a file with any error writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.sql.expression import bindparam

from diary_core.changes import Snapshot, change_row
from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from diary_core.grading import MarkValue, parse_mark
from diary_core.imports.common import (
    Counts,
    ProgressFn,
    actor_id,
    chunked,
    import_target,
    name_key,
    record_import,
    select_in_chunks,
    table,
)
from diary_core.imports.csvfile import (
    CsvRow,
    Errors,
    parse_date,
    parse_positive_int,
    read_csv,
)
from diary_core.models import (
    AcademicYear,
    ChangeLogEntry,
    Lesson,
    Mark,
    Pupil,
    SchoolClass,
    Subject,
    User,
    WorkType,
)
from diary_core.school import parse_class_name
from diary_core.snils import normalize_snils
from diary_core.text import shown

MARKS_COLUMNS = (
    "class",
    "subject",
    "pupil_snils",
    "date",
    "mark",
    "work_type",
    "weight",
    "comment",
)
#: The columns' Russian titles, accepted in the header beside the names above.
MARKS_TITLES = {
    "class": "Класс",
    "subject": "Предмет",
    "pupil_snils": "СНИЛС обучающегося",
    "date": "Дата",
    "mark": "Отметка",
    "work_type": "Вид работы",
    "weight": "Вес",
    "comment": "Комментарий",
}
MAX_WEIGHT = 100

MARKS = table(Mark)
CHANGES = table(ChangeLogEntry)


@dataclass
class MarksReport:
    """What a marks import did."""

    rows: int
    marks: Counts = field(default_factory=Counts)

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "marks": self.marks.as_dict()}


@dataclass(frozen=True)
class MarkRow:
    """A row that passed the checks that need no database."""

    line: int
    class_name: str
    subject: str  # name_key of the subject
    snils: str
    day: date
    mark: MarkValue
    work_type: str  # name_key of the work type
    weight: int | None
    comment: str
    subject_text: str = ""  # the subject and the work type as written, for errors
    work_type_text: str = ""


# --- reading and checking the file (no database) -------------------------------------------


def _weight(raw: str) -> int | None:
    if not raw:
        return None
    try:
        return parse_positive_int(raw, maximum=MAX_WEIGHT)
    except InvalidInput as exc:
        raise InvalidInput(f"вес должен быть целым положительным числом: {exc}") from None


def _name(raw: str) -> str:
    if not raw:
        raise InvalidInput("не заполнено")
    return name_key(raw)


#: How each checked cell is read; a failure is :class:`InvalidInput` with the reason.
_PARSERS: dict[str, Callable[[str], Any]] = {
    "class": lambda raw: parse_class_name(raw)[0],
    "subject": _name,
    "pupil_snils": normalize_snils,
    "date": parse_date,
    "mark": parse_mark,
    "work_type": _name,
    "weight": _weight,
}


class _Cells:
    """Reads each distinct cell text once: 200,000 marks name only a few thousand pupils,
    classes and dates, and checking a SNILS is the costliest part of reading a row."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[Any, str | None]] = {}

    def read(self, column: str, raw: str) -> tuple[Any, str | None]:
        """(value, None), or (None, the reason it is wrong)."""
        key = (column, raw)
        hit = self._seen.get(key)
        if hit is None:
            try:
                hit = (_PARSERS[column](raw), None)
            except InvalidInput as exc:
                hit = (None, str(exc))
            self._seen[key] = hit
        return hit


def _parse_row(row: CsvRow, cells: _Cells, errors: Errors) -> MarkRow | None:
    before = len(errors.items)
    values: dict[str, Any] = {}
    for column in _PARSERS:
        values[column], reason = cells.read(column, row[column])
        if reason is not None:
            errors.add(row.line, column, reason)
    if len(errors.items) > before:
        return None
    return MarkRow(
        line=row.line,
        class_name=values["class"],
        subject=values["subject"],
        snils=values["pupil_snils"],
        day=values["date"],
        mark=values["mark"],
        work_type=values["work_type"],
        weight=values["weight"],
        comment=row["comment"],
        subject_text=row["subject"],
        work_type_text=row["work_type"],
    )


def read_marks(data: bytes | str, errors: Errors) -> list[MarkRow]:
    """Read and check a marks file on its own. A bad header raises
    :class:`~diary_core.imports.csvfile.ImportFailed` at once; bad rows are added to
    ``errors`` and left out, so the rest can still be checked against the database."""
    table = read_csv(data, MARKS_COLUMNS, multiline=("comment",), titles=MARKS_TITLES)
    errors.columns.update(table.columns)
    cells = _Cells()
    return [r for r in (_parse_row(row, cells, errors) for row in table.rows) if r is not None]


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


async def _load(ctx: Ctx, school_id: int, year: AcademicYear, rows: list[MarkRow]) -> Known:
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
    row: MarkRow, known: Known, school_id: int, year: AcademicYear, errors: Errors
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
    if not year.starts_on <= row.day <= year.ends_on:
        errors.add(row.line, "date", f"дата вне учебного года {year.name}")
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
    rows: list[MarkRow], known: Known, school_id: int, year: AcademicYear, errors: Errors
) -> list[Resolved]:
    """Every row against the school's classes, subjects, work types, pupils and year; the
    rows that fail are added to ``errors``."""
    occurrences: Counter[tuple[int, int, date, int]] = Counter()
    resolved: list[Resolved] = []
    for row in rows:
        ids = _resolve_row(row, known, school_id, year, errors)
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


def snapshot(values: dict[str, Any]) -> Snapshot:
    """The change-log snapshot of a mark, as :func:`diary_core.changes.mark_snapshot`."""
    return {
        "subject_id": values["subject_id"],
        "date": values["date"].isoformat(),
        "value": values["value"],
        "numeric": values["numeric"],
        "work_type_id": values["work_type_id"],
        "weight": values["weight"],
        "counts": values["counts"],
        "comment": values["comment"],
        "lesson_id": values["lesson_id"],
    }


_CORRECT = (
    update(MARKS)
    .where(MARKS.c.id == bindparam("b_id"))
    .values(
        value=bindparam("value"),
        numeric=bindparam("numeric"),
        weight=bindparam("weight"),
        comment=bindparam("comment"),
        lesson_id=bindparam("lesson_id"),
        updated_at=bindparam("updated_at"),
        updated_by_id=bindparam("updated_by_id"),
    )
)


@dataclass
class _Writer:
    ctx: Ctx
    school_id: int
    existing: dict[tuple[int, int, date, int], list[Any]]
    lessons: dict[tuple[int, int, date], int]
    report: MarksReport
    now: datetime
    who: int | None

    def new_values(self, row: Resolved) -> dict[str, Any]:
        return {
            "school_id": self.school_id,
            "pupil_id": row.pupil_id,
            "subject_id": row.subject_id,
            "lesson_id": self.lessons.get((row.class_id, row.subject_id, row.day)),
            "date": row.day,
            "value": row.value,
            "numeric": row.numeric,
            "work_type_id": row.work_type_id,
            "weight": row.weight,
            "counts": True,
            "comment": row.comment,
            "created_at": self.now,
            "created_by_id": self.who,
            "updated_at": self.now,
            "updated_by_id": self.who,
        }

    def change(self, pupil_id: int, mark_id: int, action: str, old: Any, new: Any) -> Any:
        return change_row(
            school_id=self.school_id,
            pupil_id=pupil_id,
            entity="mark",
            entity_id=mark_id,
            action=action,
            old=old,
            new=new,
            actor_id=self.who,
            at=self.now,
            reason="импорт отметок",
        )

    def correction(self, row: Resolved, stored: Any) -> tuple[dict[str, Any], Any] | None:
        """The update and change-log row for a stored mark the file changes, else None."""
        if (stored.value, stored.weight, stored.comment) == (row.value, row.weight, row.comment):
            return None
        old = snapshot(stored._mapping)
        lesson_id = stored.lesson_id or self.lessons.get((row.class_id, row.subject_id, row.day))
        new = {
            **old,
            "value": row.value,
            "numeric": row.numeric,
            "weight": row.weight,
            "comment": row.comment,
            "lesson_id": lesson_id,
        }
        params = {
            "b_id": stored.id,
            "value": row.value,
            "numeric": row.numeric,
            "weight": row.weight,
            "comment": row.comment,
            "lesson_id": lesson_id,
            "updated_at": self.now,
            "updated_by_id": self.who,
        }
        return params, self.change(row.pupil_id, stored.id, "update", old, new)

    async def write(self, rows: Sequence[Resolved]) -> None:
        creates: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        for row in rows:
            stored = self.existing.get(row.key, [])
            if row.occurrence >= len(stored):
                creates.append(self.new_values(row))
                continue
            fix = self.correction(row, stored[row.occurrence])
            if fix is None:
                self.report.marks.unchanged += 1
                continue
            updates.append(fix[0])
            changes.append(fix[1])
        session = self.ctx.session
        if creates:
            result = await session.execute(
                insert(MARKS).returning(MARKS.c.id, sort_by_parameter_order=True), creates
            )
            for values, mark_id in zip(creates, result.scalars().all(), strict=True):
                changes.append(
                    self.change(values["pupil_id"], mark_id, "create", None, snapshot(values))
                )
        if updates:
            await session.execute(_CORRECT, updates)
        if changes:
            await session.execute(insert(CHANGES), changes)
        self.report.marks.created += len(creates)
        self.report.marks.updated += len(updates)


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
    written. New marks and corrections each get a change-log entry; one audit event records
    the import.
    """
    _, year = await import_target(ctx, school_id)
    errors = Errors()
    parsed = read_marks(data, errors)
    known = await _load(ctx, school_id, year, parsed)
    rows = resolve(parsed, known, school_id, year, errors)
    errors.raise_if_any()
    report = MarksReport(rows=len(rows))
    if rows:
        writer = _Writer(
            ctx,
            school_id,
            await _existing(ctx, school_id, rows),
            await _lessons(ctx, school_id, rows),
            report,
            ctx.now(),
            actor_id(ctx),
        )
        done = 0
        for part in chunked(rows):
            await writer.write(part)
            done += len(part)
            if progress is not None:
                progress(done, report.rows)
    await record_import(ctx, "marks", school_id, file_name, year, report.as_dict())
    return report
