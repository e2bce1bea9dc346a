"""``/healthz``: is this instance able to serve (database reachable and migrated)?"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import text

from diary_core.db import is_current
from gateway import keys


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers and its schema is current, 503 otherwise.

    Load balancers poll this; it says what is wrong, never how (no connection strings)."""
    engine = request.app[keys.ENGINE]
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    if not await is_current(engine):
        return web.json_response({"status": "unavailable", "database": "not migrated"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})
