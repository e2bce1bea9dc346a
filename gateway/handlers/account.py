"""The user's own account: active sessions, sign-in history, linked ESIA identity, sign out
everywhere (docs/regulation.md, clause 6.2: every user answers for keeping his credentials safe)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select

from diary_core.errors import InvalidInput
from diary_core.models import ExternalIdentity, User
from gateway import auth, keys, sessions, throttle, useragent
from gateway.calendar.handlers import account_section as calendar_section
from gateway.export.handlers import account_section as personal_data_section
from gateway.mail import preferences
from gateway.pages import render

METHOD_TITLES = {"password": "логин и пароль", "esia": "Госуслуги"}


def _signed_in(request: web.Request) -> sessions.SessionView:
    view = auth.current_session(request)
    if view is None or view.user_id is None:
        raise web.HTTPSeeOther("/login?next=/account")
    return view


async def account_page(
    request: web.Request, *, mail_form: preferences.MailChoice | None = None, mail_error: str = ""
) -> web.Response:
    view = _signed_in(request)
    assert view.user_id is not None
    mail_settings = request.app[keys.SETTINGS].mail
    async with request.app[keys.SESSIONS]() as db:
        user = await db.get(User, view.user_id)
        assert user is not None
        history = await throttle.history(db, view.user_id)
        esia = list(
            await db.scalars(
                select(ExternalIdentity).where(ExternalIdentity.user_id == view.user_id)
            )
        )
        mail = mail_form or await preferences.load(
            db, view.user_id, user.email, mail_settings.default_digest_hour
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
            "mail_offered": mail_settings.enabled,
            "mail": mail,
            "mail_error": mail_error,
            "mail_saved": request.query.get("mail") == "saved",
            "hours": range(24),
        },
        status=400 if mail_error else 200,
    )


async def mail_submit(request: web.Request) -> web.Response:
    """Save the person's own mail preferences (opt-in; CSRF-checked like every form)."""
    view = _signed_in(request)
    assert view.user_id is not None
    if not request.app[keys.SETTINGS].mail.enabled:
        raise web.HTTPNotFound(reason="Уведомления по почте в этой школе не настроены")
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    try:
        choice = preferences.parse(form)
    except InvalidInput as exc:
        return await account_page(request, mail_form=_as_typed(form), mail_error=str(exc))
    zone = ZoneInfo(request.app[keys.SETTINGS].server.timezone)
    async with request.app[keys.SESSIONS]() as db:
        await preferences.save(db, view.user_id, choice, request.app[keys.CLOCK].now(), zone)
        await db.commit()
    raise web.HTTPSeeOther("/account?mail=saved#mail")


def _as_typed(form: dict[str, str]) -> preferences.MailChoice:
    """The refused form shown back as the person filled it in."""
    hour = form.get("digest_hour", "")
    return preferences.MailChoice(
        enabled=form.get("enabled") == "on",
        address=form.get("address", ""),
        mode=form.get("mode", "instant") if form.get("mode") in preferences.MODES else "instant",
        digest_hour=int(hour) if hour.isdigit() and int(hour) < 24 else 18,
        **{name: form.get(name) == "on" for name in preferences.SWITCHES},
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
