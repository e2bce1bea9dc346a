"""The account page's mail form and the one-click unsubscribe link, over HTTP."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from config import Settings
from diary_core.clock import FixedClock
from diary_core.db import session_factory
from gateway.mail.sink import MailSink
from gateway.storage.mail import MailPreference
from tests.integration.mail.conftest import opt_in, outbox_rows, save_mark, token_of
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World


@pytest.fixture
async def base(settings: Settings, world: World, clock: FixedClock) -> AsyncIterator[str]:
    async with running_gateway(settings, clock) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    b = Browser()
    yield b
    await b.close()


async def _preference(engine: AsyncEngine, user_id: int) -> MailPreference | None:
    async with session_factory(engine)() as db:
        return await db.get(MailPreference, user_id)


def _form(csrf: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": csrf, "digest_hour": "18", "mode": "instant", **fields}


async def test_parent_opts_in_on_account_page_and_gets_the_mark_by_mail(
    base: str, browser: Browser, world: World, engine: AsyncEngine, clock: FixedClock,
    sink: MailSink,
) -> None:  # fmt: skip
    await sign_in_as(browser, engine, world.parent_a1, clock.now())
    page = await (await browser.get(base + "/account")).text()
    assert "Уведомления по почте" in page and "Присылать уведомления на почту" in page
    csrf = await browser.csrf(base + "/account")
    form = _form(csrf, enabled="on", address="smirnova@example.ru", marks="on", messages="on")
    saved = await browser.post(base + "/account/mail", form)
    assert saved.status == 303 and saved.headers["Location"] == "/account?mail=saved#mail"
    pref = await _preference(engine, world.parent_a1)
    assert pref is not None and pref.enabled and pref.marks and not pref.timetable
    assert (
        "Настройки писем сохранены"
        in await (await browser.get(base + "/account?mail=saved")).text()
    )
    await save_mark(world, world.pupil_a1)  # the gateway's own worker sends it
    async with asyncio.timeout(15):
        [mail] = await sink.wait_for(1)
    assert mail.message["Subject"] == "Отметка: Артём Смирнов, 5А"


async def test_mail_form_without_csrf_token_is_refused(
    base: str, browser: Browser, world: World, engine: AsyncEngine, clock: FixedClock
) -> None:
    await sign_in_as(browser, engine, world.parent_a1, clock.now())
    form = {"enabled": "on", "address": "x@example.ru", "mode": "instant", "digest_hour": "18"}
    refused = await browser.post(base + "/account/mail", form)
    assert refused.status == 403
    assert await _preference(engine, world.parent_a1) is None


async def test_bad_address_is_refused_in_russian(
    base: str, browser: Browser, world: World, engine: AsyncEngine, clock: FixedClock
) -> None:
    await sign_in_as(browser, engine, world.parent_a1, clock.now())
    csrf = await browser.csrf(base + "/account")
    answer = await browser.post(base + "/account/mail", _form(csrf, enabled="on", address="нет"))
    assert answer.status == 400
    assert "укажите адрес электронной почты" in await answer.text()
    assert await _preference(engine, world.parent_a1) is None


async def test_one_click_unsubscribe_needs_no_session_and_is_idempotent(
    base: str, browser: Browser, world: World, engine: AsyncEngine, clock: FixedClock
) -> None:
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    token = await token_of(engine, world.parent_a1)
    url = f"{base}/mail/unsubscribe/{token}"
    shown = await browser.get(url)
    assert shown.status == 200 and "Отписаться от писем дневника?" in await shown.text()
    assert re.search(rf'<form method="post" action="/mail/unsubscribe/{token}"', await shown.text())
    pref = await _preference(engine, world.parent_a1)
    assert pref is not None and pref.enabled  # a GET (a link scanner) changes nothing
    body = {"List-Unsubscribe": "One-Click"}
    for _ in range(2):
        done = await browser.post(url, body)
        assert done.status == 200 and "Вы отписались от писем" in await done.text()
    pref = await _preference(engine, world.parent_a1)
    assert pref is not None and not pref.enabled
    await save_mark(world, world.pupil_a1)
    assert await outbox_rows(engine) == []


async def test_unknown_unsubscribe_token_is_404_and_changes_nothing(
    base: str, browser: Browser, world: World, engine: AsyncEngine, clock: FixedClock
) -> None:
    await opt_in(engine, clock, world.parent_a1, "smirnova@example.ru")
    token = await token_of(engine, world.parent_a1)
    for method in ("get", "post"):
        call = getattr(browser, method)
        args = ({"List-Unsubscribe": "One-Click"},) if method == "post" else ()
        answer = await call(f"{base}/mail/unsubscribe/{token[:-2]}xx", *args)
        assert answer.status == 404 and "недействительна" in await answer.text()
    pref = await _preference(engine, world.parent_a1)
    assert pref is not None and pref.enabled


async def test_account_page_without_mail_server_offers_no_form(
    db_url: str, browser: Browser, world: World, engine: AsyncEngine, clock: FixedClock
) -> None:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        await sign_in_as(browser, engine, world.parent_a1, clock.now())
        page = await (await browser.get(url + "/account")).text()
        assert "Школа не настроила отправку писем" in page and "/account/mail" not in page
        csrf = await browser.csrf(url + "/account")
        answer = await browser.post(url + "/account/mail", _form(csrf, enabled="on"))
        assert answer.status == 404
