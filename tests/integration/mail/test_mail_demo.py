"""The demo's mailbox: what the local sink received, listed at /demo/mail (demo only)."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from config import Settings
from diary_core.clock import FixedClock
from diary_core.models import User
from gateway.app import create_app
from gateway.mail.demo import (
    DEMO_DOMAIN,
    MAIL_CSP,
    add_demo_mail_routes,
    demo_mail_settings,
    opt_in_demo_families,
)
from gateway.mail.sink import MailSink
from tests.integration.mail.conftest import outbox_rows, save_mark
from tests.support.world import World


async def test_demo_mailbox_lists_received_mail_and_shows_its_html_sandboxed(
    world: World, engine: AsyncEngine, clock: FixedClock, settings: Settings, sink: MailSink
) -> None:
    base = settings.server.public_url
    mail = demo_mail_settings(settings.mail, "127.0.0.1", settings.mail.port, base)
    demo = settings.replace("mail", **{k: getattr(mail, k) for k in ("sender", "base_url")})
    async with engine.begin() as conn:
        await conn.execute(update(User).where(User.id == world.parent_a1).values(login="parent"))
    assert await opt_in_demo_families(engine, ["parent"], clock.now(), ZoneInfo("UTC")) == 1
    app = create_app(demo, clock=clock)
    add_demo_mail_routes(app, sink)
    server = TestServer(app, host="127.0.0.1", port=demo.server.port)
    await server.start_server()
    try:
        await save_mark(world, world.pupil_a1)
        async with asyncio.timeout(15):
            await sink.wait_for(1)
        async with aiohttp.ClientSession() as http:
            page = await http.get(f"{base}/demo/mail")
            text = await page.text()
            assert "Почтовый ящик демонстрации" in text
            assert "Отметка: Артём Смирнов, 5А" in text
            assert f"parent@{DEMO_DOMAIN}" in text
            one = await http.get(f"{base}/demo/mail/0")
            assert one.headers["Content-Security-Policy"] == MAIL_CSP
            assert "Артём Смирнов, 5А" in await one.text()
            assert (await http.get(f"{base}/demo/mail/7")).status == 404
    finally:
        await server.close()
    assert [r.status for r in await outbox_rows(engine)] == ["sent"]


async def test_the_mailbox_exists_only_in_the_demo(
    world: World, settings: Settings, clock: FixedClock
) -> None:
    server = TestServer(create_app(settings, clock=clock), port=settings.server.port)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            assert (await http.get(f"{settings.server.public_url}/demo/mail")).status == 404
    finally:
        await server.close()
