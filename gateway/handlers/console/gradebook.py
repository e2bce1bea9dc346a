"""The subject teacher's journal: the grid of pupils × lessons, typed in from the keyboard and
saved all at once; lesson topics and homework; a mark's history
(docs/regulation.md, clauses 1.4 and 2.1).

The grid is one form. Each cell holds what the teacher sees on paper: the marks (``5 4``,
``зач``) and at most one attendance code (``н``, ``б``, ``оп``); a work-type select per lesson
column types the new marks; the last column holds the period mark. One submit writes every
changed cell in one transaction through the core's use cases: any bad cell and nothing is
written, the grid comes back as typed with each error named by row and column. "Changed" means
changed in this page: a cell someone else changed since the page was made is a conflict (409,
nothing written, both values shown), never silently overwritten (see "saving" below).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from aiohttp import web

from diary_core import (
    attendance,
    journal,
    journal_writes,
    lessons,
    marks,
    period_marks,
    staff_views,
)
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput
from diary_core.grading import ATTENDANCE_KINDS, parse_mark
from diary_core.journal import Grid, GridLesson, GridRow
from gateway import auth
from gateway.handlers.console import form_text, page, parse_day, parse_id, staff_actor
from gateway.handlers.console.gradebook_table import (
    cell_anchor,
    cell_name,
    cell_text,
    column_labels,
    grid_table,
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
    grid: Grid, form: Mapping[str, str], work_types: list[staff_views.WorkTypeInfo]
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
    view = await staff_views.gradebook_view(ctx, class_id, subject_id, period_id)  # as locked
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


# --- the page -------------------------------------------------------------------------------


def _grid_url(class_id: int, subject_id: int, period_id: int | None, **extra: object) -> str:
    url = f"/console/gradebook?class={class_id}&subject={subject_id}"
    if period_id is not None:
        url += f"&period={period_id}"
    return url + "".join(f"&{k}={v}" for k, v in extra.items() if v != "")


async def _grid_view(
    ctx: Ctx, class_id: int, subject_id: int, period_id: int | None
) -> tuple[staff_views.GradebookView, date]:
    """The journal, and the date the new-lesson form proposes."""
    view = await staff_views.gradebook_view(ctx, class_id, subject_id, period_id)
    return view, _lesson_day(ctx.now().date(), view.periods, view.grid.period_id)


def _lesson_day(today: date, periods: list[staff_views.PeriodInfo], period_id: int) -> date:
    """The date the new-lesson form proposes: today if inside the period, else its last day
    (or first, for a period still ahead)."""
    period = next((p for p in periods if p.id == period_id), None)
    if period is None:
        return today
    return min(max(today, period.starts_on), period.ends_on)


async def _render_grid(
    request: web.Request,
    ids: tuple[int, int, int | None],
    *,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    conflicts: Mapping[str, str] | None = None,
    lesson_form: Mapping[str, str] | None = None,
    lesson_error: str = "",
    status: int = 200,
) -> web.Response:
    view, lesson_day = await auth.run(request, lambda ctx: _grid_view(ctx, *ids))
    errors, conflicts = errors or {}, conflicts or {}
    context = {
        "rights": view.rights,
        "grid": view.grid,
        "periods": view.periods,
        "table": grid_table(
            view.grid,
            view.rights,
            view.work_types,
            typed=typed or {},
            errors=errors,
            conflicts=conflicts,
            focus=_asked_focus(request),
        ),
        "errors": errors,
        "conflicts": conflicts,
        "lesson_day": lesson_day,
        "lesson_form": lesson_form or {},
        "lesson_error": lesson_error,
        "saved": request.query.get("saved", ""),
        "lesson_saved": request.query.get("lesson_saved", "").isdigit(),
    }
    return page("console/gradebook.html", request, context, status=status)


def _asked_focus(request: web.Request) -> str:
    """The input a redirect after a save points at (``at=c_1_2``), if it names one."""
    at = request.query.get("at", "") if request.method == "GET" else ""
    return at if is_input_name(at) else ""


async def grid_page(request: web.Request) -> web.Response:
    await staff_actor(request)
    q = request.query
    period = parse_id(q["period"], "период") if q.get("period") else None
    return await _render_grid(
        request, (parse_id(q.get("class"), "класс"), parse_id(q.get("subject"), "предмет"), period)
    )


async def _form(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}


async def grid_submit(request: web.Request) -> web.Response:
    await staff_actor(request)
    form = await _form(request)
    ids = (
        parse_id(form.get("class"), "класс"),
        parse_id(form.get("subject"), "предмет"),
        parse_id(form.get("period"), "период"),
    )
    try:
        saved = await auth.run(request, lambda ctx: save_grid(ctx, *ids, form))
    except GridErrors as exc:
        return await _render_grid(
            request,
            ids,
            typed=kept_typing(form),
            errors=exc.errors,
            conflicts=exc.conflicts,
            status=409 if exc.conflicts else 400,
        )
    at = first_touched(form)
    # Back to the first cell saved: its input carries the anchor (and autofocus).
    url = _grid_url(*ids, saved=saved, at=at)
    raise web.HTTPSeeOther(url + (f"#{cell_anchor(at)}" if at else ""))


async def lesson_create(request: web.Request) -> web.Response:
    """A lesson given on a date (its topic and homework), from the form under the grid."""
    await staff_actor(request)
    form = await _form(request)
    class_id = parse_id(form.get("class"), "класс")
    subject_id = parse_id(form.get("subject"), "предмет")
    period_id = parse_id(form.get("period"), "период")

    async def create(ctx: Ctx) -> int:
        lesson = await lessons.record_lesson(
            ctx,
            class_id=class_id,
            subject_id=subject_id,
            day=parse_day(form.get("date"), "дата урока"),
            lesson_number=_lesson_number(form),
            topic=form_text(form, "topic"),
            homework=form_text(form, "homework"),
        )
        return lesson.id

    try:
        created = await auth.run(request, create)
    except InvalidInput as exc:
        return await _render_grid(
            request,
            (class_id, subject_id, period_id),
            lesson_form=form,
            lesson_error=str(exc),
            status=400,
        )
    raise web.HTTPSeeOther(_saved_lesson_url(_grid_url(class_id, subject_id, period_id), created))


def _saved_lesson_url(grid_url: str, lesson_id: int) -> str:
    """Back to the journal, which confirms «Тема урока сохранена», at the lesson's column."""
    return f"{grid_url}&lesson_saved={lesson_id}#l{lesson_id}"


