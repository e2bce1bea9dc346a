"""Sign-in throttling and login history, kept in the database so every gateway instance sees
the same counts (docs/architecture.md, Storage).

Three budgets per window (``session.throttle_window_minutes``):

- **per login** (``max_failures_per_login``) and **per client address**
  (``max_failures_per_address``): a password check first *reserves* a slot in both counters,
  each with one atomic statement (``INSERT ... ON CONFLICT DO UPDATE ... WHERE count < limit
  RETURNING``, a row of ``sign_in_counters``), in its own short transaction committed before
  the password hash is verified. A full counter refuses with 429 and ``Retry-After``, the same
  for a login that exists and one that does not. So a burst of concurrent attempts can never
  check more passwords than the limit: each slot is taken by exactly one attempt. A right
  password hands its slots back (:func:`release`); a wrong one keeps them, so the counters are
  the failures (plus checks in flight) since the window opened.
- **overall** (``max_failures_overall``): failures of the whole service, counted after the
  check. It never refuses: a spent overall budget only slows every password check down
  (:func:`slow_down`). Refusing there would let anyone lock every password sign-in of the
  deployment with a flood of wrong passwords from many addresses; the per-login and
  per-address budgets already stop guessing one account and flooding from one address.

One-time ESIA link codes (``/auth/esia/link``) are throttled the same way, with budgets of
their own (:func:`link_code_budgets`): per pending portal identity and per address.

A counter's window is fixed: it opens at its first reservation and the next reservation after
``window`` starts a new one. ``Retry-After`` is the time until the window closes.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from config import SessionSettings
from gateway.storage import SignInCounter, SignInEvent

#: How long a password check waits while the overall failure budget is spent.
SLOWDOWN_SECONDS = 1.0

OVERALL_KEY = "all"


def login_key(login: str) -> str:
    return "login:" + login.strip().lower()[:100]


def address_key(ip: str) -> str:
    return "ip:" + ip[:64]


def link_code_budgets(settings: SessionSettings, oid: str, ip: str) -> tuple[tuple[str, int], ...]:
    """The budgets of one-time ESIA link codes: per pending portal identity (as many failures as
    a login gets) and per client address (as many as an address gets for passwords), counted
    apart from password sign-in so that neither can spend the other's."""
    return (
        ("esia-link:" + oid[:64], settings.max_failures_per_login),
        ("esia-link-ip:" + ip[:64], settings.max_failures_per_address),
    )


@dataclass(frozen=True)
class Slot:
    """A reserved place in one counter's window."""

    key: str
    window_start: datetime


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_seconds: int = 0
    #: The overall budget is spent: check the password, but only after :func:`slow_down`.
    slowed: bool = False
    slots: tuple[Slot, ...] = ()


