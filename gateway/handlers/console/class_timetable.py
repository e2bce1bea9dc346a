"""The class's week and its per-date changes (docs/regulation.md, clause 4.1): the class teacher
sees the week as it will be and changes one lesson of a date — a substitution, a cancellation, a
room change or a moved lesson — which notifies the class's families.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from diary_core import school, timetable
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput
from diary_core.policy import Action, ClassTarget, allowed
from gateway import auth
from gateway.handlers.console import form_text, page, parse_day, parse_id, staff_actor
from gateway.handlers.console.class_teacher import class_id_of, posted_form

CHANGE_TITLES = {
    "substitution": "Замена учителя",
    "cancellation": "Отмена урока",
    "room_change": "Смена кабинета",
    "moved": "Перенос урока",
}
WEEKDAYS = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота")


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def _timetable_context(ctx: Ctx, class_id: int, week: date | None) -> dict[str, Any]:
    cls = await school.get_class(ctx, class_id)
    today = ctx.today()
    monday = _monday(week or today)
    target = ClassTarget(cls.school_id, cls.id)
    may_change = allowed(ctx.actor, Action.CHANGE_TIMETABLE, target)
    return {
        "cls": cls,
        "week": await timetable.week_timetable(ctx, class_id, monday),
        "prev_week": monday - timedelta(days=7),
        "next_week": monday + timedelta(days=7),
        "options": await timetable.timetable_change_options(ctx, class_id) if may_change else None,
        "tomorrow": today + timedelta(days=1),
        "change_titles": CHANGE_TITLES,
        "weekdays": WEEKDAYS,
        "tab": "timetable",
    }


async def _render_timetable(
    request: web.Request,
    week: date | None,
    form: Mapping[str, str],
    error: str = "",
    status: int = 200,
) -> web.Response:
    class_id = class_id_of(request)
    context = await auth.run(
        request, lambda ctx: _timetable_context(ctx, class_id, week), commit=False
    )
    context.update(form=form, error=error, notified=request.query.get("notified", ""))
    return page("console/class_timetable.html", request, context, status=status)


async def timetable_page(request: web.Request) -> web.Response:
    await staff_actor(request)
    raw = request.query.get("week")
    week = parse_day(raw, "неделя") if raw else None
    return await _render_timetable(request, week, {})


def _optional_id(form: Mapping[str, str], name: str, label: str) -> int | None:
    raw = form_text(form, name).strip()
    return parse_id(raw, label) if raw else None


def change_request(form: Mapping[str, str]) -> timetable.ChangeRequest:
    """The change as the form describes it; fields of other kinds are ignored."""
    kind = form_text(form, "kind")
    moved_day = form_text(form, "moved_to_date").strip()
    moved_lesson = form_text(form, "moved_to_lesson").strip()
    return timetable.ChangeRequest(
        kind=kind,
        teacher_id=_optional_id(form, "teacher_id", "заменяющий учитель")
        if kind == "substitution"
        else None,
        subject_id=_optional_id(form, "subject_id", "предмет") if kind == "substitution" else None,
        room=form_text(form, "room") if kind == "room_change" else None,
        moved_to_date=parse_day(moved_day, "перенести на дату")
        if kind == "moved" and moved_day
        else None,
        moved_to_lesson=parse_id(moved_lesson, "номер урока переноса")
        if kind == "moved" and moved_lesson
        else None,
        note=form_text(form, "note"),
    )


async def timetable_submit(request: web.Request) -> web.Response:
    """One lesson of one date changes; the class's families are notified (docs/regulation.md,
    clause 4.1)."""
    await staff_actor(request)
    class_id = class_id_of(request)
    form = await posted_form(request)
    day: date | None = None
    try:
        day = parse_day(form_text(form, "date"), "дата")
        number = parse_id(form_text(form, "lesson_number"), "номер урока")
        req = change_request(form)

        async def change(ctx: Ctx) -> timetable.ChangeInfo:
            return await timetable.change_timetable(
                ctx, class_id, day, number, req, announce=form.get("announce") == "1"
            )

        info = await auth.run(request, change)
    except (InvalidInput, Conflict) as exc:
        status = 409 if isinstance(exc, Conflict) else 400
        return await _render_timetable(request, day, form, str(exc), status=status)
    raise web.HTTPSeeOther(
        f"/console/class/{class_id}/timetable?week={_monday(day).isoformat()}"
        f"&notified={info.notified}"
    )
