"""Signed-in browser pages for world users without the password round trip: a session row
as the gateway writes one, and its cookie in a Playwright browser context."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from playwright.async_api import BrowserContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core.actors import roles_of
from diary_core.models import User
from gateway.storage import WebSession

COOKIE = "ediary_session"  # the gateway's cookie over plain http (tests run on loopback)


async def create_session(
    engine: AsyncEngine, user_id: int, now: datetime, *, acting_role: str | None = None
) -> str:
    """Write a live session for ``user_id`` and return its cookie token. ``now`` must be the
    gateway's clock time: the session expires 12 hours later, or sooner when idle."""
    token = secrets.token_urlsafe(32)
    async with AsyncSession(engine) as db:
        user = await db.get(User, user_id)
        assert user is not None, f"no user {user_id}"
        db.add(
            WebSession(
                id_hash=hashlib.sha256(token.encode()).hexdigest(),
                user_id=user_id,
                acting_role=acting_role,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=12),
                ip="127.0.0.1",
                user_agent="playwright",
                method="password",
                data={"roles": sorted(await roles_of(db, user_id)), "name": user.full_name},
            )
        )
        await db.commit()
    return token


async def sign_in(
    context: BrowserContext, base: str, engine: AsyncEngine, user_id: int, now: datetime
) -> None:
    """Sign ``context`` in as ``user_id`` on the gateway at ``base``."""
    token = await create_session(engine, user_id, now)
    await context.add_cookies([{"name": COOKIE, "value": token, "url": base}])
