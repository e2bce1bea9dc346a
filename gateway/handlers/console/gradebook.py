"""The subject teacher's journal: the grid of pupils × lessons, typed in from the keyboard and
saved all at once; lesson topics and homework; a mark's history (docs/regulation.md, clauses 1.4
and 2.1).

The grid is one form. Each cell holds what the teacher sees on paper: the marks (``5 4``,
``зач``) and at most one attendance code (``н``, ``б``, ``оп``); a work-type select per lesson
column types the new marks; the last column holds the period mark. One submit writes every
changed cell in one transaction through the core's use cases: any bad cell and nothing is
written, the grid comes back as typed with each error named by row and column. "Changed" means
changed in this page: a cell someone else changed since the page was made is a conflict (409,
nothing written, both values shown), never silently overwritten (the saving is
:mod:`gateway.handlers.console.gradebook_saving`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from aiohttp import web

from diary_core import gradebook, lessons
from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from diary_core.periods import SchoolPeriod, period_of_day
from gateway import auth
from gateway.handlers.console import form_text, page, parse_day, parse_id, staff_actor
from gateway.handlers.console.gradebook_saving import (
    GridErrors,
    first_touched,
    kept_typing,
    save_grid,
)
from gateway.handlers.console.gradebook_table import (
    cell_anchor,
    grid_table,
    is_input_name,
)

# --- the page -------------------------------------------------------------------------------


def _grid_url(class_id: int, subject_id: int, period_id: int | None, **extra: object) -> str:
    url = f"/console/gradebook?class={class_id}&subject={subject_id}"
    if period_id is not None:
        url += f"&period={period_id}"
    return url + "".join(f"&{k}={v}" for k, v in extra.items() if v != "")


async def _grid_view(
    ctx: Ctx, class_id: int, subject_id: int, period_id: int | None
) -> tuple[gradebook.GradebookView, date]:
    """The journal, and the date the new-lesson form proposes."""
    view = await gradebook.gradebook_view(ctx, class_id, subject_id, period_id)
    return view, _lesson_day(ctx.today(), view.periods, view.grid.period_id)


def _lesson_day(today: date, periods: list[SchoolPeriod], period_id: int) -> date:
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
    lesson = await gradebook.lesson_for_edit(ctx, lesson_id)
    period_id = await period_of_day(ctx, lesson.school_id, lesson.date)
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
        lesson: gradebook.LessonView = context["lesson"]
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
        history = await gradebook.mark_history_view(ctx, mark_id)
        period_id = await period_of_day(ctx, history.school_id, history.date)
        return {
            "history": history,
            "back": _grid_url(history.class_id, history.subject_id, period_id),
        }

    return page("console/mark.html", request, await auth.run(request, load))
