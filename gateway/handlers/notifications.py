"""The signed-in person's own notifications at ``/notifications``: new messages, timetable
changes, parent meetings; marked read one by one or all at once."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from diary_core import notifications
from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from gateway import auth
from gateway.pages import render

SHOWN = 100
KIND_TITLES = {
    "message": "сообщение",
    "timetable": "расписание",
    "timetable_change": "изменение расписания",
    "meeting": "собрание",
    "mark": "отметка",
    "marks_digest": "отметки из файла",
}


async def list_page(request: web.Request) -> web.Response:
    async def load(ctx: Ctx) -> dict[str, Any]:
        items = await notifications.notifications_for(ctx, limit=SHOWN)
        return {"items": items, "unread": await notifications.unread_notification_count(ctx)}

    context = await auth.run(request, load, commit=False)
    context.update(kinds=KIND_TITLES, csrf_token=auth.csrf_token(request))
    return render("notifications.html", request, context)


def _ids(raw: list[str]) -> list[int]:
    if not all(r.isdigit() for r in raw):
        raise InvalidInput("неверный номер уведомления", field="id")
    return [int(r) for r in raw]


async def mark_read(request: web.Request) -> web.Response:
    """Mark the named notifications read (``id``, repeated), or all unread with ``all``.
    Other people's ids are skipped by the core without a word."""
    form = await request.post()
    every = form.get("all") == "1"
    ids = _ids([str(v) for v in form.getall("id", [])])

    async def mark(ctx: Ctx) -> int:
        wanted = ids
        if every:
            unread = await notifications.notifications_for(
                ctx, unread_only=True, limit=notifications.MAX_LIMIT
            )
            wanted = [n.id for n in unread]
        return await notifications.mark_notifications_read(ctx, wanted)

    await auth.run(request, mark)
    raise web.HTTPSeeOther("/notifications")