def _upsert(db: AsyncSession, key: str, now: datetime) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` of a fresh counter, in the dialect that can say ``ON CONFLICT DO UPDATE``."""
    name = db.get_bind().dialect.name
    values = {"key": key, "window_start": now, "count": 1}
    if name == "postgresql":
        return postgresql.insert(SignInCounter).values(values)
    if name == "sqlite":
        return sqlite.insert(SignInCounter).values(values)
    raise RuntimeError(f"sign-in throttling supports PostgreSQL and SQLite, not {name}")


async def _take(
    db: AsyncSession, key: str, limit: int | None, now: datetime, since: datetime
) -> Slot | None:
    """Count one more in ``key``'s window, atomically: a window that closed starts afresh
    at ``now``; a full one (``limit``) is left alone and None is returned."""
    row = SignInCounter
    expired: ColumnElement[bool] = row.window_start <= since
    statement = (
        _upsert(db, key, now)
        .on_conflict_do_update(
            index_elements=[row.key],
            set_={
                "count": case((expired, 1), else_=row.count + 1),
                "window_start": case(
                    (expired, literal(now, row.window_start.type)), else_=row.window_start
                ),
            },
            where=None if limit is None else (expired | (row.count < limit)),
        )
        .returning(row.window_start)
    )
    taken = (await db.execute(statement)).scalar_one_or_none()
    return None if taken is None else Slot(key, taken)


async def _retry_after(db: AsyncSession, key: str, window: timedelta, now: datetime) -> int:
    start = await db.scalar(select(SignInCounter.window_start).where(SignInCounter.key == key))
    wait = (start + window - now).total_seconds() if start is not None else 1
    return max(1, math.ceil(wait))


async def reserve_budgets(
    db: AsyncSession, budgets: Sequence[tuple[str, int]], window: timedelta, now: datetime
) -> Verdict:
    """Reserve one slot in each ``(key, limit)`` budget, in the order given (every caller
    names them in one fixed order: no deadlock), or roll back and refuse if one is full.
    Commits nothing: the caller commits the slots before doing the checked work."""
    since = now - window
    slots = []
    for key, limit in budgets:
        slot = await _take(db, key, limit, now, since)
        if slot is None:
            await db.rollback()  # hands back the slots taken so far
            return Verdict(False, await _retry_after(db, key, window, now))
        slots.append(slot)
    return Verdict(True, slots=tuple(slots))


async def reserve(
    db: AsyncSession, settings: SessionSettings, login: str, ip: str, now: datetime
) -> Verdict:
    """Reserve a password check's slots (login first, then address) and commit them, or roll
    back and refuse if either budget is full. Call it in a transaction of its own, before the
    password is verified."""
    window = timedelta(minutes=settings.throttle_window_minutes)
    verdict = await reserve_budgets(
        db,
        (
            (login_key(login), settings.max_failures_per_login),
            (address_key(ip), settings.max_failures_per_address),
        ),
        window,
        now,
    )
    if not verdict.allowed:
        return verdict
    overall = (
        await db.execute(
            select(SignInCounter.count).where(
                SignInCounter.key == OVERALL_KEY, SignInCounter.window_start > now - window
            )
        )
    ).scalar_one_or_none()
    await db.commit()
    slowed = (overall or 0) >= settings.max_failures_overall
    return Verdict(True, slowed=slowed, slots=verdict.slots)


async def slow_down() -> None:
    """The price of a password check while the overall budget is spent."""
    await asyncio.sleep(SLOWDOWN_SECONDS)


async def release(db: AsyncSession, verdict: Verdict) -> None:
    """A right password: its slots were no failures, so they go back (to the window they were
    taken in; a window that has since restarted is left alone)."""
    for slot in verdict.slots:
        await db.execute(
            update(SignInCounter)
            .where(
                SignInCounter.key == slot.key,
                SignInCounter.window_start == slot.window_start,
                SignInCounter.count > 0,
            )
            .values(count=SignInCounter.count - 1)
        )


async def count_failure(db: AsyncSession, settings: SessionSettings, now: datetime) -> None:
    """One more failure against the overall budget (the per-login and per-address ones kept
    theirs when the attempt reserved its slots)."""
    since = now - timedelta(minutes=settings.throttle_window_minutes)
    await _take(db, OVERALL_KEY, None, now, since)


def record(
    db: AsyncSession,
    *,
    at: datetime,
    login: str,
    user_id: int | None,
    ip: str,
    user_agent: str,
    method: str,
    success: bool,
    reason: str = "",
) -> None:
    db.add(
        SignInEvent(
            at=at,
            login=login.lower()[:100],
            user_id=user_id,
            ip=ip[:64],
            user_agent=user_agent[:300],
            method=method,
            success=success,
            reason=reason,
        )
    )


async def history(db: AsyncSession, user_id: int, limit: int = 30) -> list[SignInEvent]:
    """The user's own sign-ins (successful and failed against his account), newest first."""
    rows = await db.scalars(
        select(SignInEvent)
        .where(SignInEvent.user_id == user_id)
        .order_by(SignInEvent.at.desc(), SignInEvent.id.desc())
        .limit(limit)
    )
    return list(rows)
