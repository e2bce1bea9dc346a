"""A lesson's history: every change of its topic and homework, with who and when.

The page sits beside the lesson's edit form (``/console/lessons/{id}``), as a mark's history
sits beside the mark."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from diary_core import lessons
from diary_core.context import Ctx
from gateway import auth
from gateway.handlers.console import page, staff_actor


async def lesson_history_page(request: web.Request) -> web.Response:
    await staff_actor(request)
    lesson_id = int(request.match_info["lesson_id"])

    async def load(ctx: Ctx) -> dict[str, Any]:
        return {"history": await lessons.lesson_history(ctx, lesson_id)}

    context = await auth.run(request, load, commit=False)
    return page("console/lesson_history.html", request, context)
