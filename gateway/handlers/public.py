"""Pages anyone may open: the home page and the help (docs/regulation.md, clause 6.1)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from diary_core.models import School
from gateway import keys
from gateway.pages import render


async def home(request: web.Request) -> web.Response:
    async with request.app[keys.SESSIONS]() as session:
        schools = list(await session.scalars(select(School.name).order_by(School.name)))
    return render("home.html", request, {"schools": schools})


async def help_page(request: web.Request) -> web.Response:
    return render("help.html", request, {})
