"""The parent's and pupil's diary at ``/diary``: a child switch and the child's marks."""

from __future__ import annotations

from datetime import date

from aiohttp import web
from sqlalchemy import select

from diary_core import families, journal
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.models import Period
from diary_core.roles import FAMILY_ROLES
from gateway import auth
from gateway.pages import render


async def _current_period(ctx: Ctx, school_id: int, today: date) -> Period | None:
    periods = list(
        await ctx.session.scalars(
            select(Period)
            .where(Period.school_id == school_id, Period.kind != "year")
            .order_by(Period.starts_on)
        )
    )
    inside = [p for p in periods if p.starts_on <= today <= p.ends_on]
    past = [p for p in periods if p.ends_on < today]
    return (inside or past[-1:] or periods[:1] or [None])[0]


async def diary_page(request: web.Request) -> web.Response:
    actor = await auth.request_actor(request)
    if not actor.roles & FAMILY_ROLES:
        raise web.HTTPSeeOther("/console")

    async def load(ctx: Ctx) -> dict[str, object]:
        pupils = await families.my_pupils(ctx)
        if not pupils:
            return {"pupils": [], "current": None, "report": None, "period": None}
        wanted = request.query.get("pupil")
        current = next((p for p in pupils if str(p.pupil_id) == wanted), None)
        if wanted and current is None:
            raise NotFound("обучающийся не найден")
        current = current or pupils[0]
        period = await _current_period(ctx, current.school_id, ctx.now().date())
        report = None
        if period is not None:
            report = await journal.pupil_marks(
                ctx, current.pupil_id, period.starts_on, period.ends_on
            )
        return {"pupils": pupils, "current": current, "report": report, "period": period}

    context = await auth.run(request, load, commit=False)
    return render("diary.html", request, context)
