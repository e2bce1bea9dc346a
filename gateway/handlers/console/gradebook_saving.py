"""Saving the journal grid: each cell parsed (the marks, ``5 4``, ``зач``, and at most one
attendance code, ``н``, ``б``, ``оп``), every changed cell written in one transaction through
the core's use cases, any bad cell named by row and column with nothing written, and a cell
someone else changed since the page was made a conflict (409), never silently overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from diary_core import attendance, gradebook, journal, journal_writes, marks, period_marks
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput
from diary_core.grading import ATTENDANCE_KINDS, parse_mark
from diary_core.journal import Grid, GridLesson, GridRow
from gateway.handlers.console.gradebook_table import (
    cell_name,
    cell_text,
    column_labels,
    is_input_name,
    period_mark_name,
    shown_name,
)

CORRECTION_REASON = "исправление в журнале"


# --- cells ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    marks: tuple[str, ...]
    attendance: str | None


def parse_cell(raw: str) -> Cell:
    """``"5 4 н"`` → marks ``("5", "4")`` and attendance ``"н"``; a bad token is
    :class:`InvalidInput` naming it."""
    found: list[str] = []
    kinds: list[str] = []
    for token in raw.replace(",", " ").replace(";", " ").split():
        if token.lower() in ATTENDANCE_KINDS:
            kinds.append(token.lower())
        else:
            found.append(parse_mark(token).text)
    if len(kinds) > 1:
        raise InvalidInput(f"две отметки посещаемости «{' '.join(kinds)}» в одной клетке")
    return Cell(tuple(found), kinds[0] if kinds else None)


# --- saving ---------------------------------------------------------------------------------
#
# Two tabs (or two teachers) may have the grid open at once. Each input goes back with what
# the page showed in it (``shown_name``): a cell whose typed value is what it showed was not
# touched and is never written, whatever is stored now; a touched cell whose stored value is
# no longer what the page showed is a conflict, and nothing is written. The check and the
# writes run in one transaction after the changed rows' pupils are locked
# (:func:`journal_writes.lock_pupils`), so of two saves of one cell the second sees the
# first's marks.


@dataclass(frozen=True)
class _Entry:
    """One changed cell, parsed."""

    name: str
    row: GridRow
    lesson: GridLesson
    cell: Cell
    work_type_id: int


@dataclass(frozen=True)
class _Clash:
    """A touched input whose stored value changed since the page was made."""

    name: str
    pupil_id: int
    lesson_id: int | None  # None: the period mark
    where: str
    stored: str
    typed: str


def _work_type(form: Mapping[str, str], lesson_id: int, known: set[int]) -> int | None:
    raw = form.get(f"wt_{lesson_id}", "")
    return int(raw) if raw.isdigit() and int(raw) in known else None


def _shown_cell(form: Mapping[str, str], name: str) -> Cell | None:
    """What the page showed in a cell (its hidden field; absent: empty); ``None`` for a value
    the page cannot have shown."""
    try:
        return parse_cell(form.get(shown_name(name), ""))
    except InvalidInput:
        return None


def touched(form: Mapping[str, str], name: str) -> bool:
    """Whether the input ``name`` holds something else than the page showed in it (as text,
    spaces aside: cheap, before anything is read; the save compares parsed values)."""
    return form[name].split() != form.get(shown_name(name), "").split()


def _plan(
    grid: Grid, form: Mapping[str, str], work_types: list[gradebook.WorkTypeInfo]
) -> tuple[list[_Entry], dict[str, str], list[_Clash]]:
    """The changed cells, parsed; the errors of the cells that do not parse; the cells changed
    here and, since the page was made, elsewhere. Cells absent from the form (read-only for
    this actor) and cells as the page showed them are left as they are."""
    labels = column_labels(grid.lessons)
    known = {w.id for w in work_types}
    entries: list[_Entry] = []
    errors: dict[str, str] = {}
    clashes: list[_Clash] = []
    for row in grid.rows:
        for lesson in grid.lessons:
            name = cell_name(row.pupil_id, lesson.id)
            if name not in form:
                continue
            where = f"строка {row.full_name}, {labels[lesson.id]}"
            try:
                cell = parse_cell(form[name])
            except InvalidInput as exc:
                errors[name] = f"{where}: {exc}"
                continue
            shown = _shown_cell(form, name)
            if cell == shown:
                continue  # not touched in this form: whatever is stored stays
            old = row.cells.get(lesson.id, [])
            attendance = row.attendance.get(lesson.id)
            if shown != Cell(tuple(m.value for m in old), attendance):
                stored = cell_text(old, attendance)
                clashes.append(
                    _Clash(name, row.pupil_id, lesson.id, where, stored, form[name].strip())
                )
                continue
            work_type = _work_type(form, lesson.id, known)
            if work_type is None and len(cell.marks) > len(old):
                errors[name] = f"{where}: не выбран вид работы"
                continue
            entries.append(_Entry(name, row, lesson, cell, work_type or 0))
    return entries, errors, clashes


async def _save_cell(ctx: Ctx, grid: Grid, e: _Entry) -> None:
    """Write one cell: marks by position (changed → corrected, extra → new, missing →
    deleted, history kept either way), then the attendance."""
    old = e.row.cells.get(e.lesson.id, [])
    for i in range(max(len(old), len(e.cell.marks))):
        if i >= len(old):
            await marks.record_mark(
                ctx,
                pupil_id=e.row.pupil_id,
                subject_id=grid.subject_id,
                day=e.lesson.date,
                value=e.cell.marks[i],
                work_type_id=e.work_type_id,
                lesson_id=e.lesson.id,
            )
        elif i >= len(e.cell.marks):
            await marks.delete_mark(ctx, old[i].id, reason=CORRECTION_REASON)
        elif old[i].value != e.cell.marks[i]:
            await marks.correct_mark(
                ctx, old[i].id, value=e.cell.marks[i], reason=CORRECTION_REASON
            )
    if e.row.attendance.get(e.lesson.id) != e.cell.attendance:
        await attendance.set_attendance(
            ctx, pupil_id=e.row.pupil_id, lesson_id=e.lesson.id, kind=e.cell.attendance
        )


def _mark_text(raw: str) -> str | None:
    """A period mark's text as stored (``""``: none); ``None`` if it is no mark."""
    raw = raw.strip()
    try:
        return parse_mark(raw).text if raw else ""
    except InvalidInput:
        return None


