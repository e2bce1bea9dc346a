"""The user's own account: active sessions, sign-in history, linked ESIA identity, sign out
everywhere (docs/regulation.md, clause 6.2: every user answers for keeping his credentials safe)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from diary_core.models import ExternalIdentity, User
from gateway import auth, keys, sessions, throttle, useragent
from gateway.calendar.handlers import account_section as calendar_section
from gateway.export.handlers import account_section as personal_data_section
from gateway.pages import render

METHOD_TITLES = {"password": "логин и пароль", "esia": "Госуслуги"}


def _signed_in(request: web.Request) -> sessions.SessionView:
    view = auth.current_session(request)
    if view is None or view.user_id is None:
        raise web.HTTPSeeOther("/login?next=/account")
    return view


async def account_page(request: web.Request) -> web.Response:
    view = _signed_in(request)
    assert view.user_id is not None
    async with request.app[keys.SESSIONS]() as db:
        user = await db.get(User, view.user_id)
        assert user is not None
        history = await throttle.history(db, view.user_id)
        esia = list(
            await db.scalars(
                select(ExternalIdentity).where(ExternalIdentity.user_id == view.user_id)
            )
        )
    return render(
        "account.html",
        request,
        {
            "user": user,
            "sessions": await sessions.active_sessions(request, view.user_id),
            "history": history,
            "esia": esia,
            "methods": METHOD_TITLES,
            "browser_of": useragent.describe,
            "csrf_token": view.csrf_token,
            "password_changed": view.data.get("password_changed", False),
            **await calendar_section(request, view.user_id),
            **await personal_data_section(request, view.user_id),
        },
    )


async def end_all_sessions(request: web.Request) -> web.Response:
    """Sign out everywhere: every session of this user, on every gateway instance."""
    view = _signed_in(request)
    assert view.user_id is not None
    async with request.app[keys.SESSIONS]() as db:
        await sessions.end_all(db, view.user_id)
        await db.commit()
    request[sessions.CLEARED_KEY] = True
    raise web.HTTPSeeOther("/login")
