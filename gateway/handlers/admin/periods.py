"""Period-mark sign-off: lock a period's marks (all classes or some), reopen one mark with
a stated reason. A locked mark cannot be changed by its teacher."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from diary_core import admin_views, marks, staff_admin
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput
from gateway import auth
from gateway.handlers.admin.common import (
    admin_actor,
    optional_date,
    optional_int,
    page,
    path_id,
    text,
)


async def _render(
    request: web.Request, school_id: int, *, error: str = "", typed: dict[str, str] | None = None
) -> web.Response:
    period_id = optional_int(request.query.get("period"), "период")
    class_id = optional_int(request.query.get("class"), "класс")

    async def load(ctx: Ctx) -> dict[str, Any]:
        overview = await admin_views.periods_overview(ctx, school_id)
        rows = None
        if period_id is not None and class_id is not None:
            rows = await admin_views.class_period_marks(ctx, school_id, period_id, class_id)
        return {"o": overview, "rows": rows}

    data = await auth.run(request, load)
    locked = request.query.get("locked", "")
    return page(
        "periods.html",
        request,
        {
            **data,
            "period_id": period_id,
            "class_id": class_id,
            "typed": typed or {},
            "error": error,
            "notice": f"Закрыто итоговых отметок: {int(locked)}." if locked.isdigit() else "",
            "unlocked": request.query.get("ok") == "unlocked",
            "dates_changed": request.query.get("ok") == "dates",
            "unlock_query": urlencode({"period": period_id or "", "class": class_id or ""}),
        },
        status=400 if error else 200,
    )


async def periods_page(request: web.Request) -> web.Response:
    _, school_id = await admin_actor(request)
    return await _render(request, school_id)


async def lock(request: web.Request) -> web.Response:
    """Lock the period's marks of the checked classes (none checked: every class)."""
    _, school_id = await admin_actor(request)
    period_id = path_id(request, "period_id")
    form = await request.post()
    class_ids = [
        optional_int(v, "класс") or 0 for v in form.getall("class_ids", []) if isinstance(v, str)
    ]
    count = await auth.run(
        request, lambda ctx: staff_admin.lock_period(ctx, school_id, period_id, class_ids)
    )
    raise web.HTTPSeeOther(f"/console/admin/periods?period={period_id}&locked={count}")


async def unlock(request: web.Request) -> web.Response:
    """Reopen one signed-off mark; the reason goes to the audit log."""
    _, school_id = await admin_actor(request)
    mark_id = path_id(request, "mark_id")
    form = await request.post()
    reason = text(form, "reason")
    try:
        await auth.run(request, lambda ctx: marks.unlock_period_mark(ctx, mark_id, reason))
    except InvalidInput as exc:
        return await _render(request, school_id, error=str(exc), typed={str(mark_id): reason})
    period_id = optional_int(request.query.get("period"), "период")
    class_id = optional_int(request.query.get("class"), "класс")
    back = f"period={period_id}&class={class_id}&" if period_id and class_id else ""
    raise web.HTTPSeeOther(f"/console/admin/periods?{back}ok=unlocked")


async def change_dates(request: web.Request) -> web.Response:
    """Move a term's dates (a school whose holidays differ from the usual calendar); a bad
    date, one outside the year or overlapping another term is shown with what was typed."""
    _, school_id = await admin_actor(request)
    period_id = path_id(request, "period_id")
    form = await request.post()
    starts_raw, ends_raw = text(form, "starts_on"), text(form, "ends_on")
    typed = {f"starts_{period_id}": starts_raw, f"ends_{period_id}": ends_raw}
    try:
        starts_on = optional_date(starts_raw, "начало")
        ends_on = optional_date(ends_raw, "конец")
        if starts_on is None or ends_on is None:
            raise InvalidInput("укажите даты начала и конца периода")
        await auth.run(
            request,
            lambda ctx: staff_admin.change_period_dates(
                ctx, school_id, period_id, starts_on, ends_on
            ),
        )
    except (InvalidInput, Conflict) as exc:
        return await _render(request, school_id, error=str(exc), typed=typed)
    raise web.HTTPSeeOther("/console/admin/periods?ok=dates")
