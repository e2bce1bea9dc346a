"""The reply-deadline dashboard (regulation 3.2, 5.1): unanswered parents' threads per
teacher, overdue after seven days."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from diary_core import admin_views
from diary_core.messaging import OVERDUE_AFTER
from gateway import auth
from gateway.handlers.admin.common import admin_actor, page


def waited(delta: timedelta) -> str:
    """A wait in words: ``8 дн. 3 ч.``, ``5 ч.``, ``менее часа``."""
    days, hours = delta.days, delta.seconds // 3600
    if days:
        return f"{days} дн. {hours} ч." if hours else f"{days} дн."
    return f"{hours} ч." if hours else "менее часа"


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
