"""Signing in through the state services portal (ESIA): ``/auth/esia/login`` and
``/auth/esia/callback``, and the one-time-code page for identities that cannot be linked.

Security decisions, in the order the callback takes them (nothing reaches ESIA's token
endpoint before the first four pass):
1. the browser has a session;
2. the ``state`` names a login transaction started by *this* session (login CSRF, a state
   from another browser);
3. the transaction is unexpired (10 minutes) and is spent atomically, once (replay; any
   gateway instance may complete it, none twice);
4. an ``error`` redirect from ESIA ends here with a clear page;
5. the code is exchanged and *every* token check of the adapter passes;
6. only then is the identity linked (docs/esia.md) and a *new* session issued.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import update

from diary_core import linking
from diary_core.actors import roles_of
from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from diary_core.policy import Actor
from gateway import auth, keys, sessions, throttle
from gateway.handlers.signin import home_for, safe_next
from gateway.pages import render
from gateway.storage import LoginTransaction
from gosuslugi_adapter.client import EsiaClient
from gosuslugi_adapter.errors import (
    LOGIN_NOT_FOUND,
    NOT_CONFIGURED,
    Cause,
    EsiaAuthorizationError,
    EsiaError,
    EsiaRemoteError,
    UserNotice,
)
from gosuslugi_adapter.identity import EsiaIdentity

log = logging.getLogger("ediary.esia")
TRANSACTION_TTL = timedelta(minutes=10)
PENDING_KEY = "esia_pending"


#: The HTTP status of each reason a sign-in through ESIA did not happen: the person's own
#: refusal or a stale login is a bad request; a wrong answer from ESIA is a bad gateway; ESIA
#: down (or our side misconfigured) is a service unavailable; ESIA too slow, a gateway timeout.
STATUS: dict[Cause, int] = {
    Cause.DECLINED: 400,
    Cause.EXPIRED: 400,
    Cause.REQUEST: 502,
    Cause.BAD_ANSWER: 502,
    Cause.UNAVAILABLE: 503,
    Cause.TIMEOUT: 504,
    Cause.SETUP: 503,
}


def _client(request: web.Request) -> EsiaClient | None:
    """The ESIA client, or None when ESIA sign-in is not configured on this server."""
    return request.app.get(keys.ESIA)


def _problem(request: web.Request, notice: UserNotice) -> web.Response:
    """The Russian page for a sign-in that did not happen: a heading, what happened and what to
    do, and the links that can help (starting again only when that can succeed)."""
    context = {
        "heading": notice.heading,
        "message": notice.message,
        "retry": notice.cause.retry_helps,
    }
    return render("esia_error.html", request, context, status=STATUS[notice.cause])


def _log_refusal(exc: EsiaError) -> None:
    """The technical description for the log (ESIA's code and words; never a token). ESIA's
    fields arrive in the browser's query, so they are logged quoted and cut short."""
    if isinstance(exc, EsiaRemoteError):
        level = logging.INFO if exc.cause in (Cause.DECLINED, Cause.EXPIRED) else logging.WARNING
        log.log(
            level,
            "ESIA sign-in refused: %s: %s (error=%r, error_description=%r)",
            exc.code,
            exc.info.meaning,
            exc.error[:100],
            exc.description[:300],
        )
    else:
        log.warning("ESIA sign-in failed (%s): %s", type(exc).__name__, exc)


async def esia_login(request: web.Request) -> web.Response:
    """Start: remember the transaction in the database, then send the browser to ESIA."""
    client = _client(request)
    if client is None:
        return _problem(request, NOT_CONFIGURED)
    nonce = secrets.token_urlsafe(24)
    try:
        authorization = await client.authorization_request(nonce=nonce)
    except EsiaError as exc:
        _log_refusal(exc)
        return _problem(request, exc.notice)
    now = request.app[keys.CLOCK].now()
    async with request.app[keys.SESSIONS]() as db:
        view = await sessions.ensure(request, db)  # a new visitor's session: same commit
        db.add(
            LoginTransaction(
                state=authorization.state,
                session_hash=view.id_hash,
                protocol=client.protocol.value,
                next_path=safe_next(request.query.get("next")),
                nonce=nonce,
                created_at=now,
                expires_at=now + TRANSACTION_TTL,
            )
        )
        await db.commit()
    raise web.HTTPSeeOther(authorization.url)


async def _spend_transaction(request: web.Request, state: str) -> LoginTransaction | None:
    """The transaction for ``state`` if this browser started it and it is unspent and fresh;
    spent in the same statement that checks it, so two instances cannot both use it."""
    view = auth.current_session(request)
    if view is None or not state or len(state) > 64:
        return None
    now = request.app[keys.CLOCK].now()
    async with request.app[keys.SESSIONS]() as db:
        result = await db.execute(
            update(LoginTransaction)
            .where(
                LoginTransaction.state == state,
                LoginTransaction.session_hash == view.id_hash,
                LoginTransaction.used_at.is_(None),
                LoginTransaction.expires_at > now,
            )
            .values(used_at=now)
        )
        if (result.rowcount or 0) != 1:  # type: ignore[attr-defined]
            await db.rollback()
            return None
        await db.commit()
        return await db.get(LoginTransaction, state)


def portal_person(identity: EsiaIdentity) -> linking.PortalPerson:
    """The adapter's neutral record in the core's terms."""
    return linking.PortalPerson(
        oid=identity.oid,
        last_name=identity.last_name,
        first_name=identity.first_name,
        middle_name=identity.middle_name,
        birth_date=identity.birth_date,
        snils=identity.snils,
        trusted=identity.trusted,
        children=tuple(
            linking.PortalChild(c.last_name, c.first_name, c.middle_name, c.birth_date, c.snils)
            for c in identity.children
        ),
    )


def _person_to_json(person: linking.PortalPerson) -> dict[str, Any]:
    data = dataclasses.asdict(person)
    data["birth_date"] = person.birth_date.isoformat() if person.birth_date else None
    for child in data["children"]:
        child["birth_date"] = child["birth_date"].isoformat() if child["birth_date"] else None
    return data


def _person_from_json(data: dict[str, Any]) -> linking.PortalPerson:
    from datetime import date

    def day(value: str | None) -> date | None:
        return date.fromisoformat(value) if value else None

    children = tuple(
        linking.PortalChild(
            c["last_name"], c["first_name"], c["middle_name"], day(c["birth_date"]), c["snils"]
        )
        for c in data.get("children", [])
    )
    return linking.PortalPerson(
        oid=data["oid"],
        last_name=data["last_name"],
        first_name=data["first_name"],
        middle_name=data["middle_name"],
        birth_date=day(data["birth_date"]),
        snils=data["snils"],
        trusted=bool(data["trusted"]),
        children=children,
    )


def _record(request: web.Request, db: Any, user_id: int | None, ok: bool, reason: str) -> None:
    throttle.record(
        db,
        at=request.app[keys.CLOCK].now(),
        login="",
        user_id=user_id,
        ip=request.remote or "",
        user_agent=request.headers.get("User-Agent", ""),
        method="esia",
        success=ok,
        reason=reason,
    )


async def _finish_sign_in(
    request: web.Request, db: Any, user_id: int, next_path: str
) -> web.Response:
    await sessions.rotate(request, db, user_id=user_id, method="esia")
    _record(request, db, user_id, True, "")
    roles = await roles_of(db, user_id)
    await db.commit()
    if auth.needs_role_choice(roles):
        raise web.HTTPSeeOther(f"{auth.ROLE_CHOICE_PATH}?next={next_path}")
    raise web.HTTPSeeOther(next_path or home_for(roles))


async def esia_callback(request: web.Request) -> web.Response:
    client = _client(request)
    if client is None:
        return _problem(request, NOT_CONFIGURED)
    query = dict(request.query)
    transaction = await _spend_transaction(request, query.get("state", ""))
    if transaction is None:
        log.info("ESIA callback without a live login transaction of this browser")
        return _problem(request, LOGIN_NOT_FOUND)
    try:
        code = client.parse_callback(query, transaction.state)
        tokens = await client.exchange_code(code, nonce=transaction.nonce or None)
        identity = await client.identity(tokens)
    except EsiaError as exc:
        _log_refusal(exc)
        if not isinstance(exc, EsiaAuthorizationError):  # ESIA's own refusals are not attacks
            async with request.app[keys.SESSIONS]() as db:
                _record(request, db, None, False, type(exc).__name__[:60])
                await db.commit()
        return _problem(request, exc.notice)
    person = portal_person(identity)
    async with request.app[keys.SESSIONS]() as db:
        ctx = Ctx(db, Actor.system_actor(), request.app[keys.CLOCK])
        outcome = await linking.sign_in_portal_person(ctx, person)
        if outcome.user_id is not None:
            return await _finish_sign_in(request, db, outcome.user_id, transaction.next_path)
        await db.commit()
    await sessions.update_data(
        request, **{PENDING_KEY: _person_to_json(person), "esia_next": transaction.next_path}
    )
    raise web.HTTPSeeOther("/auth/esia/link")


def _pending(request: web.Request) -> linking.PortalPerson:
    view = auth.current_session(request)
    data = view.data.get(PENDING_KEY) if view is not None else None
    if not data:
        raise web.HTTPSeeOther("/login")
    return _person_from_json(data)


async def link_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    person = _pending(request)
    return render(
        "esia_link.html",
        request,
        {
            "person": person,
            "csrf_token": auth.csrf_token(request),
            "error": error,
        },
        status=status,
    )


async def link_submit(request: web.Request) -> web.Response:
    """Link the verified portal identity with the class teacher's one-time code.

    Security: each code tried first takes a slot in two budgets, this pending portal identity
    and this client address (:func:`throttle.link_code_budgets`), committed before the code is
    looked up; so guessing codes stops at the limit even with requests in parallel (429 with
    ``Retry-After``). A right code hands its slots back."""
    person = _pending(request)
    form = await request.post()
    code = str(form.get("code", "")).strip()
    view = auth.current_session(request)
    next_path = safe_next(str(view.data.get("esia_next", "")) if view else "")
    limits = request.app[keys.SETTINGS].session
    now = request.app[keys.CLOCK].now()
    budgets = throttle.link_code_budgets(limits, person.oid, request.remote or "")
    window = timedelta(minutes=limits.throttle_window_minutes)
    async with request.app[keys.SESSIONS]() as db:
        verdict = await throttle.reserve_budgets(db, budgets, window, now)
        if not verdict.allowed:
            return await _too_many_codes(request, verdict.retry_after_seconds)
        await db.commit()
        ctx = Ctx(db, Actor.system_actor(), request.app[keys.CLOCK])
        try:
            outcome = await linking.link_with_code(ctx, person, code)
        except InvalidInput as exc:
            _record(request, db, None, False, "bad_link_code")
            await db.commit()
            return await link_page(request, str(exc), 400)
        assert outcome.user_id is not None
        await throttle.release(db, verdict)
        return await _finish_sign_in(request, db, outcome.user_id, next_path)


async def _too_many_codes(request: web.Request, retry_after: int) -> web.Response:
    minutes = max(1, -(-retry_after // 60))
    response = await link_page(
        request,
        "Слишком много попыток ввести код. Проверьте код у классного руководителя "
        f"и попробуйте снова через {minutes} мин.",
        429,
    )
    response.headers["Retry-After"] = str(retry_after)
    return response
