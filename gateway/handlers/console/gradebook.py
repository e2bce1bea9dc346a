"""The subject teacher's journal: the grid of pupils × lessons, typed in from the keyboard and
saved all at once; lesson topics and homework; a mark's history (regulation 1.4, 2.1).

The grid is one form. Each cell holds what the teacher sees on paper: the marks (``5 4``,
``зач``) and at most one attendance code (``н``, ``б``, ``оп``); a work-type select per lesson
column types the new marks; the last column holds the period mark. One submit writes every
changed cell in one transaction through the core's use cases: any bad cell and nothing is
written, the grid comes back as typed with each error named by row and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from aiohttp import web

from diary_core import lessons, marks, staff_views
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput
from diary_core.grading import ATTENDANCE_KINDS, parse_mark
from diary_core.journal import Grid, GridLesson, GridRow
from gateway import auth
from gateway.handlers.console import form_text, page, parse_day, parse_id, staff_actor
from gateway.handlers.console.gradebook_table import cell_name, column_labels, grid_table

CORRECTION_REASON = "исправление в журнале"


class GridErrors(InvalidInput):
    """Cells that could not be saved: input name → the error, named for people."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


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


@dataclass(frozen=True)
class _Entry:
    """One changed cell, parsed."""

    name: str
    row: GridRow
    lesson: GridLesson
    cell: Cell
    work_type_id: int


def _work_type(form: Mapping[str, str], lesson_id: int, known: set[int]) -> int | None:
    raw = form.get(f"wt_{lesson_id}", "")
    return int(raw) if raw.isdigit() and int(raw) in known else None


def _plan(
    grid: Grid, form: Mapping[str, str], work_types: list[staff_views.WorkTypeInfo]
) -> tuple[list[_Entry], dict[str, str]]:
    """The changed cells, parsed; and the errors of the cells that do not parse. Cells absent
    from the form (read-only for this actor) are left as they are."""
    labels = column_labels(grid.lessons)
    known = {w.id for w in work_types}
    entries: list[_Entry] = []
    errors: dict[str, str] = {}
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
            old = row.cells.get(lesson.id, [])
            if cell == Cell(tuple(m.value for m in old), row.attendance.get(lesson.id)):
                continue
            work_type = _work_type(form, lesson.id, known)
            if work_type is None and len(cell.marks) > len(old):
                errors[name] = f"{where}: не выбран вид работы"
                continue
            entries.append(_Entry(name, row, lesson, cell, work_type or 0))
    return entries, errors


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
        await marks.set_attendance(
            ctx, pupil_id=e.row.pupil_id, lesson_id=e.lesson.id, kind=e.cell.attendance
        )


async def _save_period_marks(
    ctx: Ctx, grid: Grid, form: Mapping[str, str], errors: dict[str, str]
) -> int:
    saved = 0
    for row in grid.rows:
        name = f"pm_{row.pupil_id}"
        if name not in form:
            continue
        typed = form[name].strip()
        where = f"строка {row.full_name}, итоговая отметка"
        try:
            if not typed:
                if row.period_mark:
                    raise InvalidInput("итоговую отметку нельзя стереть, её можно только исправить")
                continue
            if parse_mark(typed).text == row.period_mark:
                continue
            await marks.set_period_mark(
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


async def save_grid(
    ctx: Ctx, class_id: int, subject_id: int, period_id: int, form: Mapping[str, str]
) -> int:
    """Write every changed cell of the grid in the caller's one transaction; return how many
    cells changed. Any error raises :class:`GridErrors` and the caller writes nothing."""
    view = await staff_views.gradebook_view(ctx, class_id, subject_id, period_id)
    grid = view.grid
    entries, errors = _plan(grid, form, view.work_types)
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


# --- the page -------------------------------------------------------------------------------


def _grid_url(class_id: int, subject_id: int, period_id: int | None, **extra: object) -> str:
    url = f"/console/gradebook?class={class_id}&subject={subject_id}"
    if period_id is not None:
        url += f"&period={period_id}"
    return url + "".join(f"&{k}={v}" for k, v in extra.items())


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
    lesson_form: Mapping[str, str] | None = None,
    lesson_error: str = "",
    status: int = 200,
) -> web.Response:
    view, lesson_day = await auth.run(request, lambda ctx: _grid_view(ctx, *ids))
    errors = errors or {}
    context = {
        "rights": view.rights,
        "grid": view.grid,
        "periods": view.periods,
        "table": grid_table(
            view.grid, view.rights, view.work_types, typed=typed or {}, errors=errors
        ),
        "errors": errors,
        "lesson_day": lesson_day,
        "lesson_form": lesson_form or {},
        "lesson_error": lesson_error,
        "saved": request.query.get("saved", ""),
    }
    return page("console/gradebook.html", request, context, status=status)


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
        return await _render_grid(request, ids, typed=form, errors=exc.errors, status=400)
    raise web.HTTPSeeOther(_grid_url(*ids, saved=saved))


async def lesson_create(request: web.Request) -> web.Response:
    """A lesson given on a date (its topic and homework), from the form under the grid."""
    await staff_actor(request)
    form = await _form(request)
    class_id = parse_id(form.get("class"), "класс")
    subject_id = parse_id(form.get("subject"), "предмет")
    period_id = parse_id(form.get("period"), "период")

    async def create(ctx: Ctx) -> None:
        await lessons.record_lesson(
            ctx,
            class_id=class_id,
            subject_id=subject_id,
            day=parse_day(form.get("date"), "дата урока"),
            lesson_number=_lesson_number(form),
            topic=form_text(form, "topic"),
            homework=form_text(form, "homework"),
        )

    try:
        await auth.run(request, create)
    except InvalidInput as exc:
        return await _render_grid(
            request,
            (class_id, subject_id, period_id),
            lesson_form=form,
            lesson_error=str(exc),
            status=400,
        )
    raise web.HTTPSeeOther(_grid_url(class_id, subject_id, period_id))


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
    raise web.HTTPSeeOther(back)


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
