"""Every way ESIA sign-in can fail, as the person sees it: a Russian page with a heading saying
what happened and what to do, the right HTTP status, and the technical words (ESIA's code and
description, the failed check, the transport error) only in the log. On both databases.

The emulator runs beside the gateway on loopback (tests/support/gateway.py); for "ESIA
unreachable" the gateway is pointed at a dead port or at a small stand-in for ESIA's token
endpoint while the browser still signs in at the real emulator.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import FixedClock
from gateway import keys
from gateway.app import create_app
from gateway.handlers.esia import STATUS
from gateway.storage import WebSession
from gosuslugi_adapter.errors import CODES
from tests.support.gateway import (
    Browser,
    Esia,
    free_port,
    gateway_settings,
    running_esia,
    running_gateway,
)

OID = "1000000001"
PERSON = {
    "oid": OID,
    "lastName": "Иванова",
    "firstName": "Мария",
    "middleName": "Петровна",
    "birthDate": "01.02.1985",
    "gender": "F",
    "snils": "112-233-445 95",
    "trusted": True,
    "email": "",
    "mobile": "",
    "kids": [],
}
#: English that must never reach the person: pieces of the adapter's log sentences.
LOG_ENGLISH = ("ESIA-0070", "ESIA said", "refused", "the person", "token", "Traceback")
TRY_AGAIN = 'href="/auth/esia/login"'
PASSWORD = 'href="/login"'


@pytest.fixture
async def esia(tmp_path: Path) -> AsyncIterator[tuple[Esia, dict[str, str]]]:
    async with running_esia([PERSON], tmp_path) as pair:
        yield pair


@pytest.fixture
def emulator(esia: tuple[Esia, dict[str, str]]) -> Esia:
    return esia[0]


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, esia: tuple[Esia, dict[str, str]], clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port(), esia[1]), clock) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    b = Browser()
    yield b
    await b.close()


@pytest.fixture
def esia_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="ediary.esia")
    return caplog


def visible_text(page: str) -> str:
    """What a person reads: the page without tags, entities resolved."""
    page = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def heading(page: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert found, page[:500]
    return html.unescape(found.group(1)).strip()


async def assert_russian_page(
    resp: aiohttp.ClientResponse, status: int, title: str, *sentences: str, retry: bool = True
) -> str:
    """The page has ``status``, the heading ``title``, the ``sentences``, the links that help,
    and none of the log's English."""
    page = await resp.text()
    assert resp.status == status, page
    assert resp.headers["Content-Type"].startswith("text/html")
    assert heading(page) == title
    text = visible_text(page)
    for sentence in sentences:
        assert sentence in text
    for english in LOG_ENGLISH:
        assert english not in page
    assert (TRY_AGAIN in page) is retry
    assert PASSWORD in page
    return text


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name == "ediary.esia")


