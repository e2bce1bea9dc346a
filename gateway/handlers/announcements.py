"""Announcements for the signed-in person at ``/announcements`` (docs/regulation.md, clauses 2.3,
4.1): unread first, each marked read with a button (the receipt the author sees)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web

from diary_core import announcements
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.roles import Role
from gateway import auth
from gateway.pages import render

KIND_TITLES = {
    "general": "объявление",
    "timetable_change": "изменение расписания",
    "parent_meeting": "родительское собрание",
}


def audience_title(view: announcements.AnnouncementView, class_names: Sequence[str] = ()) -> str:
    """Who an announcement is addressed to, as its readers and its author read it."""
    classes = ", ".join(class_names)
    if view.audience == "staff":
        return "только для сотрудников"
    if view.audience == "grade":
        return f"для родителей {view.grade}-х классов"
    if view.audience == "classes":
        return f"для классов {classes}" if classes else "для нескольких классов"
    if view.audience == "class":
        return f"для класса {classes}" if classes else "для класса"
    return "для всей школы"


def shown_through(request: web.Request) -> Callable[[datetime], str]:
    """For templates: the school's last calendar date an announcement is shown (inclusive),
    as ДД.ММ.ГГГГ — the date its author typed."""
    zone = auth.school_zone(request)
    return lambda at: f"{announcements.last_day_shown(at, zone):%d.%m.%Y}"


async def list_page(request: web.Request) -> web.Response:
    """The unexpired announcements of his school and classes, unread first."""

    async def load(ctx: Ctx) -> dict[str, Any]:
        items = await announcements.announcements_for(ctx)
        return {"items": items, "unread": sum(1 for a in items if not a.is_read)}

    context = await auth.run(request, load, commit=False)
    context.update(kinds=KIND_TITLES, csrf_token=auth.csrf_token(request))
    context["shown_through"] = shown_through(request)
    context["audience_title"] = audience_title
    return render("announcements.html", request, context)


async def one_page(request: web.Request) -> web.Response:
    """One announcement at ``/announcements/{id}``: opening it marks it read. Its author and
    whoever may announce to its audience also see who has read it. Anyone else (a parent of
    another class, a family for a staff-only one), an expired and a missing one: the same
    404."""
    announcement_id = int(request.match_info["announcement_id"])

    async def load(ctx: Ctx) -> dict[str, Any]:
        view: announcements.AnnouncementView | None = None
        try:
            view = await announcements.open_announcement(ctx, announcement_id)
        except NotFound:
            pass
        managed = receipts = None
        if await announcements.may_see_receipts(ctx, announcement_id):
            receipts = await announcements.read_receipts(ctx, announcement_id)
            if await announcements.may_manage(ctx, announcement_id):
                managed = await announcements.managed_announcement(ctx, announcement_id)
                view = view or managed.view
        if view is None:
            raise NotFound("объявление не найдено")
        return {"a": view, "receipts": receipts, "managed": managed}

    context = await auth.run(request, load)
    names = context["managed"].class_names if context["managed"] else ()
    actor = await auth.request_actor(request)
    context.update(
        kinds=KIND_TITLES,
        edit_here=actor.has(Role.ADMINISTRATOR),
        audience=audience_title(context["a"], names),
        shown_through=shown_through(request),
    )
    return render("announcement.html", request, context)


async def read_one(request: web.Request) -> web.Response:
    """Mark one announcement read; one outside his audience does not exist (404)."""
    raw = request.match_info["announcement_id"]
    if not raw.isdigit():
        raise NotFound("объявление не найдено")

    async def mark(ctx: Ctx) -> None:
        await announcements.mark_read(ctx, int(raw))

    await auth.run(request, mark)
    raise web.HTTPSeeOther("/announcements")


async def read_all(request: web.Request) -> web.Response:
    """Mark every announcement he is shown read."""

    async def mark(ctx: Ctx) -> None:
        for item in await announcements.announcements_for(ctx):
            if not item.is_read:
                await announcements.mark_read(ctx, item.id)

    await auth.run(request, mark)
    raise web.HTTPSeeOther("/announcements")
