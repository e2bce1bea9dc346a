"""The class teacher's announcements to his class (docs/regulation.md, clause 2.3): the list with
read receipts, and a new one — general or a parent meeting, which notifies the class's parents.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from aiohttp import web

from diary_core import announcements, school
from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from diary_core.policy import Action, ClassTarget, allowed
from gateway import auth
from gateway.handlers.announcements import shown_through
from gateway.handlers.console import form_text, page, parse_day, staff_actor
from gateway.handlers.console.class_teacher import class_id_of, posted_form

KIND_TITLES = {"general": "Объявление", "parent_meeting": "Родительское собрание"}


async def _announcements_context(ctx: Ctx, class_id: int) -> dict[str, Any]:
    cls = await school.get_class(ctx, class_id)
    items = [a for a in await announcements.announcements_for(ctx) if a.class_id == cls.id]
    return {
        "cls": cls,
        "items": items,
        "may_announce": allowed(ctx.actor, Action.ANNOUNCE, ClassTarget(cls.school_id, cls.id)),
        "kinds": KIND_TITLES,
        "tab": "announcements",
    }


async def _render_announcements(
    request: web.Request, form: Mapping[str, str], error: str = "", status: int = 200
) -> web.Response:
    class_id = class_id_of(request)
    context = await auth.run(
        request, lambda ctx: _announcements_context(ctx, class_id), commit=False
    )
    context.update(form=form, error=error, posted=request.query.get("posted", ""))
    context["shown_through"] = shown_through(request)
    return page("console/class_announcements.html", request, context, status=status)


async def announcements_page(request: web.Request) -> web.Response:
    await staff_actor(request)
    return await _render_announcements(request, {"kind": "general"})


def _expiry(form: Mapping[str, str], zone: tzinfo) -> datetime | None:
    """Shown through the school's calendar day given (to its local midnight), or without end
    when none is given."""
    raw = form_text(form, "expires").strip()
    if not raw:
        return None
    return announcements.end_of_day(parse_day(raw, "показывать до"), zone)


async def announcement_submit(request: web.Request) -> web.Response:
    await staff_actor(request)
    class_id = class_id_of(request)
    form = await posted_form(request)

    async def post(ctx: Ctx) -> None:
        cls = await school.get_class(ctx, class_id)
        await announcements.announce(
            ctx,
            form_text(form, "title"),
            form_text(form, "body"),
            form_text(form, "kind"),
            cls.school_id,
            cls.id,
            expires_at=_expiry(form, auth.school_zone(request)),
        )

    try:
        await auth.run(request, post)
    except InvalidInput as exc:
        return await _render_announcements(request, form, str(exc), status=400)
    raise web.HTTPSeeOther(f"/console/class/{class_id}/announcements?posted=1")
