"""Every route of the gateway, in one list."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from gateway.handlers import health, public


def setup_routes(app: web.Application, static_dir: Path) -> None:
    app.router.add_get("/healthz", health.healthz, name="healthz")
    app.router.add_get("/", public.home, name="home")
    app.router.add_get("/help", public.help_page, name="help")
    app.router.add_static("/static/", static_dir, name="static", append_version=True)
