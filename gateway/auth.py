"""Who is asking: the session's user as the core's Actor, and the guards handlers use.

Security decisions:
- Unsafe methods (POST, PUT, PATCH, DELETE) on browser routes need the session's CSRF token
  (form field ``csrf_token`` or header ``X-CSRF-Token``), compared in constant time; the
  portal's routes use bearer tokens and no cookies, so they are exempt.
- A signed-in user holding a one-time password can reach nothing but the password change.
- A person with both staff and family roles acts in one of them at a time (chosen after
  sign-in); the Actor carries only the chosen side's roles.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.typedefs import Handler

from diary_core.actors import load_actor
from diary_core.clock import Clock
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.policy import Actor
from diary_core.roles import FAMILY_ROLES, STAFF_ROLES, Role
from diary_core.unread import UnreadCounts, unread_counts
from gateway import keys, sessions

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_EXEMPT_PREFIXES = ("/portal/", "/mail/unsubscribe/")  # bearer token; one-click token
PASSWORD_CHANGE_PATH = "/account/password"  # noqa: S105 - a path
ALLOWED_WHILE_PASSWORD_CHANGE = ("/account/password", "/logout", "/static/", "/help", "/healthz")
ROLE_CHOICE_PATH = "/choose-role"
ACTOR_KEY = web.RequestKey("actor", Actor)
UNREAD_KEY = web.RequestKey("unread", UnreadCounts)


def _csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


async def _given_csrf(request: web.Request) -> str | None:
    header = request.headers.get("X-CSRF-Token")
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Load the session, enforce CSRF and the forced password change, set the cookie."""
    if request.path.startswith(CSRF_EXEMPT_PREFIXES) or request.path == "/healthz":
        return await handler(request)
    view = await sessions.load(request)
    if view is not None:
        request[sessions.REQUEST_KEY] = view
    is_api = request.path.startswith("/api/")
    try:
        if is_api and (view is None or not view.signed_in):
            if request.method not in SAFE_METHODS or request.path != "/api/v1/openapi.json":
                raise web.HTTPUnauthorized(reason="Требуется вход в систему")
        if request.method not in SAFE_METHODS:
            if view is None or not _csrf_ok(view.csrf_token, await _given_csrf(request)):
                raise web.HTTPForbidden(
                    reason="Форма устарела или отправлена не с этого сайта. "
                    "Обновите страницу и попробуйте снова."
                )
        if (
            view is not None
            and view.signed_in
            and view.data.get("must_change_password")
            and not request.path.startswith(ALLOWED_WHILE_PASSWORD_CHANGE)
        ):
            if is_api:
                raise web.HTTPForbidden(reason="Сначала смените одноразовый пароль")
            raise web.HTTPSeeOther(PASSWORD_CHANGE_PATH)
        response = await handler(request)
    except web.HTTPException as exc:
        sessions.apply_cookie(request, exc)
        raise
    sessions.apply_cookie(request, response)
    return response


def current_session(request: web.Request) -> sessions.SessionView | None:
    return request.get(sessions.REQUEST_KEY)


def acting_roles(all_roles: frozenset[Role], acting: str | None) -> frozenset[Role]:
    """The roles of the side the person chose to act in (all of them if he has one side)."""
    staff, family = all_roles & STAFF_ROLES, all_roles & FAMILY_ROLES
    if staff and family:
        if acting == "staff":
            return staff
        if acting == "family":
            return family
        return frozenset()
    return all_roles


def needs_role_choice(all_roles: frozenset[Role]) -> bool:
    return bool(all_roles & STAFF_ROLES) and bool(all_roles & FAMILY_ROLES)


async def _load_actor(request: web.Request, user_id: int) -> Actor:
    """The account's actor, for a session not loaded with one (:func:`sessions.load` loads it
    with every signed-in session, so a request does not read the account twice)."""
    async with request.app[keys.SESSIONS]() as db:
        try:
            return await load_actor(db, user_id)
        except NotFound:
            raise web.HTTPSeeOther("/login") from None


async def request_actor(request: web.Request) -> Actor:
    """The signed-in user as an Actor, or a redirect to sign in (pages) / 401 (API)."""
    view = current_session(request)
    if view is None or view.user_id is None:
        if request.path.startswith("/api/"):
            raise web.HTTPUnauthorized(reason="Требуется вход в систему")
        raise web.HTTPSeeOther(f"/login?next={request.path_qs}")
    if ACTOR_KEY in request:
        return request[ACTOR_KEY]
    actor = view.actor or await _load_actor(request, view.user_id)
    roles = acting_roles(actor.roles, view.acting_role)
    if not roles:
        if request.path.startswith("/api/"):
            raise web.HTTPConflict(reason="Сначала выберите роль: сотрудник или родитель")
        raise web.HTTPSeeOther(ROLE_CHOICE_PATH)
    actor = Actor(
        user_id=actor.user_id,
        roles=roles,
        school_id=actor.school_id,
        taught=actor.taught if roles & STAFF_ROLES else frozenset(),
        led_classes=actor.led_classes if roles & STAFF_ROLES else frozenset(),
        own_pupil=actor.own_pupil if Role.PUPIL in roles else None,
        children=actor.children if Role.PARENT in roles else frozenset(),
    )
    request[ACTOR_KEY] = actor
    return actor


def clock_of(request: web.Request) -> Clock:
    return request.app[keys.CLOCK]


def school_zone(request: web.Request) -> ZoneInfo:
    """The school's zone (``[server] timezone``): its calendar dates are dates there."""
    return ZoneInfo(request.app[keys.SETTINGS].server.timezone)


def school_today(request: web.Request) -> date:
    return clock_of(request).now().astimezone(school_zone(request)).date()


UseCase = Callable[[Ctx], Awaitable[Any]]


async def run(request: web.Request, use_case: UseCase, *, commit: bool = True) -> Any:
    """Run one core use case as the signed-in actor in one transaction (all or nothing)."""
    actor = await request_actor(request)
    async with request.app[keys.SESSIONS]() as db:
        result = await use_case(Ctx(db, actor, request.app[keys.CLOCK], school_zone(request)))
        if commit:
            await db.commit()
        if request.method == "GET" and not request.path.startswith("/api/"):
            # The header's «Сообщения (2)»: one statement, after the page has marked what it
            # showed as read, in the connection the page already holds.
            request[UNREAD_KEY] = await unread_counts(db, actor.user_id)
        return result


def csrf_token(request: web.Request) -> str:
    view = current_session(request)
    return view.csrf_token if view else ""
