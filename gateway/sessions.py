"""Server-side browser sessions.

The cookie holds only a random token (256 bits); the database keeps its SHA-256, the user,
the CSRF token and the timeouts. Security decisions, each in one place:

- ``HttpOnly``, ``SameSite=Lax``; ``Secure`` and the ``__Host-`` prefix whenever the public URL
  is https (the prefix pins the cookie to this host and path ``/``).
- A new token at every sign-in (:func:`rotate`): the pre-sign-in token stops working, so a
  planted cookie (session fixation) never becomes a signed-in session.
- Idle and absolute timeouts (settings ``session.*``); a session whose account was disabled or
  whose roles changed since sign-in is ended on its next use. That check loads the account as
  the core's :class:`Actor` (one statement for a family, two for staff), which the request
  then acts as (``auth.request_actor``) without reading the account again.
- Sign-out deletes the row; "sign out everywhere" deletes every row of the user.
- A password change ends the user's other sessions and gives this one a new token
  (:func:`rotate_after_password_change`); a re-issued one-time password or a disabled account
  ends all of them (:func:`end_all`, in the same transaction as the change).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from config import Settings
from diary_core.actors import load_actor, roles_of
from diary_core.errors import NotFound
from diary_core.models import User
from diary_core.policy import Actor
from gateway import keys
from gateway.storage import WebSession

_TOUCH_EVERY = timedelta(minutes=1)


@dataclass
class SessionView:
    """The current request's session, as handlers see it."""

    id_hash: str
    csrf_token: str
    user_id: int | None
    acting_role: str | None
    created_at: datetime
    method: str
    data: dict[str, Any] = field(default_factory=dict)
    actor: Actor | None = None  # the signed-in account with all its roles, read with the session

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None


REQUEST_KEY = web.RequestKey("web_session", SessionView)
_NEW_TOKEN_KEY = web.RequestKey("web_session_new_token", str)
CLEARED_KEY = web.RequestKey("web_session_cleared", bool)


def cookie_name(settings: Settings) -> str:
    return "__Host-ediary_session" if settings.server.is_https else "ediary_session"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _client_ip(request: web.Request) -> str:
    return request.remote or ""


def _view(row: WebSession) -> SessionView:
    return SessionView(
        row.id_hash,
        row.csrf_token,
        row.user_id,
        row.acting_role,
        row.created_at,
        row.method,
        dict(row.data or {}),
    )


async def _roles_fingerprint(db: AsyncSession, user_id: int) -> list[str]:
    return sorted(await roles_of(db, user_id))


_SESSION = select(
    WebSession.csrf_token,
    WebSession.user_id,
    WebSession.acting_role,
    WebSession.created_at,
    WebSession.last_seen_at,
    WebSession.expires_at,
    WebSession.method,
    WebSession.data,
).where(WebSession.id_hash == bindparam("id_hash"))


async def _live_actor(db: AsyncSession, user_id: int, data: dict[str, Any]) -> Actor | None:
    """The session's account as an actor, or None if it was disabled or its roles changed
    since sign-in (the session must then end)."""
    try:
        actor = await load_actor(db, user_id)
    except NotFound:
        return None
    return actor if data.get("roles") == sorted(actor.roles) else None


async def load(request: web.Request) -> SessionView | None:
    """The session named by the cookie, if it is alive; expired or stale ones are deleted."""
    token = request.cookies.get(cookie_name(request.app[keys.SETTINGS]))
    if not token or len(token) > 100:
        return None
    id_hash = _hash(token)
    now = request.app[keys.CLOCK].now()
    settings = request.app[keys.SETTINGS].session
    async with request.app[keys.SESSIONS]() as db:
        row = (await db.execute(_SESSION, {"id_hash": id_hash})).first()
        if row is None:
            return None
        data = dict(row.data or {})
        idle_limit = row.last_seen_at + timedelta(minutes=settings.idle_timeout_minutes)
        alive = now < row.expires_at and now < idle_limit
        actor = None
        if alive and row.user_id is not None:
            actor = await _live_actor(db, row.user_id, data)
            alive = actor is not None
        if not alive:
            await db.execute(delete(WebSession).where(WebSession.id_hash == id_hash))
            await db.commit()
            return None
        if now - row.last_seen_at >= _TOUCH_EVERY:
            await db.execute(
                update(WebSession).where(WebSession.id_hash == id_hash).values(last_seen_at=now)
            )
            await db.commit()
        return SessionView(
            id_hash,
            row.csrf_token,
            row.user_id,
            row.acting_role,
            row.created_at,
            row.method,
            data,
            actor,
        )


async def _create(
    request: web.Request,
    db: AsyncSession,
    *,
    user_id: int | None,
    method: str = "",
    acting_role: str | None = None,
    data: dict[str, Any] | None = None,
) -> str:
    token = secrets.token_urlsafe(32)
    now = request.app[keys.CLOCK].now()
    hours = request.app[keys.SETTINGS].session.absolute_timeout_hours
    payload = dict(data or {})
    if user_id is not None:
        payload["roles"] = await _roles_fingerprint(db, user_id)
        user = await db.get(User, user_id)
        payload["name"] = user.full_name if user else ""
    db.add(
        WebSession(
            id_hash=_hash(token),
            user_id=user_id,
            acting_role=acting_role,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=hours),
            ip=_client_ip(request)[:64],
            user_agent=request.headers.get("User-Agent", "")[:300],
            method=method,
            data=payload,
        )
    )
    await db.flush()
    request[_NEW_TOKEN_KEY] = token
    return token


