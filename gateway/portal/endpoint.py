"""One audited portal request: authenticate the bearer, check scope and rate, run the work,
answer refusals as problems, and write the audit event (client, pupil, time, result) for
every request, refusals included, in the request's single transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from config import Settings
from diary_core import audit
from diary_core.errors import DiaryError, InvalidInput
from diary_core.progress import CursorExpired
from gateway import keys
from gateway.portal import problems, tokens
from gateway.portal.clients import Client
from gateway.portal.problems import Problem
from gateway.portal.state import PORTAL, PortalState

log = logging.getLogger("ediary.portal")

_INVALID_FIELD_CODES = {
    "snils": "invalid_snils",
    "from": "invalid_range",
    "to": "invalid_range",
    "cursor": "invalid_cursor",
}


@dataclass
class Call:
    """A request in progress, and what its audit event will say."""

    request: web.Request
    session: AsyncSession
    now: datetime
    settings: Settings
    state: PortalState
    client: Client | None = None
    school_id: int | None = None
    pupil_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


Work = Callable[[Call], Awaitable[web.Response]]


def _problem_of(exc: Exception) -> Problem:
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, CursorExpired):
        return problems.cursor_expired(str(exc))
    if isinstance(exc, InvalidInput):
        return problems.bad_request(_INVALID_FIELD_CODES.get(exc.field or "", exc.code), str(exc))
    if isinstance(exc, DiaryError):
        return problems.bad_request(exc.code, str(exc))
    orig = getattr(exc, "orig", None)
    if isinstance(exc, DBAPIError) and "55P03" in (getattr(orig, "sqlstate", None) or ""):
        return problems.busy()  # lock_timeout waiting for the change log's writers
    log.exception("portal request failed")
    return Problem(500, "internal_error", "внутренняя ошибка; повторите позже")


async def _authorize(call: Call, scope: str) -> None:
    """A live bearer token of an active client, holding ``scope``, within its rate."""
    scheme, _, token = call.request.headers.get("Authorization", "").partition(" ")
    if not scheme:
        raise problems.token_missing()
    if scheme.lower() != "bearer" or not token.strip():
        raise problems.token_invalid()
    bearer = await tokens.authenticate(call.session, token.strip(), call.now)
    if bearer is None:
        raise problems.token_invalid()
    call.client = bearer.client
    if scope not in bearer.scopes:
        raise problems.insufficient_scope(scope)
    if bearer.used_in_window >= call.settings.feed.rate_limit_per_minute:
        raise problems.rate_limited(tokens.retry_after(call.now))


async def _finish(call: Call, action: str, response: web.Response, code: str | None) -> None:
    if call.client is not None:
        await tokens.count_request(call.session, call.client, call.now)
    result = "ok" if response.status < 300 else "not_modified" if response.status == 304 else code
    audit.record_portal(
        call.session,
        call.client.label if call.client else "anonymous",
        action,
        call.now,
        school_id=call.school_id,
        pupil_id=call.pupil_id,
        status=response.status,
        result=result,
        **call.details,
    )
    await call.session.commit()


async def serve(request: web.Request, action: str, scope: str | None, work: Work) -> web.Response:
    """Run ``work`` as the portal request ``action`` (``scope`` None: no bearer needed)."""
    app = request.app
    async with app[keys.SESSIONS]() as session:
        call = Call(request, session, app[keys.CLOCK].now(), app[keys.SETTINGS], app[PORTAL])
        code: str | None = None
        try:
            if scope is not None:
                await _authorize(call, scope)
            response = await work(call)
        except Exception as exc:
            problem = _problem_of(exc)
            if not isinstance(exc, Problem | DiaryError):
                await session.rollback()
            response, code = problem.response(), problem.code
        await _finish(call, action, response, code)
    return response
