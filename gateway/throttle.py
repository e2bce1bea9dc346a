"""Sign-in throttling and login history, counted from ``sign_in_events`` in the database, so
every gateway instance sees the same counts (DESIGN §2).

Failures within the window are counted per login, per client address and overall; past a
limit the answer is 429 with ``Retry-After`` — the same for a login that exists and one that
does not, so the limit tells an attacker nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from config import SessionSettings
from gateway.state.models import SignInEvent


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_seconds: int = 0


async def _failures(
    db: AsyncSession, since: datetime, *conditions: ColumnElement[bool]
) -> tuple[int, datetime | None]:
    row = (
        await db.execute(
            select(func.count(), func.min(SignInEvent.at)).where(
                SignInEvent.success.is_(False), SignInEvent.at >= since, *conditions
            )
        )
    ).one()
    return int(row[0]), row[1]


async def check(
    db: AsyncSession, settings: SessionSettings, login: str, ip: str, now: datetime
) -> Verdict:
    window = timedelta(minutes=settings.throttle_window_minutes)
    since = now - window
    limits: tuple[tuple[int, tuple[ColumnElement[bool], ...]], ...] = (
        (settings.max_failures_per_login, (SignInEvent.login == login.lower(),)),
        (settings.max_failures_per_address, (SignInEvent.ip == ip,)),
        (settings.max_failures_overall, ()),
    )
    for limit, conditions in limits:
        count, oldest = await _failures(db, since, *conditions)
        if count >= limit and oldest is not None:
            wait = (oldest + window - now).total_seconds()
            return Verdict(False, max(1, math.ceil(wait)))
    return Verdict(True)


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