def _lesson_number(form: Mapping[str, str]) -> int:
    raw = form_text(form, "lesson_number").strip()
    if not raw.isdigit():
        raise InvalidInput("номер урока: укажите число от 1 до 12", field="lesson_number")
    return int(raw)


# --- a lesson's topic and homework ------------------------------------------------------------


async def _lesson_context(ctx: Ctx, lesson_id: int) -> dict[str, Any]:
    lesson = await staff_views.lesson_for_edit(ctx, lesson_id)
    period_id = await staff_views.period_of_day(ctx, lesson.school_id, lesson.date)
    return {
        "lesson": lesson,
        "back": _grid_url(lesson.class_id, lesson.subject_id, period_id),
    }


async def lesson_page(request: web.Request) -> web.Response:
    await staff_actor(request)
    lesson_id = int(request.match_info["lesson_id"])
    context = await auth.run(request, lambda ctx: _lesson_context(ctx, lesson_id), commit=False)
    lesson = context["lesson"]
    form = {"topic": lesson.topic, "homework": lesson.homework}
    return page("console/lesson.html", request, {**context, "form": form, "error": ""})


async def lesson_submit(request: web.Request) -> web.Response:
    await staff_actor(request)
    lesson_id = int(request.match_info["lesson_id"])
    form = await _form(request)

    async def save(ctx: Ctx) -> str:
        context = await _lesson_context(ctx, lesson_id)
        lesson: staff_views.LessonView = context["lesson"]
        await lessons.record_lesson(
            ctx,
            class_id=lesson.class_id,
            subject_id=lesson.subject_id,
            day=lesson.date,
            lesson_number=lesson.lesson_number,
            topic=form_text(form, "topic"),
            homework=form_text(form, "homework"),
        )
        return str(context["back"])

    try:
        back = await auth.run(request, save)
    except InvalidInput as exc:
        context = await auth.run(request, lambda ctx: _lesson_context(ctx, lesson_id), commit=False)
        return page(
            "console/lesson.html",
            request,
            {**context, "form": form, "error": str(exc)},
            status=400,
        )
    raise web.HTTPSeeOther(_saved_lesson_url(back, lesson_id))


# --- a mark's history ------------------------------------------------------------------------


async def mark_page(request: web.Request) -> web.Response:
    await staff_actor(request)
    mark_id = int(request.match_info["mark_id"])

    async def load(ctx: Ctx) -> dict[str, Any]:
        history = await staff_views.mark_history_view(ctx, mark_id)
        period_id = await staff_views.period_of_day(ctx, history.school_id, history.date)
        return {
            "history": history,
            "back": _grid_url(history.class_id, history.subject_id, period_id),
        }

    return page("console/mark.html", request, await auth.run(request, load))
