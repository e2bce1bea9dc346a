"""The edges of HTTP, answered like everything else (Russian pages for people, problem JSON
for the API, the portal's own problems under /portal/): an address that does not exist, a
method an address does not take, a body over the size limit, a database that cannot be
reached; and no answer to a signed-in person is kept in the browser's cache."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import FixedClock
from diary_core.errors import NOT_FOUND_DETAIL
from gateway.http_errors import MAX_REQUEST_BYTES
from gateway.portal.auth import TOKEN_PATH
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

#: What aiohttp answers with by itself; none of it may reach a person or a program.
ENGLISH = ("Not Found", "Method Not Allowed", "Request Entity Too Large", "Maximum request")
OVERSIZE = MAX_REQUEST_BYTES + 4096


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    b = Browser()
    yield b
    await b.close()


async def _sign_in(
    browser: Browser, base: str, engine: AsyncEngine, clock: FixedClock, user_id: int
) -> str:
    """Sign ``browser`` in; its CSRF token."""
    await sign_in_as(browser, engine, user_id, clock.now())
    return await browser.csrf(base + "/account")


def _page(resp: Any, text: str, status: int, title: str) -> None:
    assert resp.status == status, text
    assert resp.headers["Content-Type"].startswith("text/html")
    assert f"<h1>{title}</h1>" in text
    assert not [w for w in ENGLISH if w in text], text


def _problem(resp: Any, text: str, status: int) -> dict[str, Any]:
    assert resp.status == status, text
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert not [w for w in ENGLISH if w in text], text
    problem: dict[str, Any] = json.loads(text)
    assert problem["status"] == status
    return problem


# --- 404 and 405 ------------------------------------------------------------------------------


async def test_unknown_page_is_the_russian_not_found_page(base: str, browser: Browser) -> None:
    resp = await browser.get(base + "/no-such-page")
    text = await resp.text()
    _page(resp, text, 404, "Не найдено")
    assert NOT_FOUND_DETAIL in text


async def test_unknown_api_address_is_the_one_not_found_problem(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await _sign_in(browser, base, engine, clock, world.parent_a1)
    resp = await browser.get(base + "/api/v1/no-such-thing")
    problem = _problem(resp, await resp.text(), 404)
    assert problem == {
        "type": "about:blank",
        "title": "Не найдено",
        "status": 404,
        "detail": NOT_FOUND_DETAIL,
        "code": "not_found",
    }


async def test_unknown_portal_address_is_a_portal_problem(base: str, browser: Browser) -> None:
    resp = await browser.get(base + "/portal/v1/no-such-thing")
    problem = _problem(resp, await resp.text(), 404)
    assert problem["type"] == "urn:ediary-gateway:problem:not_found"
    assert problem["code"] == "not_found" and problem["title"] == "Не найдено"


async def test_wrong_method_on_a_page_is_the_russian_page_with_allow(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    token = await _sign_in(browser, base, engine, clock, world.parent_a1)
    resp = await browser.post(base + "/notifications/x/y", {"csrf_token": token})
    assert resp.status == 404  # (an unknown address, whatever the method)
    resp = await browser.http.put(
        base + "/diary", data={"csrf_token": token}, allow_redirects=False
    )
    text = await resp.text()
    _page(resp, text, 405, "Метод не поддерживается")
    assert "GET" in resp.headers["Allow"]


async def test_wrong_method_on_the_api_is_a_problem_with_allow(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    token = await _sign_in(browser, base, engine, clock, world.parent_a1)
    resp = await browser.http.put(
        base + "/api/v1/me/pupils", json={}, headers={"X-CSRF-Token": token}
    )
    problem = _problem(resp, await resp.text(), 405)
    assert problem["code"] == "method_not_allowed"
    assert problem["title"] == "Метод не поддерживается"
    assert "GET" in resp.headers["Allow"]


# --- 413 -------------------------------------------------------------------------------------


async def test_oversize_form_is_the_russian_page(base: str, browser: Browser) -> None:
    token = await browser.csrf(base + "/login")
    resp = await browser.post(
        base + "/login", {"csrf_token": token, "login": "x", "password": "y" * OVERSIZE}
    )
    text = await resp.text()
    _page(resp, text, 413, "Слишком большой запрос")
    assert f"{MAX_REQUEST_BYTES // (1024 * 1024)} МБ" in text


async def test_oversize_api_body_is_a_problem(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    token = await _sign_in(browser, base, engine, clock, world.teacher_math)
    resp = await browser.http.post(
        base + "/api/v1/marks",
        data=json.dumps({"comment": "я" * (OVERSIZE // 2)}),
        headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
    )
    problem = _problem(resp, await resp.text(), 413)
    assert problem["code"] == "payload_too_large"
    assert problem["title"] == "Слишком большой запрос"


async def test_oversize_portal_request_is_a_portal_problem(base: str, browser: Browser) -> None:
    resp = await browser.http.post(
        base + TOKEN_PATH, data={"grant_type": "client_credentials", "x": "y" * OVERSIZE}
    )
    problem = _problem(resp, await resp.text(), 413)
    assert problem["type"] == "urn:ediary-gateway:problem:payload_too_large"
    assert problem["title"] == "Слишком большой запрос"


# --- 503 -------------------------------------------------------------------------------------

UNREACHABLE = {
    "postgresql": lambda tmp: "postgresql+asyncpg://postgres@127.0.0.1:1/ediary",
    "sqlite": lambda tmp: f"sqlite+aiosqlite:///{tmp}",  # a directory: "unable to open"
}


@pytest.fixture(params=list(UNREACHABLE))
async def down(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A gateway whose database cannot be reached."""
    url = UNREACHABLE[request.param](tmp_path)
    async with running_gateway(gateway_settings(url, free_port())) as base:
        yield base


