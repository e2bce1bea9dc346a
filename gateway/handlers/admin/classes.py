"""Classes, subjects and teaching assignments of the administrator's school."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from diary_core import admin_views, staff_admin
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput
from gateway import auth
from gateway.handlers.admin.common import (
    admin_actor,
    optional_int,
    page,
    path_id,
    required_int,
    text,
)

NOTICES = {
    "class": "Класс добавлен.",
    "teacher": "Классный руководитель назначен.",
    "subject": "Предмет добавлен.",
    "assignment": "Учитель назначен.",
}


async def _page(
    request: web.Request,
    school_id: int,
    typed: dict[str, str] | None = None,
    error: tuple[str, str] = ("", ""),
) -> web.Response:
    structure = await auth.run(
        request, lambda ctx: admin_views.school_structure(ctx, school_id), commit=False
    )
    return page(
        "classes.html",
        request,
        {
            "s": structure,
            "typed": typed or {},
            "error_form": error[0],
            "form_error": error[1],
            "notice": NOTICES.get(request.query.get("ok", ""), ""),
        },
        status=400 if error[0] else 200,
    )


async def classes_page(request: web.Request) -> web.Response:
    _, school_id = await admin_actor(request)
    return await _page(request, school_id)


async def _submit(
    request: web.Request,
    which: str,
    fields: tuple[str, ...],
    act: Callable[[Ctx, int, dict[str, str]], Awaitable[Any]],
) -> web.Response:
    """Run one form's act; on bad input show the page again with what was typed."""
    _, school_id = await admin_actor(request)
    form = await request.post()
    typed = {k: text(form, k) for k in fields}
    try:
        await auth.run(request, lambda ctx: act(ctx, school_id, typed))
    except (InvalidInput, Conflict) as exc:
        return await _page(request, school_id, typed, (which, str(exc)))
    raise web.HTTPSeeOther(f"/console/admin/classes?ok={which}")


async def create_class(request: web.Request) -> web.Response:
    async def act(ctx: Ctx, school_id: int, t: dict[str, str]) -> object:
        teacher = optional_int(t["class_teacher"], "классный руководитель")
        return await staff_admin.add_class(ctx, school_id, t["class_name"], teacher)

    return await _submit(request, "class", ("class_name", "class_teacher"), act)


async def set_class_teacher(request: web.Request) -> web.Response:
    class_id = path_id(request, "class_id")

    async def act(ctx: Ctx, _: int, t: dict[str, str]) -> object:
        teacher = required_int(t["teacher"], "классный руководитель")
        return await staff_admin.change_class_teacher(ctx, class_id, teacher)

    return await _submit(request, "teacher", ("teacher",), act)


async def create_subject(request: web.Request) -> web.Response:
    async def act(ctx: Ctx, school_id: int, t: dict[str, str]) -> object:
        return await staff_admin.add_subject(ctx, school_id, t["subject_name"])

    return await _submit(request, "subject", ("subject_name",), act)


async def create_assignment(request: web.Request) -> web.Response:
    async def act(ctx: Ctx, _: int, t: dict[str, str]) -> object:
        return await staff_admin.add_assignment(
            ctx,
            required_int(t["a_class"], "класс"),
            required_int(t["a_subject"], "предмет"),
            required_int(t["a_teacher"], "учитель"),
        )

    return await _submit(request, "assignment", ("a_class", "a_subject", "a_teacher"), act)
