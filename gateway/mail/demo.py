"""The demo's mailbox: ``ediary demo`` sends its mail to a local sink and shows it here.

``/demo/mail`` lists what the sink received (newest first); ``/demo/mail/{n}`` shows one
mail's HTML part alone, sandboxed: its own Content-Security-Policy allows the mail's inline
styles and nothing else (no scripts, no requests anywhere). The routes exist only in the
app ``ediary demo`` builds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from config import MailSettings
from diary_core.db import session_factory
from diary_core.models import User
from gateway.keys import DEMO_MAIL_SINK as SINK
from gateway.mail import preferences
from gateway.pages import render

if TYPE_CHECKING:
    from gateway.mail.sink import MailSink

DEMO_DOMAIN = "demo.school.example"
#: A mail's HTML shown alone: its inline styles may apply, nothing may run or load.
MAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


async def mailbox_page(request: web.Request) -> web.Response:
    mails = request.app[SINK].mails
    listed = [(n, m) for n, m in enumerate(mails)][::-1]
    return render("mail/demo_mailbox.html", request, {"mails": listed})


async def mail_html(request: web.Request) -> web.Response:
    mails = request.app[SINK].mails
    raw = request.match_info["n"]
    if not raw.isdigit() or int(raw) >= len(mails):
        raise web.HTTPNotFound()
    response = web.Response(text=mails[int(raw)].part("html"), content_type="text/html")
    response.headers["Content-Security-Policy"] = MAIL_CSP
    return response


def demo_mail_settings(mail: MailSettings, host: str, port: int, base_url: str) -> MailSettings:
    """The demo's ``[mail]``: its local sink, plain SMTP on loopback, links to the demo."""
    return dataclasses.replace(
        mail,
        host=host,
        port=port,
        security="none",
        username="",
        password="",
        sender=f"dnevnik@{DEMO_DOMAIN}",
        base_url=base_url,
        poll_seconds=1,
    )


def add_demo_mail_routes(app: web.Application, sink: MailSink) -> None:
    """The mailbox pages, on an app not yet started (``ediary demo`` only)."""
    from gateway.routes import DEMO_ROUTES

    app[SINK] = sink
    app.router.add_routes(DEMO_ROUTES)


async def opt_in_demo_families(
    engine: AsyncEngine, logins: Iterable[str], now: datetime, zone: ZoneInfo
) -> int:
    """Switch mail on for the demo's family accounts (to ``login@demo.school.example``) that
    never chose, so a mark saved in the demo shows up in its mailbox. Returns how many."""
    made = 0
    async with session_factory(engine)() as db:
        users = await db.execute(select(User.id, User.login).where(User.login.in_(list(logins))))
        for user_id, login in users:
            if await preferences.exists(db, user_id):
                continue
            choice = preferences.MailChoice(
                True, f"{login}@{DEMO_DOMAIN}", True, True, True, True, "instant", 18
            )
            await preferences.save(db, user_id, choice, now, zone)
            made += 1
        await db.commit()
    return made
