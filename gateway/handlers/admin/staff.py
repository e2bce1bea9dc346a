"""Staff accounts: the list, a new staff member, credential slips, disabling (docs/regulation.md,
clause 3.1: staff get their login and password from the deputy director).

A slip is shown once: the POST that issues a password answers 303 to ``/staff/slip?slip=<id>``,
whose first GET shows it and whose reload shows that it was shown (:mod:`gateway.slips`).
A new password for someone who already has a login cancels his password, so it needs the
form's confirmation (``reissue=yes``); disabling an account first shows a confirmation page
(:mod:`gateway.handlers.admin.confirm`)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from aiohttp import web

from diary_core import accounts, admin_views, staff_admin
from diary_core.actors import load_user_target
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput, NotFound
from diary_core.models import User
from diary_core.policy import Action, SchoolTarget
from diary_core.roles import STAFF_ROLES, Role
from diary_core.russian import genitive_name, pronoun
from gateway import auth, sessions, slips
from gateway.handlers.admin.common import admin_actor, optional_int, page, path_id, text
from gateway.handlers.admin.confirm import confirm_page, confirmed

ROLE_CHOICES = (Role.TEACHER, Role.CLASS_TEACHER, Role.ADMINISTRATOR)
NOTICES = {
    "created": "Сотрудник добавлен.",
    "disabled": "Учётная запись отключена: войти с ней больше нельзя.",
    "enabled": "Учётная запись снова включена.",
}
NO_STORE = {"Cache-Control": "no-store"}
SLIP_PLACE = "staff"
REISSUE_UNCONFIRMED = (
    "У сотрудника {name} уже есть логин. Новый пароль отменит прежний — если это нужно, "
    "отметьте «Да, выдать новый пароль» и нажмите кнопку ещё раз. Ничего не выдано."
)


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


_BLANK_FORM: dict[str, Any] = {"roles": [Role.TEACHER.value], "issue": True}


async def staff_page(request: web.Request) -> web.Response:
    _, school_id = await admin_actor(request)
    return await _list_page(request, school_id, dict(_BLANK_FORM))


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
    return await _to_slip(request, issued)


async def _to_slip(request: web.Request, issued: accounts.IssuedCredentials) -> web.Response:
    """Keep the slip for one view and send the browser there (a reload issues nothing)."""
    now = auth.clock_of(request).now()
    about = {"place": SLIP_PLACE, "user_id": issued.user_id, "full_name": issued.full_name}
    secret = {"issued": asdict(issued), "issued_at": now.isoformat()}
    slip_id = await slips.keep(request, about, secret)
    raise web.HTTPSeeOther(f"/console/admin/staff/slip?slip={slip_id}")


async def slip_page(request: web.Request) -> web.Response:
    """The printable slip, shown once; a reload says it was shown and offers a new password."""
    await admin_actor(request)
    opened = await slips.open_once(request, request.query.get("slip", ""), SLIP_PLACE)
    if opened is None or opened.secret is None:
        about = opened.about if opened is not None else None
        response = page("slip_gone.html", request, {"about": about})
    else:
        context = {
            "issued": opened.secret["issued"],
            "issued_at": datetime.fromisoformat(opened.secret["issued_at"]),
        }
        response = page("slip.html", request, context)
    response.headers.update(NO_STORE)
    return response


class _Unconfirmed(Exception):
    """He already has a login and the form did not confirm a new password: nothing issued."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


async def issue_credentials(request: web.Request) -> web.Response:
    """A fresh one-time password for a staff member (the old one stops working): for
    someone who already has a login, only with the form's ``reissue=yes``."""
    _, school_id = await admin_actor(request)
    user_id = path_id(request, "user_id")
    confirmed = text(await request.post(), "reissue") == "yes"

    async def issue(ctx: Ctx) -> accounts.IssuedCredentials:
        ctx.require(Action.ISSUE_CREDENTIALS, await load_user_target(ctx.session, user_id))
        user = await ctx.session.get(User, user_id)
        if user is not None and user.login and not confirmed:
            raise _Unconfirmed(user.full_name)
        return await _reissue(ctx, user_id)

    try:
        issued = await auth.run(request, issue)
    except _Unconfirmed as exc:
        error = REISSUE_UNCONFIRMED.format(name=exc.name)
        return await _list_page(request, school_id, dict(_BLANK_FORM), error, status=409)
    return await _to_slip(request, issued)


async def _reissue(ctx: Ctx, user_id: int) -> accounts.IssuedCredentials:
    """A new one-time password; whoever is signed in with the old one is signed out."""
    issued = await accounts.issue_credentials(ctx, user_id)
    await sessions.end_all(ctx.session, user_id)
    return issued


async def _disable(ctx: Ctx, user_id: int) -> None:
    """Disable the account and end its sessions at once (not only at their next use, which
    a re-enabling before it would skip)."""
    await staff_admin.disable_user(ctx, user_id)
    await sessions.end_all(ctx.session, user_id)


async def _to_disable(ctx: Ctx, user_id: int) -> User:
    """The staff member the confirmation names, asked of the policy as the disabling is
    (another school's: "not found"); oneself is refused before asking anything."""
    user = await ctx.session.get(User, user_id)
    if user is None or user.school_id is None:
        raise NotFound("сотрудник не найден")
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(user.school_id))
    member = await accounts.require_staff_of(ctx, user_id, user.school_id)
    if member.id == ctx.actor.user_id:
        raise Conflict("нельзя отключить собственную учётную запись")
    return member


def disable_question(user: User) -> str:
    """«Отключить учётную запись Харитоновой Алёны Вадимовны? Она не сможет войти, её сеансы
    завершатся.»"""
    name = genitive_name(user.last_name, user.first_name, user.middle_name)
    who = pronoun(user.last_name, user.first_name, user.middle_name)
    if who == "она":
        after = "Она не сможет войти, её сеансы завершатся."
    elif who == "он":
        after = "Он не сможет войти, его сеансы завершатся."
    else:
        after = "Сотрудник не сможет войти, его сеансы завершатся."
    return f"Отключить учётную запись {name}? {after}"


async def disable(request: web.Request) -> web.Response:
    """Disable a staff account, only with the confirmation page's ``confirm=yes``."""
    await admin_actor(request)
    user_id = path_id(request, "user_id")
    if not confirmed(await request.post()):
        user = await auth.run(request, lambda ctx: _to_disable(ctx, user_id), commit=False)
        return confirm_page(
            request,
            title="Отключение учётной записи",
            question=disable_question(user),
            button="Отключить",
            cancel="/console/admin/staff",
        )
    await auth.run(request, lambda ctx: _disable(ctx, user_id))
    raise web.HTTPSeeOther("/console/admin/staff?ok=disabled")


async def enable(request: web.Request) -> web.Response:
    await admin_actor(request)
    user_id = path_id(request, "user_id")
    await auth.run(request, lambda ctx: staff_admin.enable_user(ctx, user_id))
    raise web.HTTPSeeOther("/console/admin/staff?ok=enabled")
