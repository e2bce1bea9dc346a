"""The application factory: one place where settings, database and routes are wired."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web

from config import Settings
from diary_core import russian
from diary_core.clock import Clock, SystemClock
from diary_core.db import create_engine, session_factory
from gateway import keys
from gateway.api import setup_api
from gateway.auth import session_middleware
from gateway.handlers import health
from gateway.http_errors import MAX_REQUEST_BYTES
from gateway.mail import mail_context
from gateway.middlewares import (
    compression_middleware,
    error_middleware,
    security_headers_middleware,
)
from gateway.portal import setup_portal
from gateway.routes import STATIC_DIR, setup_routes
from gateway.static_files import StaticVersions
from gosuslugi_adapter.client import EsiaClient
from gosuslugi_adapter.gost import backend as gost_backend

HERE = Path(__file__).parent
CleanupCtx = Callable[[web.Application], AsyncIterator[None]]
log = logging.getLogger("ediary.app")


def _database(settings: Settings) -> CleanupCtx:
    """Engine lifecycle: created at start-up, disposed at shutdown (``cleanup_ctx``)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        db = settings.database
        engine = create_engine(
            db.url, echo=db.echo, pool_size=db.pool_size, pre_ping=db.pool_pre_ping
        )
        app[keys.ENGINE] = engine
        app[keys.SESSIONS] = session_factory(engine)
        app[keys.SCHEMA] = keys.SchemaStatus()
        await health.check_schema(engine, app[keys.SCHEMA], at_startup=True)
        yield
        await engine.dispose()

    return ctx


def _esia(settings: Settings) -> CleanupCtx:
    """The ESIA client, when ESIA sign-in is configured (``esia.client_id``). Built at
    start-up so a missing key, certificate or ESIA token certificate stops the service
    (fail closed) instead of failing at a parent's first sign-in."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if not settings.esia.client_id:
            yield
            return
        client = EsiaClient.from_settings(settings)
        app[keys.ESIA] = client
        log.info(
            "ESIA sign-in: protocol %s, signer %s, GOST backend %s",
            settings.esia.protocol,
            settings.esia.signer,
            gost_backend().description,
        )
        yield
        await client.close()

    return ctx


async def _freeze_gc(app: web.Application) -> None:
    """Move everything loaded at start-up out of the garbage collector's sight: full
    collections then walk only what requests create (halves the grid page's p99 here)."""
    gc.freeze()


def local_time(moment: datetime | None, zone: ZoneInfo, fmt: str) -> str:
    """An aware UTC moment as people at the school read it (``[server] timezone``)."""
    return "" if moment is None else moment.astimezone(zone).strftime(fmt)


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    """The gateway. Stateless: everything it remembers lives in the database."""
    app = web.Application(
        middlewares=[
            compression_middleware,
            security_headers_middleware,
            error_middleware,
            session_middleware,
        ],
        client_max_size=MAX_REQUEST_BYTES,
    )
    app[keys.SETTINGS] = settings
    app[keys.CLOCK] = clock or SystemClock()
    app.cleanup_ctx.append(_database(settings))
    app.cleanup_ctx.append(_esia(settings))
    app.cleanup_ctx.append(mail_context(settings))
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # templates ship with the package: no stat() of them per render
    )
    # Every static address carries its file's content hash (gateway/static_files.py).
    app[keys.STATIC_VERSIONS] = StaticVersions(STATIC_DIR)
    env.globals["static"] = app[keys.STATIC_VERSIONS].url
    zone = ZoneInfo(settings.server.timezone)
    env.filters["local"] = lambda moment, fmt="%d.%m.%Y %H:%M": local_time(moment, zone, fmt)
    env.filters["waiting"] = russian.waiting  # a wait in days: «меньше дня», «2 дня», «5 дней»
    setup_api(app)
    setup_portal(app)
    setup_routes(app)
    app.on_startup.append(_freeze_gc)
    return app
