"""``/healthz``: is this instance able to serve (database reachable and migrated)?

Cheap enough to poll every second: the schema version is checked once, at start-up
(:func:`check_schema`), and a poll is then one round trip, ``SELECT 1`` outside any
transaction. While the schema is behind (or start-up could not tell), each poll checks it
again, so an ``ediary db upgrade`` run after start-up is noticed; once current, never again.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway import keys
from gateway.storage.schema import is_current

log = logging.getLogger("ediary.gateway")
#: Start-up does not wait longer than this for the database to say its schema version.
STARTUP_CHECK_SECONDS = 10.0


async def check_schema(
    engine: AsyncEngine, status: keys.SchemaStatus, *, at_startup: bool = False
) -> None:
    """Set ``status.current`` from the database's migration version (Alembic), unless it is
    already known to be current. At start-up an unreachable database is not fatal — it is
    logged, and ``/healthz`` says so; during a poll the error propagates to the caller."""
    if status.current:
        return
    if not at_startup:
        status.current = await is_current(engine)
        return
    try:
        status.current = await asyncio.wait_for(is_current(engine), STARTUP_CHECK_SECONDS)
    except Exception as exc:  # unreachable or too slow: /healthz reports it, and re-checks
        log.warning("schema version not checked at start-up: %s", type(exc).__name__)
        return
    if not status.current:
        log.warning("the database schema is not at the newest migration: run ediary db upgrade")


async def _ping(engine: AsyncEngine) -> None:
    """One round trip: autocommit, so no BEGIN before it and no ROLLBACK after it."""
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql("SELECT 1")


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers and its schema is current, 503 otherwise.

    Load balancers poll this; it says what is wrong, never how (no connection strings)."""
    engine = request.app[keys.ENGINE]
    schema = request.app[keys.SCHEMA]
    try:
        if schema.current:
            await _ping(engine)
        else:
            await check_schema(engine, schema)  # its query answers "reachable?" as well
    except Exception:
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    if not schema.current:
        return web.json_response({"status": "unavailable", "database": "not migrated"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})
