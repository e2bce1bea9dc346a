"""Staff accounts: the list, a new staff member, credential slips, disabling (regulation 3.1:
staff get their login and password from the deputy director)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from diary_core import accounts, admin_views, staff_admin
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput
from diary_core.roles import STAFF_ROLES, Role
from gateway import auth
from gateway.handlers.admin.common import admin_actor, optional_int, page, path_id, text

ROLE_CHOICES = (Role.TEACHER, Role.CLASS_TEACHER, Role.ADMINISTRATOR)
NOTICES = {
    "created": "Сотрудник добавлен.",
    "disabled": "Учётная запись отключена: войти с ней больше нельзя.",
    "enabled": "Учётная запись снова включена.",
}
NO_STORE = {"Cache-Control": "no-store"}


async def _list_page(
    request: web.Request, school_id: int, typed: dict[str, Any], error: str = "", status: int = 200
) -> web.Response:
    staff = await auth.run(
        request, lambda ctx: admin_views.staff_list(ctx, school_id), commit=False
    )
    return page(
        "staff.html",
        request,
        {
            "staff": staff,
            "school_id": school_id,
            "role_choices": ROLE_CHOICES,
            "typed": typed,
            "error": error,
            "notice": NOTICES.get(request.query.get("ok", ""), ""),
        },
        status=status,
    )


async def staff_page(request: web.Request) -> web.Response:
    _, school_id = await admin_actor(request)
    typed = {"roles": [Role.TEACHER.value], "issue": True}
    return await _list_page(request, school_id, typed)


def _roles(values: list[str]) -> tuple[Role, ...]:
    try:
        roles = tuple(Role(v) for v in values)
    except ValueError:
        raise InvalidInput("неизвестная роль сотрудника") from None
    if not roles or not set(roles) <= STAFF_ROLES:
        raise InvalidInput("выберите роль: учитель, классный руководитель или администратор")
    return roles


async def create_staff(request: web.Request) -> web.Response:
    """A new staff member; with "issue" his first credentials, shown once on a slip.

    The school is the one the form was made for (its hidden field); the core refuses any
    school but the administrator's own, so a forged form writes nothing.
    """
    _, own_school = await admin_actor(request)
    form = await request.post()
    typed: dict[str, Any] = {
        k: text(form, k) for k in ("last_name", "first_name", "middle_name", "snils", "email")
    }
    typed["roles"] = [v for v in form.getall("roles", []) if isinstance(v, str)]
    typed["issue"] = bool(text(form, "issue"))
    school_id = optional_int(text(form, "school_id"), "школа") or own_school

    async def create(ctx: Ctx) -> accounts.IssuedCredentials | None:
        user = await accounts.create_staff(
            ctx,
            school_id,
            last_name=typed["last_name"],
            first_name=typed["first_name"],
            middle_name=typed["middle_name"],
            roles=_roles(typed["roles"]),
            snils=typed["snils"] or None,
            email=typed["email"],
        )
        return await accounts.issue_credentials(ctx, user.id) if typed["issue"] else None

    try:
        issued = await auth.run(request, create)
    except (InvalidInput, Conflict) as exc:
        return await _list_page(request, own_school, typed, str(exc), status=400)
    if issued is None:
        raise web.HTTPSeeOther("/console/admin/staff?ok=created")
    return _slip(request, issued)


def _slip(request: web.Request, issued: accounts.IssuedCredentials) -> web.Response:
    """The printable slip: the one-time password exists only in this response."""
    now = auth.clock_of(request).now()
    response = page("slip.html", request, {"issued": issued, "issued_at": now})
    response.headers.update(NO_STORE)
    return response


async def issue_credentials(request: web.Request) -> web.Response:
    """A fresh one-time password for a staff member (the old one stops working)."""
    await admin_actor(request)
    user_id = path_id(request, "user_id")
    issued = await auth.run(request, lambda ctx: accounts.issue_credentials(ctx, user_id))
    return _slip(request, issued)


async def disable(request: web.Request) -> web.Response:
    await admin_actor(request)
    user_id = path_id(request, "user_id")
    await auth.run(request, lambda ctx: staff_admin.disable_user(ctx, user_id))
    raise web.HTTPSeeOther("/console/admin/staff?ok=disabled")


async def enable(request: web.Request) -> web.Response:
    await admin_actor(request)
    user_id = path_id(request, "user_id")
    await auth.run(request, lambda ctx: staff_admin.enable_user(ctx, user_id))
    raise web.HTTPSeeOther("/console/admin/staff?ok=enabled")