def _period_clashes(grid: Grid, form: Mapping[str, str]) -> list[_Clash]:
    """Period marks typed here whose stored value changed since the page was made (a
    signed-off mark is refused by the core, as before)."""
    clashes: list[_Clash] = []
    for row in grid.rows:
        name = period_mark_name(row.pupil_id)
        if name not in form or row.period_mark_locked:
            continue
        shown = _mark_text(form.get(shown_name(name), ""))
        if _mark_text(form[name]) == shown or shown == (row.period_mark or ""):
            continue
        where = f"строка {row.full_name}, итоговая отметка"
        clashes.append(
            _Clash(name, row.pupil_id, None, where, row.period_mark or "", form[name].strip())
        )
    return clashes


async def _save_period_marks(
    ctx: Ctx, grid: Grid, form: Mapping[str, str], errors: dict[str, str]
) -> int:
    saved = 0
    for row in grid.rows:
        name = period_mark_name(row.pupil_id)
        if name not in form:
            continue
        typed = form[name].strip()
        where = f"строка {row.full_name}, итоговая отметка"
        try:
            if _mark_text(typed) == _mark_text(form.get(shown_name(name), "")):
                continue  # not touched in this form
            if not typed:
                if row.period_mark:
                    raise InvalidInput("итоговую отметку нельзя стереть, её можно только исправить")
                continue
            if parse_mark(typed).text == row.period_mark:
                continue
            await period_marks.set_period_mark(
                ctx,
                pupil_id=row.pupil_id,
                subject_id=grid.subject_id,
                period_id=grid.period_id,
                value=typed,
            )
            saved += 1
        except (InvalidInput, Conflict) as exc:
            errors[name] = f"{where}: {exc}"
    return saved


