"""One audited portal request: authenticate the bearer, check scope and rate, run the work,
answer refusals as problems, and write the audit event (client, pupil, time, result) for
every request, refusals included, in the same transaction as the request's other writes.

Round trips are the feed's cost, so a request makes few: the bearer token is read together
with what the work needs first (a :class:`Lookup`). All of it is plain Core SQL on the
session's connection.

A request whose work only reads (``reads_only``: its writes wait in :attr:`Call.writes`)
runs its reads on PostgreSQL on a pooled connection without BEGIN and COMMIT and without an
ORM session (each read sees committed data, as it would inside a READ COMMITTED
transaction), gives the connection back, and hands its writes (its own, the rate count
and the audit event) to the group commit (:mod:`gateway.portal.commits`), which commits
them with those of the requests finishing at the same moment; it answers once they are
committed. Any other request, and any request
on SQLite, writes in its own transaction: on PostgreSQL in one statement (data-modifying
CTEs), elsewhere one statement after another.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from config import Settings
from diary_core import audit
from diary_core.errors import DiaryError
from diary_core.policy import PortalReader
from gateway import keys
from gateway.http_errors import (
    DATABASE_UNAVAILABLE,
    RETRY_AFTER_SECONDS,
    TOO_LARGE_DETAIL,
    core_problem,
    database_unreachable,
)
from gateway.keys import PORTAL
from gateway.portal import bearer_tokens as tokens
from gateway.portal import cache, commits, problems
from gateway.portal.clients import Client
from gateway.portal.problems import Problem
from gateway.portal.state import PortalState

log = logging.getLogger("ediary.portal")

_INVALID_FIELD_CODES = {
    "snils": "invalid_snils",
    "from": "invalid_range",
    "to": "invalid_range",
    "cursor": "invalid_cursor",
}

#: An INSERT built once, and its parameters (named apart from every other write's).
Write = commits.Write

#: Every kind of write a ``reads_only`` request hands to the group commit, in the form a
#: batch sends it: kept documents, rate counts and, last, the audit events.
BULKS = (
    cache.STORE_BULK,
    tokens.COUNT_BULK,
    commits.Bulk(audit.PORTAL_EVENT, audit.PORTAL_EVENTS, audit.PORTAL_EVENT_PARAMS),
)


@dataclass(frozen=True)
class Lookup:
    """What a request reads in the same round trip as its bearer token: a query built once
    with :func:`tokens.with_bearer`, its parameters, and the request's parsed input."""

    query: Select[Any]
    params: dict[str, Any]
    ask: Any = None


#: Parses a request (adding to the audit details as it goes) into its :class:`Lookup`.
Prepare = Callable[[web.Request, dict[str, Any]], Lookup]


@dataclass
class Call:
    """A request in progress, and what its audit event will say."""

    request: web.Request
    session: AsyncSession | None  # None: a reads_only request grouping its writes (serve)
    conn: AsyncConnection
    now: datetime
    settings: Settings
    state: PortalState
    client: Client | None = None
    reading: PortalReader | None = None  # the client as it reads, with its token's scopes
    school_id: int | None = None
    pupil_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    lookup: Lookup | None = None
    found: tuple[Any, ...] = ()  # the columns the lookup read with the bearer token
    writes: list[Write] = field(default_factory=list)  # made with the audit event

    def orm(self) -> AsyncSession:
        """The request's ORM session: every request that is not ``reads_only`` has one."""
        if self.session is None:
            raise RuntimeError("a reads_only request has a connection, not a session")
        return self.session

    def reader(self) -> PortalReader:
        """The client as the core's reads see it: the schools it serves and the scopes its
        bearer token holds. Every request with a scope has it once the bearer is checked."""
        if self.reading is None:
            raise RuntimeError("the request has no authenticated portal client")
        return self.reading


Work = Callable[[Call], Awaitable[web.Response]]


def _problem_of(exc: Exception) -> Problem:
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, DiaryError):  # statuses as everywhere else (gateway/http_errors.py)
        at = getattr(exc, "field", None) or ""
        return core_problem(exc, code=_INVALID_FIELD_CODES.get(at))
    if isinstance(exc, web.HTTPRequestEntityTooLarge):  # a body over client_max_size
        return Problem(413, "payload_too_large", TOO_LARGE_DETAIL)
    if database_unreachable(exc):
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return Problem(503, "database_unavailable", DATABASE_UNAVAILABLE, headers=retry)
    orig = getattr(exc, "orig", None)
    if isinstance(exc, DBAPIError) and "55P03" in (getattr(orig, "sqlstate", None) or ""):
        return problems.busy()  # lock_timeout waiting for the change log's writers
    log.exception("portal request failed")
    return Problem(500, "internal_error", "внутренняя ошибка; повторите позже")


