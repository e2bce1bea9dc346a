"""Pages anyone may open: the home page and the help (regulation 6.1)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from diary_core.models import School
from gateway import keys


@aiohttp_jinja2.template("home.html")
async def home(request: web.Request) -> dict[str, Any]:
    async with request.app[keys.SESSIONS]() as session:
        schools = list(await session.scalars(select(School.name).order_by(School.name)))
    return {"schools": schools}


@aiohttp_jinja2.template("help.html")
async def help_page(request: web.Request) -> dict[str, Any]:
    return {}