async def ensure(request: web.Request, db: AsyncSession | None = None) -> SessionView:
    """The current session, or a new anonymous one (for the CSRF token of a sign-in form).

    Given ``db``, a new session is written in the caller's transaction, so that what the caller
    writes with it (an ESIA login transaction) costs one commit, not two."""
    current: SessionView | None = request.get(REQUEST_KEY)
    if current is not None:
        return current
    if db is not None:
        view = await _new_anonymous(request, db)
    else:
        async with request.app[keys.SESSIONS]() as own:
            view = await _new_anonymous(request, own)
            await own.commit()
    request[REQUEST_KEY] = view
    return view


async def _new_anonymous(request: web.Request, db: AsyncSession) -> SessionView:
    token = await _create(request, db, user_id=None)
    row = await db.get(WebSession, _hash(token))  # the identity map's object: no query
    assert row is not None
    return _view(row)


async def rotate(
    request: web.Request,
    db: AsyncSession,
    *,
    user_id: int,
    method: str,
    acting_role: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Sign in: drop the current session and issue a new token (never reuse the old id).
    Runs in the caller's transaction, so the sign-in and its session commit together."""
    current: SessionView | None = request.get(REQUEST_KEY)
    if current is not None:
        await db.execute(delete(WebSession).where(WebSession.id_hash == current.id_hash))
    await _create(request, db, user_id=user_id, method=method, acting_role=acting_role, data=data)


async def update_data(request: web.Request, **values: Any) -> None:
    """Store values in the current session (e.g. a verified ESIA identity awaiting a code)."""
    view: SessionView | None = request.get(REQUEST_KEY)
    if view is None:
        view = await ensure(request)
    async with request.app[keys.SESSIONS]() as db:
        row = await db.get(WebSession, view.id_hash)
        if row is None:
            return
        merged = dict(row.data or {})
        merged.update(values)
        for key in [k for k, v in merged.items() if v is None]:
            del merged[key]
        row.data = merged
        await db.commit()
        view.data = merged


async def set_acting_role(request: web.Request, role: str) -> None:
    view: SessionView = request[REQUEST_KEY]
    async with request.app[keys.SESSIONS]() as db:
        row = await db.get(WebSession, view.id_hash)
        if row is not None:
            row.acting_role = role
            await db.commit()
    view.acting_role = role


async def end(request: web.Request) -> None:
    """Sign out this browser."""
    view: SessionView | None = request.get(REQUEST_KEY)
    if view is None:
        return
    async with request.app[keys.SESSIONS]() as db:
        await db.execute(delete(WebSession).where(WebSession.id_hash == view.id_hash))
        await db.commit()
    request.pop(REQUEST_KEY, None)
    request[CLEARED_KEY] = True


async def end_all(db: AsyncSession, user_id: int) -> int:
    """Sign the user out everywhere (every browser, every gateway instance). Runs in the
    caller's transaction, so it commits with whatever made the old sessions untrustworthy:
    "sign out everywhere", a password change (:func:`rotate_after_password_change`), a
    re-issued one-time password or a disabled account (gateway/handlers/admin/staff.py,
    gateway/handlers/console/class_teacher.py)."""
    result = await db.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def rotate_after_password_change(request: web.Request, db: AsyncSession) -> None:
    """The user changed his password in this session: every other session of his ends, and
    this one continues under a new token (whoever copied the old one is out too). The forced
    change is done; the rest of the session (acting role, method) carries over. Runs in the
    caller's transaction, the one that changed the password."""
    view: SessionView = request[REQUEST_KEY]
    assert view.user_id is not None
    await end_all(db, view.user_id)
    carried = {k: v for k, v in view.data.items() if k not in ("roles", "name")}
    carried.pop("must_change_password", None)
    carried["password_changed"] = True
    await rotate(
        request,
        db,
        user_id=view.user_id,
        method=view.method,
        acting_role=view.acting_role,
        data=carried,
    )


@dataclass(frozen=True)
class ActiveSession:
    id_hash: str
    created_at: datetime
    last_seen_at: datetime
    ip: str
    user_agent: str
    method: str
    current: bool


async def active_sessions(request: web.Request, user_id: int) -> list[ActiveSession]:
    current: SessionView | None = request.get(REQUEST_KEY)
    async with request.app[keys.SESSIONS]() as db:
        rows = await db.scalars(
            select(WebSession)
            .where(WebSession.user_id == user_id)
            .order_by(WebSession.last_seen_at.desc())
        )
        return [
            ActiveSession(
                r.id_hash,
                r.created_at,
                r.last_seen_at,
                r.ip,
                r.user_agent,
                r.method,
                current is not None and r.id_hash == current.id_hash,
            )
            for r in rows
        ]


def apply_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """Set the cookie of a session created during this request (or clear a signed-out one)."""
    settings = request.app[keys.SETTINGS]
    name = cookie_name(settings)
    token = request.get(_NEW_TOKEN_KEY)
    if token:
        response.set_cookie(
            name,
            token,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=settings.server.is_https,
            max_age=settings.session.absolute_timeout_hours * 3600,
        )
    elif request.get(CLEARED_KEY):
        response.del_cookie(
            name, path="/", secure=settings.server.is_https, httponly=True, samesite="Lax"
        )