class GridErrors(InvalidInput):
    """Nothing was saved: input name → the error of each cell that could not be saved, named
    for people; ``conflicts``: input name → the message of each cell someone else changed
    since the page was made."""

    def __init__(self, errors: dict[str, str], conflicts: dict[str, str] | None = None) -> None:
        self.errors = errors
        self.conflicts = conflicts or {}
        super().__init__("; ".join([*self.conflicts.values(), *errors.values()]))


async def _conflict_messages(ctx: Ctx, grid: Grid, clashes: list[_Clash]) -> dict[str, str]:
    editors = await journal.last_editors(ctx, grid, {(c.pupil_id, c.lesson_id) for c in clashes})
    messages: dict[str, str] = {}
    for c in clashes:
        who = editors.get((c.pupil_id, c.lesson_id))
        if who is None:
            changed = "отметку изменили"
        elif who.user_id is not None and who.user_id == ctx.actor.user_id:
            changed = f"отметку изменил(а) {who.name} (это вы — в другой вкладке или окне)"
        else:
            changed = f"отметку изменил(а) {who.name}"
        messages[c.name] = (
            f"{c.where}: пока вы редактировали, {changed}: сейчас «{c.stored or 'пусто'}», "
            f"вы ввели «{c.typed or 'пусто'}»"
        )
    return messages


def _touched_pupils(form: Mapping[str, str]) -> set[int]:
    """The pupils of the rows whose inputs differ from what the page showed, from the form
    alone (``c_{pupil}_{lesson}``, ``pm_{pupil}``)."""
    found: set[int] = set()
    for name in form:
        kind, _, rest = name.partition("_")
        if kind not in ("c", "pm"):
            continue
        pupil = rest.partition("_")[0]
        if pupil.isdigit() and touched(form, name):
            found.add(int(pupil))
    return found


async def save_grid(
    ctx: Ctx, class_id: int, subject_id: int, period_id: int, form: Mapping[str, str]
) -> int:
    """Write every cell changed in this form in the caller's one transaction; return how many
    cells changed. Any error or conflict raises :class:`GridErrors` and the caller writes
    nothing."""
    await journal.grid_place(ctx, class_id, subject_id)  # may this actor open it at all
    await journal_writes.lock_pupils(ctx, _touched_pupils(form), class_id=class_id)
    view = await gradebook.gradebook_view(ctx, class_id, subject_id, period_id)  # as locked
    grid = view.grid
    entries, errors, clashes = _plan(grid, form, view.work_types)
    clashes += _period_clashes(grid, form)
    if clashes:
        raise GridErrors(errors, await _conflict_messages(ctx, grid, clashes))
    if errors:
        raise GridErrors(errors)
    labels = column_labels(grid.lessons)
    for entry in entries:
        try:
            await _save_cell(ctx, grid, entry)
        except (InvalidInput, Conflict) as exc:
            where = f"строка {entry.row.full_name}, {labels[entry.lesson.id]}"
            errors[entry.name] = f"{where}: {exc}"
    saved = len(entries) + await _save_period_marks(ctx, grid, form, errors)
    if errors:
        raise GridErrors(errors)
    return saved


def first_touched(form: Mapping[str, str]) -> str:
    """The first input, in the page's order (a form keeps it), that holds something else than
    the page showed: where the page opens after the save; ``""`` if none."""
    return next(
        (n for n in form if n.startswith(("c_", "pm_")) and is_input_name(n) and touched(form, n)),
        "",
    )


def kept_typing(form: Mapping[str, str]) -> dict[str, str]:
    """The form as it comes back after a refused save: inputs this teacher changed keep what
    he typed, the others show what is stored now (so a resubmit cannot write back what
    another tab changed meanwhile)."""
    return {
        name: value
        for name, value in form.items()
        if not (name.startswith(("c_", "pm_")) and not touched(form, name))
        and not name.startswith(("sc_", "spm_"))
    }
