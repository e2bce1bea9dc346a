"""Period-mark sign-off: lock a period's marks (all classes or some), reopen one mark with
a stated reason after a confirmation page (:mod:`gateway.handlers.admin.confirm`). A locked
mark cannot be changed by its teacher."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from diary_core import admin_views, period_marks, staff_admin
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput, NotFound
from diary_core.models import Period, PeriodMark, Pupil, SchoolClass, Subject, User
from diary_core.policy import Action, SchoolTarget
from diary_core.russian import by_subject, genitive_name
from gateway import auth
from gateway.handlers.admin.common import (
    admin_actor,
    optional_date,
    optional_int,
    page,
    path_id,
    text,
)
from gateway.handlers.admin.confirm import confirm_page, confirmed


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


@dataclass(frozen=True)
class _ToUnlock:
    """What the confirmation of reopening a period mark names."""

    pupil: str  # in the genitive: «Смирнова Ивана»
    period: str
    subject: str
    class_name: str
    value: str


async def _to_unlock(ctx: Ctx, mark_id: int) -> _ToUnlock:
    """The signed-off mark the confirmation names, asked of the policy as the unlocking is
    (another school's: "not found")."""
    mark = await ctx.session.get(PeriodMark, mark_id)
    if mark is None:
        raise NotFound("итоговая отметка не найдена")
    ctx.require(Action.LOCK_PERIOD_MARKS, SchoolTarget(mark.school_id))
    pupil = await ctx.session.get(Pupil, mark.pupil_id)
    person = await ctx.session.get(User, pupil.user_id) if pupil else None
    klass = await ctx.session.get(SchoolClass, pupil.class_id) if pupil else None
    subject = await ctx.session.get(Subject, mark.subject_id)
    period = await ctx.session.get(Period, mark.period_id)
    if person is None or klass is None or subject is None or period is None:
        raise NotFound("итоговая отметка не найдена")
    return _ToUnlock(
        pupil=genitive_name(person.last_name, person.first_name, person.middle_name),
        period=period.name if period.name[:1].isdigit() else period.name.lower(),
        subject=subject.name,
        class_name=klass.name,
        value=mark.value,
    )


def unlock_question(about: _ToUnlock) -> str:
    """«Снять блокировку итоговой отметки Смирнова Ивана за 1 четверть по математике в 5А?
    Отметку снова можно будет менять.»"""
    return (
        f"Снять блокировку итоговой отметки {about.pupil} за {about.period} "
        f"{by_subject(about.subject)} в {about.class_name}? Отметку снова можно будет менять."
    )


async def unlock(request: web.Request) -> web.Response:
    """Reopen one signed-off mark, only with the confirmation page's ``confirm=yes``; the
    reason goes to the audit log."""
    _, school_id = await admin_actor(request)
    mark_id = path_id(request, "mark_id")
    form = await request.post()
    reason = text(form, "reason")
    if not confirmed(form):
        about = await auth.run(request, lambda ctx: _to_unlock(ctx, mark_id), commit=False)
        if not reason:
            error = str(InvalidInput("укажите причину", field="reason"))
            return await _render(request, school_id, error=error, typed={str(mark_id): reason})
        period_id = optional_int(request.query.get("period"), "период")
        class_id = optional_int(request.query.get("class"), "класс")
        return confirm_page(
            request,
            title="Открытие итоговой отметки",
            question=unlock_question(about),
            details=f"Отметка: {about.value}. Причина (запишется в журнал действий): {reason}",
            fields={"reason": reason},
            button="Снять блокировку",
            cancel="/console/admin/periods?"
            + urlencode({"period": period_id or "", "class": class_id or ""}),
        )
    try:
        await auth.run(request, lambda ctx: period_marks.unlock_period_mark(ctx, mark_id, reason))
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
