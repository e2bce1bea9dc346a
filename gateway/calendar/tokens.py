"""Subscription addresses: issuing, renewing, revoking, and finding the account of a token.

The token is 32 random bytes (URL-safe Base64); the database keeps its SHA-256 only. An
account has at most one live address: issuing a new one revokes the old one in the same
transaction, so a renewed address stops the old one at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.storage.calendar import CalendarFeed

TOKEN_PATTERN = r"[A-Za-z0-9_-]{43}"  # noqa: S105 - the shape of a token, not a token
_TOKEN = re.compile(TOKEN_PATTERN)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def live_feed(db: AsyncSession, user_id: int) -> CalendarFeed | None:
    """The account's live (not revoked) address, if it has one."""
    return await db.scalar(
        select(CalendarFeed).where(
            CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None)
        )
    )


async def revoke(db: AsyncSession, user_id: int, now: datetime) -> bool:
    """Revoke the account's live address; whether there was one."""
    result = await db.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


async def issue(db: AsyncSession, user_id: int, now: datetime) -> str:
    """A new address for the account, the old one (if any) revoked; the token, shown once."""
    await revoke(db, user_id, now)
    token = secrets.token_urlsafe(32)
    db.add(CalendarFeed(token_hash=token_hash(token), user_id=user_id, created_at=now))
    await db.flush()
    return token


async def live_by_token(db: AsyncSession, token: str) -> CalendarFeed | None:
    """The live address carrying ``token``; None for an unknown, malformed or revoked one
    (the caller answers all three alike)."""
    if not _TOKEN.fullmatch(token):
        return None
    return await db.scalar(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == token_hash(token), CalendarFeed.revoked_at.is_(None)
        )
    )
