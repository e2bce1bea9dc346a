"""Access tokens, single-use assertion ids and per-client request counters, all in the
database so that any gateway instance answers any request."""

from __future__ import annotations

import hashlib
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, Subquery, bindparam, delete, func, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from diary_core.unnest import unnest
from gateway.portal.clients import Client, client_from
from gateway.portal.commits import Bulk
from gateway.storage import PortalAssertion, PortalClient, PortalRateCounter, PortalToken
from gateway.storage.driver import DriverQuery

WINDOW = timedelta(minutes=1)
RATE_SHARDS = 16
KEEP_EXPIRED = timedelta(hours=1)


def _insert(session: AsyncSession, model: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite alike)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(model)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(
    session: AsyncSession, client: Client, scopes: frozenset[str], now: datetime, lifetime: int
) -> str:
    """A new opaque bearer token; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        PortalToken(
            token_hash=token_hash(token),
            client_id=client.id,
            scopes=" ".join(sorted(scopes)),
            created_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        )
    )
    await session.flush()
    return token


async def use_assertion_id(
    session: AsyncSession, client: Client, jti: str, expires_at: datetime
) -> bool:
    """Record an assertion's jti; False if this client has used it before (a replay)."""
    stmt = (
        _insert(session, PortalAssertion)
        .values(client_id=client.id, jti=jti, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["client_id", "jti"])
        .returning(PortalAssertion.id)
    )
    return (await session.scalar(stmt)) is not None


async def prune(session: AsyncSession, now: datetime, leeway: timedelta) -> None:
    """Forget what can no longer matter: expired assertion ids, tokens, old counters."""
    await session.execute(delete(PortalAssertion).where(PortalAssertion.expires_at < now - leeway))
    await session.execute(delete(PortalToken).where(PortalToken.expires_at < now - KEEP_EXPIRED))
    await session.execute(
        delete(PortalRateCounter).where(PortalRateCounter.window_start < now - KEEP_EXPIRED)
    )


def window_of(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def _used(client_id: Any, now: datetime | None) -> Any:
    """Requests in the window (a bound parameter ``window`` when ``now`` is None)."""
    window = (
        bindparam("window", type_=PortalRateCounter.window_start.type)
        if now is None
        else window_of(now)
    )
    return select(func.coalesce(func.sum(PortalRateCounter.count), 0)).where(
        PortalRateCounter.client_id == client_id, PortalRateCounter.window_start == window
    )


async def used_in_window(session: AsyncSession, client: Client, now: datetime) -> int:
    """Requests of the client in the current window so far (token requests included)."""
    return int(await session.scalar(_used(client.id, now)) or 0)


_BEARER_COLUMNS = (  # plain columns, no ORM entity: this runs on every portal request
    PortalClient.id,
    PortalClient.client_id,
    PortalClient.name,
    PortalClient.scopes,
    PortalClient.school_ids,
    PortalToken.scopes.label("token_scopes"),
    _used(PortalClient.id, None).scalar_subquery().label("used"),
)


def with_bearer(also: Subquery | None = None) -> Select[Any]:
    """The bearer token's client and its request count, by the bound parameters
    ``token_hash``, ``now`` and ``window``; with ``also`` (a subquery of at most one row),
    its columns too, in the same round trip (NULL when it finds nothing). Build it once."""
    stmt = (
        select(*_BEARER_COLUMNS)
        .join(PortalToken, PortalToken.client_id == PortalClient.id)
        .where(
            PortalToken.token_hash == bindparam("token_hash"),
            PortalToken.expires_at > bindparam("now", type_=PortalToken.expires_at.type),
            PortalClient.active.is_(True),
        )
    )
    if also is None:
        return stmt
    return stmt.add_columns(*also.c).outerjoin(also, true())


_AUTHENTICATE = with_bearer()


@cache
def _driver_query(query: Select[Any]) -> DriverQuery:
    """The :class:`DriverQuery` of a lookup (statements hash by identity; the lookups are
    built once, a handful in all)."""
    return DriverQuery(query)


@dataclass(frozen=True)
class Bearer:
    client: Client
    scopes: frozenset[str]
    used_in_window: int  # requests of this client in the current window, before this one
    found: tuple[Any, ...] = ()  # the columns of ``also`` (see :func:`with_bearer`)


async def authenticate(
    db: AsyncSession | AsyncConnection,
    token: str,
    now: datetime,
    query: Select[Any] = _AUTHENTICATE,
    params: dict[str, Any] | None = None,
) -> Bearer | None:
    """The client behind a live bearer token (its client active), with its request count in
    the current window, in one query; None for an unknown or expired token. ``query`` may
    read more in the same round trip (:func:`with_bearer`), with its own ``params``."""
    args = {"token_hash": token_hash(token), "now": now, "window": window_of(now)}
    if params:
        args.update(params)
    if isinstance(db, AsyncConnection):
        row = await _driver_query(query).first(db, args)
    else:
        row = (await db.execute(query, args)).first()
    if row is None:
        return None
    width = len(_BEARER_COLUMNS)
    client = client_from(*row[: width - 2])
    return Bearer(
        client, frozenset(row[width - 2].split()), int(row[width - 1]), tuple(row[width:])
    )


def _count_statement(insert: Any) -> Any:
    return (
        insert(PortalRateCounter)
        .values(
            client_id=bindparam("rate_client"),
            window_start=bindparam("rate_window", type_=PortalRateCounter.window_start.type),
            shard=bindparam("rate_shard"),
            count=1,
        )
        .on_conflict_do_update(
            index_elements=["client_id", "window_start", "shard"],
            set_={"count": PortalRateCounter.count + 1},
        )
    )


#: Counting one request, by dialect (both know INSERT … ON CONFLICT).
_COUNT = {"postgresql": _count_statement(pg_insert), "sqlite": _count_statement(sqlite_insert)}


def _count_many() -> Any:
    """Counting any number of requests (PostgreSQL): one row per counter with how many of
    them it counts, written in key order, the lock order every batch follows."""
    counter = PortalRateCounter.__table__
    rows = unnest(
        {"rate_client": counter.c.client_id.type, "rate_window": counter.c.window_start.type,
         "rate_shard": counter.c.shard.type}
    )  # fmt: skip
    key = [rows.c.rate_client, rows.c.rate_window, rows.c.rate_shard]
    counts = select(*key, func.count()).group_by(*key).order_by(*key)
    stmt = pg_insert(PortalRateCounter).from_select(
        ["client_id", "window_start", "shard", "count"], counts
    )
    return stmt.on_conflict_do_update(
        index_elements=["client_id", "window_start", "shard"],
        set_={"count": PortalRateCounter.count + stmt.excluded.count},
    )


#: Counting requests in a group commit (gateway/portal/commits.py).
COUNT_BULK = Bulk(_COUNT["postgresql"], _count_many(), ("rate_client", "rate_window", "rate_shard"))


def count_request(dialect: str, client: Client, now: datetime) -> tuple[Any, dict[str, Any]]:
    """The statement and parameters that count one request in the client's current window,
    on a random shard row (concurrent requests of one client do not wait for each other's
    row lock), for the caller to run in the request's transaction."""
    params = {
        "rate_client": client.id,
        "rate_window": window_of(now),
        "rate_shard": random.randrange(RATE_SHARDS),
    }
    return _COUNT[dialect], params


def retry_after(now: datetime) -> int:
    """Seconds until the current window ends (at least 1)."""
    return max(1, int((window_of(now) + WINDOW - now).total_seconds() + 0.999))