async def signed_in(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return [u for u in await conn.scalars(select(WebSession.user_id)) if u is not None]


async def open_emulator_page(browser: Browser, base: str, esia_base: str = "") -> tuple[str, str]:
    """Start sign-in at the gateway and open ESIA's sign-in page; returns the page's URL and
    HTML. ``esia_base``: where the browser really finds ESIA when the gateway's ESIA address is
    elsewhere (the authorization request is the same wherever it is sent)."""
    to_esia = await browser.get(base + "/auth/esia/login")
    assert to_esia.status == 303, await to_esia.text()
    url = to_esia.headers["Location"]
    if esia_base:
        real = urlsplit(esia_base)
        url = urlunsplit(urlsplit(url)._replace(scheme=real.scheme, netloc=real.netloc))
    page = await browser.get(url)
    assert page.status == 200, await page.text()
    return url, await page.text()


async def redirected_by_esia(browser: Browser, base: str) -> str:
    """Start sign-in; ESIA (its ``error_redirect`` switch on) sends the browser straight back
    with an error: returns that callback URL."""
    to_esia = await browser.get(base + "/auth/esia/login")
    back = await browser.get(to_esia.headers["Location"])
    assert back.status == 302, await back.text()
    return back.headers["Location"]


async def press(browser: Browser, page_url: str, page: str, data: dict[str, str]) -> str:
    """Submit the emulator's form with ``data``; returns where ESIA redirects the browser."""
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    assert action is not None and 'name="oid"' in page
    back = await browser.post(urljoin(page_url, html.unescape(action.group(1))), data)
    assert back.status == 302, await back.text()
    return back.headers["Location"]


# ---------------------------------------------------------------- the person refuses


async def test_pressing_refuse_on_esia_shows_a_russian_page_and_logs_the_code(
    base: str,
    browser: Browser,
    emulator: Esia,
    engine: AsyncEngine,
    esia_log: pytest.LogCaptureFixture,
) -> None:
    page_url, page = await open_emulator_page(browser, base)
    assert '<button type="submit" name="deny" value="1">Отказаться</button>' in page
    callback = await press(browser, page_url, page, {"oid": OID, "deny": "1"})
    assert "error=access_denied" in callback and "ESIA-007004" in callback  # as ESIA sends it
    resp = await browser.get(callback)
    await assert_russian_page(
        resp,
        400,
        "Вы отказались от входа через Госуслуги",
        "Вы отказались от входа через Госуслуги или не разрешили электронному дневнику доступ "
        "к своим данным, поэтому вход не выполнен.",
        "Чтобы войти, начните вход заново и на странице Госуслуг разрешите доступ",
    )
    log = logged(esia_log)
    assert "ESIA-007004" in log and "access_denied" in log
    assert "the person or ESIA refused the request" in log
    assert await signed_in(engine) == []
    assert emulator.token_calls == []


async def test_unconfirmed_account_is_told_how_to_confirm_it(
    base: str, browser: Browser, emulator: Esia, esia_log: pytest.LogCaptureFixture
) -> None:
    emulator.emulator.switches.error_redirect = "ESIA-007055"
    resp = await browser.get(await redirected_by_esia(browser, base))
    await assert_russian_page(
        resp,
        400,
        "Учётная запись на Госуслугах не подтверждена",
        "Подтвердите личность на Госуслугах",
    )
    assert "ESIA-007055" in logged(esia_log)


async def test_every_esia_error_redirect_has_its_russian_page(
    base: str, emulator: Esia, engine: AsyncEngine, esia_log: pytest.LogCaptureFixture
) -> None:
    """ESIA sends the person back with ``error`` and ``error_description``, for each code ESIA
    documents: the page is the code's own Russian notice, never ESIA's words. (One gateway for
    all codes; a fresh browser for each.)"""
    for code, info in sorted(CODES.items()):
        esia_log.clear()
        emulator.emulator.switches.error_redirect = code
        browser = Browser()
        try:
            resp = await browser.get(await redirected_by_esia(browser, base))
            text = await assert_russian_page(
                resp,
                STATUS[info.notice.cause],
                info.notice.heading,
                info.notice.message,
                retry=info.notice.cause.retry_helps,
            )
        finally:
            await browser.close()
        assert info.meaning not in text, code
        assert re.search(r"[A-Za-z]{4,}", info.notice.heading + info.notice.message) is None
        log = logged(esia_log)
        assert code in log and info.error in log and info.meaning in log, code
    assert await signed_in(engine) == []


# ---------------------------------------------------------------- ESIA refuses the code


async def test_expired_or_used_code_at_the_token_endpoint_says_time_ran_out(
    base: str,
    browser: Browser,
    emulator: Esia,
    engine: AsyncEngine,
    esia_log: pytest.LogCaptureFixture,
) -> None:
    callback = await browser.esia_to_callback(base, OID)
    emulator.emulator.codes.clear()  # the code expired (or was spent) before the gateway used it
    resp = await browser.get(callback)
    await assert_russian_page(resp, 400, "Время на вход истекло", "Начните вход заново.")
    assert emulator.token_calls != []
    log = logged(esia_log)
    assert "ESIA-007011" in log and "invalid_grant" in log and "already used" in log
    assert await signed_in(engine) == []


# ---------------------------------------------------------------- ESIA's answer fails our checks


@pytest.mark.parametrize(
    ("switch", "check"),
    [
        ("bad_token_signature", "(signature)"),
        ("wrong_issuer", "(iss)"),
        ("expired_token", "(exp)"),
    ],
)
async def test_bad_token_does_not_blame_the_parent(
    switch: str,
    check: str,
    base: str,
    browser: Browser,
    emulator: Esia,
    engine: AsyncEngine,
    esia_log: pytest.LogCaptureFixture,
) -> None:
    setattr(emulator.emulator.switches, switch, True)
    resp = await browser.get(await browser.esia_to_callback(base, OID))
    await assert_russian_page(
        resp,
        502,
        "Не удалось подтвердить вход через Госуслуги",
        "Ответ портала Госуслуг не прошёл проверку безопасности, поэтому вход не выполнен.",
        "Вы ничего не сделали неправильно. Начните вход заново.",
        "Если ошибка повторится, сообщите администратору школы",
    )
    log = logged(esia_log)
    assert "TokenRejected" in log and f"ESIA token refused {check}" in log
    assert await signed_in(engine) == []


# ---------------------------------------------------------------- the login transaction


async def test_replayed_callback_says_the_sign_in_is_stale(
    base: str, browser: Browser, esia_log: pytest.LogCaptureFixture
) -> None:
    callback = await browser.esia_to_callback(base, OID)
    first = await browser.get(callback)
    assert first.status == 303, await first.text()  # signed in (to the one-time-code page)
    resp = await browser.get(callback)
    await assert_russian_page(
        resp,
        400,
        "Сеанс входа устарел",
        "Начните вход заново в этом же браузере.",
    )
    assert "without a live login transaction" in logged(esia_log)


async def test_callback_from_nowhere_says_the_sign_in_is_stale(base: str, browser: Browser) -> None:
    await browser.get(base + "/login")
    resp = await browser.get(base + "/auth/esia/callback?code=abc&state=no-such-state")
    await assert_russian_page(resp, 400, "Сеанс входа устарел", "Начните вход заново")


# ---------------------------------------------------------------- ESIA unreachable


@asynccontextmanager
async def gateway_with_esia_at(
    db_url: str,
    env: dict[str, str],
    esia_url: str,
    clock: FixedClock,
    esia_timeout: float | None = None,
) -> AsyncIterator[str]:
    """The gateway, its ESIA address replaced by ``esia_url``; ``esia_timeout`` shortens the ESIA
    client's (15 s in production) so a hanging ESIA is given up on quickly."""
    settings = gateway_settings(db_url, free_port(), {**env, "EDIARY_ESIA_BASE_URL": esia_url})
    if esia_timeout is None:
        async with running_gateway(settings, clock) as url:
            yield url
        return
    app = create_app(settings, clock=clock)
    server = TestServer(app, host="127.0.0.1", port=settings.server.port)
    await server.start_server()
    app[keys.ESIA]._timeout = aiohttp.ClientTimeout(total=esia_timeout)  # test only: ESIA's 15 s
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@asynccontextmanager
async def stand_in_token_endpoint(
    answer: Callable[[web.Request], Any],
) -> AsyncIterator[str]:
    """A server answering ESIA's token paths with ``answer`` (what a failing ESIA, or a proxy
    in front of it, sends)."""
    app = web.Application()
    app.router.add_post("/aas/oauth2/v3/te", answer)
    app.router.add_post("/aas/oauth2/te", answer)
    server = TestServer(app, host="127.0.0.1", port=free_port())
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def sign_in_through(browser: Browser, gateway: str, esia_base: str) -> str:
    page_url, page = await open_emulator_page(browser, gateway, esia_base)
    return await press(browser, page_url, page, {"oid": OID})


async def test_esia_refusing_connections_says_the_portal_is_unavailable(
    db_url: str,
    engine: AsyncEngine,
    esia: tuple[Esia, dict[str, str]],
    clock: FixedClock,
    browser: Browser,
    esia_log: pytest.LogCaptureFixture,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    async with gateway_with_esia_at(db_url, esia[1], dead, clock) as gateway:
        callback = await sign_in_through(browser, gateway, esia[0].base_url)
        resp = await browser.get(callback)
        await assert_russian_page(
            resp,
            503,
            "Портал Госуслуг недоступен",
            "Электронному дневнику не удалось связаться с порталом Госуслуг",
            "Попробуйте войти через несколько минут.",
        )
    log = logged(esia_log)
    assert "EsiaUnavailable" in log and "unreachable" in log and "ClientConnectorError" in log
    assert await signed_in(engine) == []


async def test_esia_answering_5xx_without_an_error_says_the_portal_is_unavailable(
    db_url: str,
    engine: AsyncEngine,
    esia: tuple[Esia, dict[str, str]],
    clock: FixedClock,
    browser: Browser,
    esia_log: pytest.LogCaptureFixture,
) -> None:
    async def bad_gateway(_request: web.Request) -> web.Response:
        return web.Response(
            status=502, text="<html>502 Bad Gateway</html>", content_type="text/html"
        )

    async with (
        stand_in_token_endpoint(bad_gateway) as broken,
        gateway_with_esia_at(db_url, esia[1], broken, clock) as gateway,
    ):
        resp = await browser.get(await sign_in_through(browser, gateway, esia[0].base_url))
        await assert_russian_page(resp, 503, "Портал Госуслуг недоступен")
    assert "answered HTTP 502 without an error" in logged(esia_log)


async def test_esia_under_maintenance_says_so(
    db_url: str,
    engine: AsyncEngine,
    esia: tuple[Esia, dict[str, str]],
    clock: FixedClock,
    browser: Browser,
    esia_log: pytest.LogCaptureFixture,
) -> None:
    async def maintenance(_request: web.Request) -> web.Response:
        error = {
            "error": "temporarily_unavailable",
            "error_description": "ESIA-007008: Service is temporarily unavailable",
        }
        return web.json_response(error, status=503)

    async with (
        stand_in_token_endpoint(maintenance) as busy,
        gateway_with_esia_at(db_url, esia[1], busy, clock) as gateway,
    ):
        resp = await browser.get(await sign_in_through(browser, gateway, esia[0].base_url))
        await assert_russian_page(
            resp,
            503,
            "Госуслуги временно недоступны",
            "На портале Госуслуг идут технические работы или он перегружен",
        )
    log = logged(esia_log)
    assert "ESIA-007008" in log and "temporarily_unavailable" in log


async def test_esia_not_answering_in_time_says_so(
    db_url: str,
    engine: AsyncEngine,
    esia: tuple[Esia, dict[str, str]],
    clock: FixedClock,
    browser: Browser,
    esia_log: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()

    async def hang(_request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({}, status=504)

    try:
        async with (
            stand_in_token_endpoint(hang) as slow,
            gateway_with_esia_at(db_url, esia[1], slow, clock, esia_timeout=0.5) as gateway,
        ):
            callback = await sign_in_through(browser, gateway, esia[0].base_url)
            resp = await browser.get(callback)
            release.set()
            await assert_russian_page(
                resp,
                504,
                "Госуслуги не ответили вовремя",
                "Портал Госуслуг слишком долго не отвечал, и вход не был завершён.",
            )
    finally:
        release.set()
    log = logged(esia_log)
    assert "EsiaTimeout" in log and "did not answer in time" in log
    assert await signed_in(engine) == []


# ---------------------------------------------------------------- not configured


async def test_unconfigured_esia_says_so_in_russian_on_both_paths(
    db_url: str, engine: AsyncEngine, clock: FixedClock, browser: Browser
) -> None:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        for path in ("/auth/esia/login", "/auth/esia/callback?code=x&state=y"):
            resp = await browser.get(url + path)
            await assert_russian_page(
                resp,
                503,
                "Вход через Госуслуги не настроен",
                "На этом сервере электронного дневника вход через Госуслуги не подключён.",
                "Войдите по логину и паролю, выданным в школе.",
                retry=False,
            )


async def test_signer_failing_says_sign_in_is_unavailable_and_logs_why(
    db_url: str,
    engine: AsyncEngine,
    esia: tuple[Esia, dict[str, str]],
    clock: FixedClock,
    browser: Browser,
    esia_log: pytest.LogCaptureFixture,
) -> None:
    """The crypto provider's command fails: our setup, so no "start again", only the password."""
    env = {**esia[1], "EDIARY_ESIA_SIGNER": "command", "EDIARY_ESIA_SIGN_COMMAND": "false"}
    async with running_gateway(gateway_settings(db_url, free_port(), env), clock) as url:
        resp = await browser.get(url + "/auth/esia/login")
        await assert_russian_page(
            resp,
            503,
            "Вход через Госуслуги временно недоступен",
            "Подключение электронного дневника к Госуслугам настроено с ошибкой",
            "Сообщите об этом администратору школы",
            retry=False,
        )
    log = logged(esia_log)
    assert "SignerError" in log and "the sign command failed (exit 1)" in log


# ---------------------------------------------------------------- the emulator's own pages

#: Latin words allowed on the emulator's pages: the system's id, ESIA's code, a parameter name.
ALLOWED_LATIN = re.compile(r"EDIARY-TEST|ESIA-\d{6}|redirect_uri")


def with_param(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def english_words(page: str) -> list[str]:
    return re.findall(r"[A-Za-z]{2,}", ALLOWED_LATIN.sub(" ", visible_text(page)))


async def test_emulator_pages_are_russian(
    base: str, browser: Browser, emulator: Esia, engine: AsyncEngine
) -> None:
    page_url, page = await open_emulator_page(browser, base)
    assert english_words(page) == []
    assert "Разрешить и войти" in page and "Отказаться" in page
    assert "фамилия, имя и отчество" in page and "СНИЛС детей" in page
    # A second press on a spent sign-in: ESIA's own error page.
    await press(browser, page_url, page, {"oid": OID})
    action = re.search(r'action="([^"]+)"', page)
    assert action is not None
    again = await browser.post(urljoin(page_url, html.unescape(action.group(1))), {"oid": OID})
    spent = await again.text()
    assert again.status == 400 and "Сеанс входа истёк или уже завершён" in spent
    assert english_words(spent) == []
    # A redirect_uri ESIA does not trust: an error page, not a redirect.
    refused = await browser.get(with_param(page_url, redirect_uri="http://evil.example/cb"))
    text = await refused.text()
    assert refused.status == 400 and "не разрешён для этой системы" in text
    assert english_words(text) == []
    # The form's target opened again by address (or by going back), and a page that is not
    # there: Russian instead of aiohttp's English "Method Not Allowed" / "Not Found".
    for path, status in ((html.unescape(action.group(1)), 405), ("/no/such/page", 404)):
        lost = await browser.get(urljoin(page_url, path))
        text = await lost.text()
        assert lost.status == status and "Вернитесь на сайт" in text, text
        assert english_words(text) == []
    # An unknown system.
    stranger = await browser.get(with_param(page_url, client_id="NOBODY"))
    text = await stranger.text()
    assert stranger.status == 400 and "не зарегистрирована в ЕСИА" in text
    assert english_words(text.replace("NOBODY", "")) == []