async def test_unreachable_database_is_503_with_retry_after_on_pages(
    down: str, browser: Browser
) -> None:
    resp = await browser.get(down + "/login")
    _page(resp, await resp.text(), 503, "Сервис временно недоступен")
    assert int(resp.headers["Retry-After"]) > 0


async def test_unreachable_database_is_503_with_retry_after_on_the_api(
    down: str, browser: Browser
) -> None:
    resp = await browser.get(
        down + "/api/v1/me/pupils", headers={"Cookie": "ediary_session=some-session-token"}
    )
    problem = _problem(resp, await resp.text(), 503)
    assert problem["code"] == "database_unavailable"
    assert int(resp.headers["Retry-After"]) > 0


async def test_unreachable_database_is_503_on_the_portal(down: str, browser: Browser) -> None:
    resp = await browser.get(
        down + "/portal/v1/changes", headers={"Authorization": "Bearer some-token"}
    )
    problem = _problem(resp, await resp.text(), 503)
    assert problem["type"] == "urn:ediary-gateway:problem:database_unavailable"
    assert int(resp.headers["Retry-After"]) > 0


# --- Cache-Control -----------------------------------------------------------------------------

#: Personal pages (and API reads) of each role; each must answer 200 and ``no-store``.
PERSONAL = {
    "parent_a1": (
        "/diary", "/messages", "/account", "/announcements", "/notifications",
        "/api/v1/me/pupils", "/api/v1/notifications", "/help",
    ),
    "pupil_a1_user": ("/diary", "/messages", "/account", "/notifications", "/api/v1/session"),
    "teacher_math": ("/console", "/messages", "/account", "/api/v1/conversations"),
    "ct_5a": ("/console", "/console/class/{class_5a}", "/messages", "/account"),
    "admin_a": (
        "/console", "/console/admin/staff", "/console/admin/audit", "/console/admin/classes",
        "/console/admin/replies", "/messages", "/account", "/api/v1/announcements",
    ),
}  # fmt: skip


@pytest.mark.parametrize("who", list(PERSONAL))
async def test_every_answer_to_a_signed_in_person_is_no_store(
    base: str,
    browser: Browser,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    who: str,
) -> None:
    await _sign_in(browser, base, engine, clock, getattr(world, who))
    for path in PERSONAL[who]:
        resp = await browser.get(base + path.format(class_5a=world.class_5a))
        assert resp.status == 200, path
        assert resp.headers.get("Cache-Control") == "no-store", path
    resp = await browser.get(base + "/no-such-page")  # refusals too
    assert resp.headers.get("Cache-Control") == "no-store"
    resp = await browser.get(base + "/static/style.css")
    assert resp.status == 200
    assert "no-store" not in resp.headers.get("Cache-Control", "")


async def test_signing_out_is_no_store_and_public_pages_may_be_cached(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await _sign_in(browser, base, engine, clock, world.parent_a1)
    resp = await browser.get(base + "/logout")
    assert resp.headers.get("Cache-Control") == "no-store"
    anonymous = Browser()
    try:
        for path in ("/static/style.css", "/healthz"):
            resp = await anonymous.get(base + path)
            assert resp.status == 200, path
            assert "no-store" not in resp.headers.get("Cache-Control", ""), path
        resp = await anonymous.get(base + "/api/v1/me/pupils")  # the API: always
        assert resp.status == 401
        assert resp.headers.get("Cache-Control") == "no-store"
    finally:
        await anonymous.close()
