"""The gateway over real HTTP in-process: health, security headers, errors, public pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from config import load_settings
from gateway.app import create_app
from tests.support.world import World

Client = Callable[[web.Application], Awaitable[TestClient]]  # type: ignore[type-arg]


@pytest.fixture
async def client(aiohttp_client: Client, db_url: str, engine: AsyncEngine) -> TestClient:  # type: ignore[type-arg]
    settings = load_settings(environ={"EDIARY_DATABASE_URL": db_url})
    return await aiohttp_client(create_app(settings))


async def test_healthz_reports_a_migrated_database(client: TestClient) -> None:  # type: ignore[type-arg]
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok", "database": "ok"}


async def test_healthz_is_503_on_an_empty_database(aiohttp_client: Client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite'}"
    client = await aiohttp_client(create_app(load_settings(environ={"EDIARY_DATABASE_URL": url})))
    resp = await client.get("/healthz")
    assert resp.status == 503
    assert (await resp.json())["database"] == "not migrated"


async def test_security_headers_on_every_page(client: TestClient) -> None:  # type: ignore[type-arg]
    for path in ("/", "/help", "/no-such-page"):
        resp = await client.get(path)
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in resp.headers  # http: no HSTS


async def test_hsts_when_public_url_is_https(
    aiohttp_client: Client, db_url: str, engine: AsyncEngine
) -> None:
    settings = load_settings(
        environ={"EDIARY_DATABASE_URL": db_url, "EDIARY_SERVER_PUBLIC_URL": "https://d.example"}
    )
    client = await aiohttp_client(create_app(settings))
    resp = await client.get("/help")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_unknown_page_is_a_russian_404(client: TestClient) -> None:  # type: ignore[type-arg]
    resp = await client.get("/no-such-page")
    assert resp.status == 404
    assert "Не найдено" in await resp.text()


async def test_api_errors_are_problem_json(client: TestClient) -> None:  # type: ignore[type-arg]
    resp = await client.get("/api/v1/no-such-thing")  # anonymous: told to sign in first
    assert resp.status == 401
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["status"] == 401


async def test_home_lists_schools(world: World, client: TestClient) -> None:  # type: ignore[type-arg]
    text = await (await client.get("/")).text()
    assert "Школа А" in text and "Школа Б" in text


async def test_help_explains_how_to_get_credentials(client: TestClient) -> None:  # type: ignore[type-arg]
    text = await (await client.get("/help")).text()
    assert "классного" in text and "Госуслуг" in text
