"""The weekly timetable editor and its publishing (docs/regulation.md, clause 6.2: publishing the
timetable is a logged act; the page shows who published each version and when)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from diary_core import admin_views, timetable
from diary_core.errors import InvalidInput
from diary_core.timetable import SlotInput
from gateway import auth
from gateway.handlers.admin.common import admin_actor, optional_date, optional_int, page, path_id
from gateway.handlers.admin.confirm import confirmed
from gateway.handlers.admin.timetable_confirm import confirm_publish

WEEKDAYS = ("Понедельник", "Вторник", "Среда", "Четверг", "Пятница", "Суббота")
SHORT_DAYS = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб")
CELL = re.compile(r"^s([1-6])_(\d{1,2})_(subject|teacher|room)$")
NOTICES = {
    "saved": "Расписание сохранено как черновик. Родители и ученики увидят его после "
    "публикации, а до тех пор видят опубликованное расписание.",
    "published": "Расписание опубликовано: его видят ученики и родители класса.",
}


def _cells_of(slots: dict[tuple[int, int], SlotInput]) -> dict[str, str]:
    cells: dict[str, str] = {}
    for (day, n), s in slots.items():
        cells[f"s{day}_{n}_subject"] = str(s.subject_id)
        cells[f"s{day}_{n}_teacher"] = str(s.teacher_id)
        cells[f"s{day}_{n}_room"] = s.room
    return cells


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


async def _render(
    request: web.Request,
    class_id: int,
    tt_id: int | None,
    *,
    new: bool = False,
    typed: dict[str, str] | None = None,
    error: str = "",
) -> web.Response:
    editor = await auth.run(
        request, lambda ctx: admin_views.timetable_editor(ctx, class_id, tt_id), commit=False
    )
    editing = None if new else editor.selected
    today = auth.school_today(request)
    if editing is None:
        valid_from = _next_monday(today)
    elif editing.published_at is not None:
        valid_from = max(editing.valid_from, today)  # a correction starts today at the earliest
    else:
        valid_from = editing.valid_from
    cells = typed if typed is not None else _cells_of(editor.slots)
    numbers = sorted(
        set(editor.lesson_numbers) | {int(m[2]) for k in cells if (m := CELL.match(k))}
    )
    return page(
        "timetable.html",
        request,
        {
            "e": editor,
            "editing": editing,
            "cells": cells,
            "numbers": numbers,
            "valid_from": (typed or {}).get("valid_from") or valid_from.strftime("%d.%m.%Y"),
            "weekdays": WEEKDAYS,
            "short_days": SHORT_DAYS,
            "notice": NOTICES.get(request.query.get("ok", ""), ""),
            "error": error,
        },
        status=400 if error else 200,
    )


async def timetable_page(request: web.Request) -> web.Response:
    _, school_id = await admin_actor(request)
    class_id = optional_int(request.query.get("class"), "класс")
    if class_id is None:
        structure = await auth.run(
            request, lambda ctx: admin_views.school_structure(ctx, school_id), commit=False
        )
        if not structure.classes:
            return page("timetable_empty.html", request, {})
        class_id = structure.classes[0].id
    tt_id = optional_int(request.query.get("tt"), "расписание")
    return await _render(request, class_id, tt_id, new=request.query.get("new") == "1")


def _slot(day: int, n: int, cells: dict[str, str]) -> SlotInput | None:
    """One cell of the form: empty is no lesson; a half-filled cell is a clear error."""
    subject, teacher = cells.get(f"s{day}_{n}_subject", ""), cells.get(f"s{day}_{n}_teacher", "")
    room = cells.get(f"s{day}_{n}_room", "")
    if not (subject or teacher or room):
        return None
    where = f"{SHORT_DAYS[day - 1]}, {n}-й урок"
    if not subject:
        raise InvalidInput(f"{where}: выберите предмет")
    if not teacher:
        raise InvalidInput(f"{where}: выберите учителя")
    return SlotInput(
        day, n, optional_int(subject, "предмет") or 0, optional_int(teacher, "учитель") or 0, room
    )


def parse_slots(cells: dict[str, str]) -> list[SlotInput]:
    keys = sorted({(int(m[1]), int(m[2])) for k in cells if (m := CELL.match(k))})
    return [s for day, n in keys if (s := _slot(day, n, cells)) is not None]


async def _check_correction(
    request: web.Request, class_id: int, tt_id: int, valid_from: date
) -> None:
    """A correction of a published version starts today or later: the past stays as
    families saw it."""
    versions = await auth.run(
        request, lambda ctx: timetable.class_timetables(ctx, class_id), commit=False
    )
    edited = next((v for v in versions if v.id == tt_id), None)
    today = auth.school_today(request)
    if edited is not None and edited.published_at is not None and valid_from < today:
        raise InvalidInput(
            f"исправление опубликованного расписания действует с сегодняшнего дня "
            f"({today:%d.%m.%Y}) или позже: укажите дату не раньше"
        )


async def save_timetable(request: web.Request) -> web.Response:
    """Save the whole week as one form, always as a draft: the draft of that date, or a new
    one — a correction of a published version is a draft from its own date, and families
    keep seeing the published version until the correction is published."""
    await admin_actor(request)
    class_id = path_id(request, "class_id")
    form = await request.post()
    typed = {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    tt_id = optional_int(typed.get("tt"), "расписание")
    try:
        valid_from = optional_date(typed.get("valid_from"), "действует с")
        if valid_from is None:
            raise InvalidInput("укажите, с какой даты действует расписание")
        if tt_id is not None:
            await _check_correction(request, class_id, tt_id, valid_from)
        slots = parse_slots(typed)
        info: Any = await auth.run(
            request, lambda ctx: timetable.set_weekly_timetable(ctx, class_id, valid_from, slots)
        )
    except InvalidInput as exc:
        return await _render(
            request, class_id, tt_id, new=tt_id is None, typed=typed, error=str(exc)
        )
    raise web.HTTPSeeOther(f"/console/admin/timetable?class={class_id}&tt={info.id}&ok=saved")


async def publish(request: web.Request) -> web.Response:
    """Publish one version: audited, records who and when, and tells the class's families
    what changed (nothing when no lesson did)."""
    await admin_actor(request)
    tt_id = path_id(request, "timetable_id")
    if not confirmed(await request.post()):
        return await confirm_publish(request, tt_id)  # asks first; changes nothing
    info = await auth.run(request, lambda ctx: timetable.publish_timetable(ctx, tt_id))
    raise web.HTTPSeeOther(
        f"/console/admin/timetable?class={info.class_id}&tt={info.id}&ok=published"
    )