async def _authorize(call: Call, scope: str, prepare: Prepare | None) -> None:
    """A live bearer token of an active client, holding ``scope``, within its rate.

    The request is parsed first (no database) so that what it asks for is read with the
    token, but a malformed request is refused only after the token is found good, exactly
    as if it had been parsed after: a client learns nothing before it authenticates."""
    scheme, _, token = call.request.headers.get("Authorization", "").partition(" ")
    if not scheme:
        raise problems.token_missing()
    if scheme.lower() != "bearer" or not token.strip():
        raise problems.token_invalid()
    details: dict[str, Any] = {}
    lookup, malformed = None, None
    if prepare is not None:
        try:
            lookup = prepare(call.request, details)
        except Exception as exc:  # raised below, once the bearer is known good
            malformed = exc
    if lookup is None:
        bearer = await tokens.authenticate(call.conn, token.strip(), call.now)
    else:
        bearer = await tokens.authenticate(
            call.conn, token.strip(), call.now, lookup.query, lookup.params
        )
    if bearer is None:
        raise problems.token_invalid()
    call.client = bearer.client
    reach = bearer.client.reach
    call.reading = replace(reach, scopes=reach.scopes & bearer.scopes)
    if scope not in bearer.scopes:
        raise problems.insufficient_scope(scope)
    if bearer.used_in_window >= call.settings.feed.rate_limit_per_minute:
        raise problems.rate_limited(tokens.retry_after(call.now))
    call.details.update(details)
    if malformed is not None:
        raise malformed
    call.lookup, call.found = lookup, bearer.found


def _writes(
    call: Call, action: str, response: web.Response, code: str | None
) -> tuple[list[Write], Write]:
    """What the request writes: its own rows and its rate count, and its audit event."""
    rows = list(call.writes)
    if call.client is not None:
        rows.append(tokens.count_request(call.conn.dialect.name, call.client, call.now))
    result = "ok" if response.status < 300 else "not_modified" if response.status == 304 else code
    event = audit.portal_event(
        call.client.label if call.client else "anonymous",
        action,
        call.now,
        school_id=call.school_id,
        pupil_id=call.pupil_id,
        status=response.status,
        result=result,
        **call.details,
    )
    return rows, event


async def _finish(call: Call, action: str, response: web.Response, code: str | None) -> None:
    """The request's writes, its rate count and its audit event; then commit."""
    rows, event = _writes(call, action, response, code)
    await commits.write_one(call.conn, [*rows, event])
    await call.orm().commit()


async def _roll_back(call: Call) -> None:
    """Undo the request's work (its audit event is still written, in a new transaction)."""
    call.writes.clear()
    if call.session is None:  # it read without a transaction: nothing to undo
        return
    await call.session.rollback()
    call.conn = await call.session.connection()


_NO_TRANSACTION = {"isolation_level": "AUTOCOMMIT"}


async def serve(
    request: web.Request,
    action: str,
    scope: str | None,
    work: Work,
    prepare: Prepare | None = None,
    *,
    reads_only: bool = False,
) -> web.Response:
    """Run ``work`` as the portal request ``action`` (``scope`` None: no bearer needed);
    ``prepare`` (see :class:`Lookup`) lets it read what it needs with the bearer token.
    ``reads_only``: the work writes nothing itself, only through :attr:`Call.writes`."""
    group = request.app[PORTAL].commits if reads_only else None  # PostgreSQL: commits.py
    if group is not None:
        return await _serve_grouped(request, action, scope, work, prepare, group)
    return await _serve_in_transaction(request, action, scope, work, prepare)


async def _run(
    call: Call, scope: str | None, work: Work, prepare: Prepare | None
) -> tuple[web.Response, str | None]:
    """The request's answer and, for a refusal, its problem code."""
    try:
        if scope is not None:
            await _authorize(call, scope, prepare)
        return await work(call), None
    except Exception as exc:
        problem = _problem_of(exc)
        if not isinstance(exc, Problem | DiaryError):
            await _roll_back(call)
        return problem.response(), problem.code


async def _serve_in_transaction(
    request: web.Request, action: str, scope: str | None, work: Work, prepare: Prepare | None
) -> web.Response:
    """The request in a transaction of its own on an ORM session, its writes included."""
    app = request.app
    async with app[keys.SESSIONS]() as session:
        conn = await session.connection()
        call = Call(request, session, conn, app[keys.CLOCK].now(), app[keys.SETTINGS], app[PORTAL])
        response, code = await _run(call, scope, work, prepare)
        try:
            await _finish(call, action, response, code)
        except Exception as exc:  # the request's own writes failed: answer and audit that
            await _roll_back(call)
            problem = _problem_of(exc)
            response = problem.response()
            await _finish(call, action, response, problem.code)
    return response


async def _serve_grouped(
    request: web.Request,
    action: str,
    scope: str | None,
    work: Work,
    prepare: Prepare | None,
    group: commits.GroupCommit,
) -> web.Response:
    """A ``reads_only`` request on PostgreSQL: its reads on a pooled connection without a
    transaction (nor an ORM session: nothing to track), its writes to the group commit once
    the connection is back in the pool; it answers when they are committed."""
    app = request.app
    async with app[keys.ENGINE].connect() as conn:
        await conn.execution_options(**_NO_TRANSACTION)
        call = Call(request, None, conn, app[keys.CLOCK].now(), app[keys.SETTINGS], app[PORTAL])
        response, code = await _run(call, scope, work, prepare)
        rows, event = _writes(call, action, response, code)
    try:
        await group.commit(rows, [event])
    except Exception as exc:  # the request's own writes failed: answer and audit that
        call.writes.clear()
        problem = _problem_of(exc)
        response = problem.response()
        rows, event = _writes(call, action, response, problem.code)
        await group.commit(rows, [event])
    return response
