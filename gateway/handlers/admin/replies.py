"""The reply-deadline dashboard (docs/regulation.md, clauses 3.2, 5.1): unanswered parents' threads
per teacher, overdue after seven days."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from diary_core import admin_views, russian
from diary_core.messaging import OVERDUE_AFTER
from gateway import auth
from gateway.handlers.admin.common import admin_actor, page


def waited(delta: timedelta) -> str:
    """A wait in words: ``8 дней 3 часа``, ``1 день``, ``5 часов``, ``меньше часа``."""
    hours = delta.seconds // 3600
    in_hours = russian.counted(hours, "час", "часа", "часов")
    if delta.days >= 1:
        return f"{russian.days(delta.days)} {in_hours}" if hours else russian.days(delta.days)
    return in_hours if delta.days == 0 and hours else "меньше часа"


async def replies_page(request: web.Request) -> web.Response:
    _, school_id = await admin_actor(request)
    board = await auth.run(
        request, lambda ctx: admin_views.reply_board(ctx, school_id), commit=False
    )
    return page(
        "replies.html",
        request,
        {
            "board": board,
            "waited": waited,
            "overdue_days": OVERDUE_AFTER.days,
            "total_overdue": sum(b.load.overdue for b in board),
        },
    )
