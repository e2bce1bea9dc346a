"""Local sign-in at ``/login``, sign-out at ``/logout``, the forced password change and the
choice of role for a person who is both staff and parent."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import select

from diary_core import accounts
from diary_core.actors import roles_of
from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from diary_core.models import User
from diary_core.policy import Actor
from diary_core.roles import FAMILY_ROLES, Role
from gateway import auth, keys, sessions, throttle
from gateway.pages import render

WRONG_CREDENTIALS = "Неверный логин или пароль."


def safe_next(raw: str | None, default: str = "") -> str:
    """Follow a return path only if it is a path on this site (no scheme, no host, no
    ``//host`` or ``/\\host`` tricks, no control characters)."""
    if not raw or not raw.startswith("/") or raw.startswith(("//", "/\\")):
        return default
    if any(ord(ch) < 32 for ch in raw) or "\\" in raw:
        return default
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return default
    return raw


def home_for(roles: frozenset[Role]) -> str:
    return "/diary" if roles and roles <= FAMILY_ROLES else "/console"


async def login_page(request: web.Request) -> web.Response:
    view = await sessions.ensure(request)
    if view.signed_in:
        raise web.HTTPSeeOther("/")
    return _render_login(request, view.csrf_token, "", "", status=200)


def _render_login(
    request: web.Request, csrf: str, login: str, error: str, *, status: int
) -> web.Response:
    return render(
        "login.html",
        request,
        {
            "csrf_token": csrf,
            "login": login,
            "error": error,
            "next": safe_next(request.query.get("next")),
        },
        status=status,
    )


def lockout_message(retry_after_seconds: int) -> str:
    """The 429 page's text with the wait ``Retry-After`` gives, in whole minutes rounded up
    (never «через 0 мин.»)."""
    minutes = max(1, -(-retry_after_seconds // 60))
    return f"Слишком много неудачных попыток. Попробуйте снова через {minutes} мин."


def _client(request: web.Request) -> tuple[str, str]:
    return request.remote or "", request.headers.get("User-Agent", "")


async def login_submit(request: web.Request) -> web.Response:
    """Check the password. Unknown login and wrong password: the same answer, status and
    (one argon2 verification either way) time.

    The attempt's throttling slots are reserved and committed before the password is
    verified (:func:`throttle.reserve`), so concurrent attempts cannot outrun the limits."""
    form = await request.post()
    login = str(form.get("login", "")).strip()[:100]
    password = str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "")))
    ip, agent = _client(request)
    app = request.app
    limits = app[keys.SETTINGS].session
    now = app[keys.CLOCK].now()
    async with app[keys.SESSIONS]() as db:
        verdict = await throttle.reserve(db, limits, login, ip, now)
    if not verdict.allowed:
        response = _render_login(
            request,
            auth.csrf_token(request),
            login,
            lockout_message(verdict.retry_after_seconds),
            status=429,
        )
        response.headers["Retry-After"] = str(verdict.retry_after_seconds)
        return response
    if verdict.slowed:
        await throttle.slow_down()
    async with app[keys.SESSIONS]() as db:
        ctx = Ctx(db, Actor.system_actor(), app[keys.CLOCK])
        result = await accounts.authenticate(ctx, login, password) if login else None
        known = await db.scalar(select(User.id).where(User.login == login.lower()))
        throttle.record(
            db,
            at=now,
            login=login,
            user_id=result.user.id if result else known,
            ip=ip,
            user_agent=agent,
            method="password",
            success=result is not None,
            reason="" if result else "bad_credentials",
        )
        if result is None:
            await throttle.count_failure(db, limits, now)
            await db.commit()
            return _render_login(
                request, auth.csrf_token(request), login, WRONG_CREDENTIALS, status=401
            )
        await throttle.release(db, verdict)
        roles = await roles_of(db, result.user.id)
        await sessions.rotate(
            request,
            db,
            user_id=result.user.id,
            method="password",
            data={"must_change_password": True} if result.must_change_password else None,
        )
        await db.commit()
    if result.must_change_password:
        raise web.HTTPSeeOther(auth.PASSWORD_CHANGE_PATH)
    if auth.needs_role_choice(roles):
        raise web.HTTPSeeOther(f"{auth.ROLE_CHOICE_PATH}?next={next_path}")
    raise web.HTTPSeeOther(next_path or home_for(roles))


async def logout_page(request: web.Request) -> web.Response:
    view = auth.current_session(request)
    if view is None or not view.signed_in:
        raise web.HTTPSeeOther("/login")
    return render("logout.html", request, {"csrf_token": view.csrf_token})


async def logout_submit(request: web.Request) -> web.Response:
    """Sign out this browser; after an ESIA sign-in, also out of ESIA (single sign-out)."""
    view = auth.current_session(request)
    via_esia = view is not None and view.method == "esia"
    await sessions.end(request)
    esia = request.app.get(keys.ESIA)
    if via_esia and esia is not None:
        back = request.app[keys.SETTINGS].server.public_url.rstrip("/") + "/login"
        raise web.HTTPSeeOther(esia.logout_url(back))
    raise web.HTTPSeeOther("/login")


def _password_form(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    view = auth.current_session(request)
    return render(
        "password.html",
        request,
        {
            "csrf_token": view.csrf_token if view else "",
            "forced": bool(view and view.data.get("must_change_password")),
            "error": error,
        },
        status=status,
    )


async def password_page(request: web.Request) -> web.Response:
    view = auth.current_session(request)
    if view is None or view.user_id is None:
        raise web.HTTPSeeOther(f"/login?next={auth.PASSWORD_CHANGE_PATH}")
    return _password_form(request)


async def password_submit(request: web.Request) -> web.Response:
    view = auth.current_session(request)
    if view is None or view.user_id is None:
        raise web.HTTPSeeOther("/login")
    form = await request.post()
    new, repeat = str(form.get("new_password", "")), str(form.get("new_password2", ""))
    if new != repeat:
        return _password_form(request, "Новые пароли не совпадают.", 400)
    async with request.app[keys.SESSIONS]() as db:
        actor = Actor(user_id=view.user_id, roles=frozenset())
        ctx = Ctx(db, actor, request.app[keys.CLOCK])
        try:
            await accounts.change_password(ctx, str(form.get("current_password", "")), new)
        except InvalidInput as exc:
            return _password_form(request, str(exc), 400)
        await sessions.rotate_after_password_change(request, db)
        await db.commit()
    raise web.HTTPSeeOther("/account")


async def choose_role_page(request: web.Request) -> web.Response:
    view = auth.current_session(request)
    if view is None or view.user_id is None:
        raise web.HTTPSeeOther("/login")
    return render(
        "choose_role.html",
        request,
        {"csrf_token": view.csrf_token, "next": safe_next(request.query.get("next"))},
    )


async def choose_role_submit(request: web.Request) -> web.Response:
    view = auth.current_session(request)
    if view is None or view.user_id is None:
        raise web.HTTPSeeOther("/login")
    form = await request.post()
    side = str(form.get("side", ""))
    if side not in ("staff", "family"):
        raise web.HTTPBadRequest(reason="Выберите, в какой роли работать")
    await sessions.set_acting_role(request, side)
    next_path = safe_next(str(form.get("next", "")))
    raise web.HTTPSeeOther(next_path or ("/console" if side == "staff" else "/diary"))
