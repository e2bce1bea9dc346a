"""School-wide announcements in the administrator's console (docs/regulation.md, clause 2.3).

The administration writes to the whole school, to its staff only, to the parents of one grade
or to several classes; corrects an announcement's text and last day, stops showing it, and
sees who of its audience has read it («прочитали 41 из 57», with names). Who is in an
audience is the core's (:mod:`diary_core.announcements`); this module only parses forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from diary_core import announcements
from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from gateway import auth
from gateway.handlers.admin.common import admin_actor, optional_int, page, path_id, text
from gateway.handlers.announcements import KIND_TITLES, audience_title, shown_through
from gateway.handlers.console import parse_day

PREFIX = "/console/admin/announcements"

AUDIENCE_CHOICES = {
    "school": "Вся школа: сотрудники, ученики и родители",
    "staff": "Только сотрудники школы",
    "grade": "Родители учеников параллели",
    "classes": "Несколько классов: ученики, родители и учителя этих классов",
}

NOTICES = {
    "posted": "Объявление опубликовано.",
    "saved": "Изменения сохранены.",
    "expired": "Объявление снято с показа: его больше никто не видит.",
}


def _expiry(request: web.Request, raw: str) -> datetime | None:
    """Shown through the school's calendar day typed (to its local midnight), or without end."""
    if not raw:
        return None
    return announcements.end_of_day(parse_day(raw, "показывать до"), auth.school_zone(request))


def _class_ids(values: list[Any]) -> list[int]:
    ids = [optional_int(v if isinstance(v, str) else "", "классы") for v in values]
    return [i for i in ids if i is not None]


async def _list(
    request: web.Request,
    school_id: int,
    typed: Mapping[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> web.Response:
    async def load(ctx: Ctx) -> dict[str, Any]:
        return {
            "items": await announcements.managed_announcements(ctx, school_id),
            "classes": await announcements.audience_classes(ctx, school_id),
        }

    context = await auth.run(request, load, commit=False)
    grades = sorted({c.grade for c in context["classes"]})
    form = dict(typed or {"audience": "school", "kind": "general", "class_ids": []})
    return page(
        "announcements.html",
        request,
        {
            **context,
            "grades": grades,
            "form": form,
            "error": error,
            "notice": NOTICES.get(request.query.get("done", ""), ""),
            "kinds": KIND_TITLES,
            "audiences": AUDIENCE_CHOICES,
            "audience_title": audience_title,
            "shown_through": shown_through(request),
        },
        status=status,
    )


async def list_page(request: web.Request) -> web.Response:
    _, school_id = await admin_actor(request)
    return await _list(request, school_id)


async def create(request: web.Request) -> web.Response:
    _, school_id = await admin_actor(request)
    form = await request.post()
    typed: dict[str, Any] = {
        "audience": text(form, "audience"),
        "kind": text(form, "kind"),
        "title": text(form, "title"),
        "body": form.get("body", "") if isinstance(form.get("body"), str) else "",
        "expires": text(form, "expires"),
        "grade": text(form, "grade"),
        "class_ids": [v for v in form.getall("class_ids", []) if isinstance(v, str)],
    }
    try:
        audience = typed["audience"]
        grade = optional_int(typed["grade"], "параллель") if audience == "grade" else None
        class_ids = _class_ids(typed["class_ids"]) if audience == "classes" else []
        expires_at = _expiry(request, typed["expires"])

        async def post(ctx: Ctx) -> None:
            await announcements.announce(
                ctx,
                typed["title"],
                typed["body"],
                typed["kind"],
                school_id,
                expires_at=expires_at,
                audience=audience,
                grade=grade,
                class_ids=class_ids,
            )

        await auth.run(request, post)
    except InvalidInput as exc:
        return await _list(request, school_id, typed, str(exc), status=400)
    raise web.HTTPSeeOther(f"{PREFIX}?done=posted")


async def _one(
    request: web.Request,
    announcement_id: int,
    typed: Mapping[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> web.Response:
    async def load(ctx: Ctx) -> dict[str, Any]:
        managed = await announcements.managed_announcement(ctx, announcement_id)
        receipts = await announcements.read_receipts(ctx, announcement_id)
        return {"m": managed, "receipts": receipts}

    context = await auth.run(request, load)  # reading receipts is audited
    view = context["m"].view
    zone = auth.school_zone(request)
    last_day = (
        announcements.last_day_shown(view.expires_at, zone).isoformat()
        if view.expires_at is not None and not context["m"].expired
        else ""
    )
    form = dict(
        typed or {"kind": view.kind, "title": view.title, "body": view.body, "expires": last_day}
    )
    return page(
        "announcement.html",
        request,
        {
            **context,
            "form": form,
            "error": error,
            "notice": NOTICES.get(request.query.get("done", ""), ""),
            "kinds": KIND_TITLES,
            "audience_title": audience_title,
            "shown_through": shown_through(request),
        },
        status=status,
    )


async def edit_page(request: web.Request) -> web.Response:
    await admin_actor(request)
    return await _one(request, path_id(request, "announcement_id"))


async def save(request: web.Request) -> web.Response:
    await admin_actor(request)
    announcement_id = path_id(request, "announcement_id")
    form = await request.post()
    body = form.get("body", "")
    typed: dict[str, str] = {
        "kind": text(form, "kind"),
        "title": text(form, "title"),
        "body": body if isinstance(body, str) else "",
        "expires": text(form, "expires"),
    }
    try:
        expires_at = _expiry(request, typed["expires"])

        async def change(ctx: Ctx) -> None:
            await announcements.edit(
                ctx,
                announcement_id,
                typed["title"],
                typed["body"],
                typed["kind"],
                expires_at,
            )

        await auth.run(request, change)
    except InvalidInput as exc:
        return await _one(request, announcement_id, typed, str(exc), status=400)
    raise web.HTTPSeeOther(f"{PREFIX}/{announcement_id}?done=saved")


async def expire(request: web.Request) -> web.Response:
    await admin_actor(request)
    announcement_id = path_id(request, "announcement_id")

    async def stop(ctx: Ctx) -> None:
        await announcements.expire(ctx, announcement_id)

    await auth.run(request, stop)
    raise web.HTTPSeeOther(f"{PREFIX}/{announcement_id}?done=expired")
