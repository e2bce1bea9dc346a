"""A gateway under test, with the ESIA emulator beside it on loopback, and a browser-like
client that keeps cookies and follows nothing by itself."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from config import Settings, load_settings
from gateway.app import create_app
from gosuslugi_adapter.devkeys import generate_rsa_credentials
from gosuslugi_adapter.emulator import EMULATOR, Emulator, RegisteredClient, load_persons
from gosuslugi_adapter.emulator.app import make_emulator_app
from gosuslugi_adapter.emulator.token_issuer import TokenIssuer
from gosuslugi_adapter.key_files import load_certificate, load_private_key

CLIENT_ID = "EDIARY-TEST"
TOKEN_PATHS = ("/aas/oauth2/te", "/aas/oauth2/v3/te")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Esia:
    """The running emulator, how many times our gateway called its token endpoint, and a hook
    to rewrite its token responses (``tamper``) signed with its own key (``token_key_pem``)."""

    base_url: str
    emulator: Emulator
    token_key_pem: bytes = field(repr=False)
    token_cert_pem: bytes = field(repr=False)
    token_calls: list[str] = field(default_factory=list)
    tamper: Callable[[dict[str, Any]], dict[str, Any]] | None = None


@asynccontextmanager
async def running_esia(
    persons: list[dict[str, Any]], tmp: Path
) -> AsyncIterator[tuple[Esia, dict[str, str]]]:
    """The emulator with our client registered; yields it and the settings env for ESIA."""
    creds = generate_rsa_credentials("ediary test")
    key_file, cert_file = creds.write(tmp, "client")
    persons_file = tmp / "persons.json"
    persons_file.write_text(json.dumps(persons, ensure_ascii=False), "utf-8")
    client = RegisteredClient(CLIENT_ID, load_certificate(creds.cert_pem), None)
    token_creds = generate_rsa_credentials("ESIA token signing (test)")
    issuer = TokenIssuer(
        load_private_key(token_creds.key_pem), load_certificate(token_creds.cert_pem)
    )
    app = make_emulator_app([client], load_persons(persons_file), token_issuer=issuer)
    esia = Esia("", app[EMULATOR], token_creds.key_pem, token_creds.cert_pem)

    @web.middleware
    async def count_and_tamper(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path not in TOKEN_PATHS:
            return await handler(request)
        esia.token_calls.append(request.path)
        response = await handler(request)
        if esia.tamper is None or not isinstance(response, web.Response) or response.status != 200:
            return response
        assert response.text is not None
        return web.json_response(esia.tamper(json.loads(response.text)))

    app.middlewares.append(count_and_tamper)
    server = TestServer(app, host="127.0.0.1", port=free_port())
    await server.start_server()
    token_cert = tmp / "esia-token.pem"
    token_cert.write_bytes(token_creds.cert_pem)
    base = str(server.make_url("")).rstrip("/")
    esia.base_url = base
    env = {
        "EDIARY_ESIA_BASE_URL": base,
        "EDIARY_ESIA_CLIENT_ID": CLIENT_ID,
        "EDIARY_ESIA_SIGNER": "rsa",
        "EDIARY_ESIA_PROTOCOL": "v2",
        "EDIARY_ESIA_KEY_FILE": str(key_file),
        "EDIARY_ESIA_CERT_FILE": str(cert_file),
        "EDIARY_ESIA_CERTIFICATES": str(token_cert),
    }
    try:
        yield esia, env
    finally:
        await server.close()


def gateway_settings(db_url: str, port: int, extra: dict[str, str] | None = None) -> Settings:
    env = {
        "EDIARY_DATABASE_URL": db_url,
        "EDIARY_SERVER_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "EDIARY_SERVER_PORT": str(port),
    }
    env.update(extra or {})
    return load_settings(environ=env)


@asynccontextmanager
async def running_gateway(settings: Settings, clock: Any = None) -> AsyncIterator[str]:
    server = TestServer(
        create_app(settings, clock=clock), host="127.0.0.1", port=settings.server.port
    )
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


class Browser:
    """Cookies kept per browser, redirects not followed, CSRF tokens read from forms."""

    def __init__(self) -> None:
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), raise_for_status=False
        )

    async def close(self) -> None:
        await self.http.close()

    async def get(self, url: str, **kw: Any) -> aiohttp.ClientResponse:
        resp = await self.http.get(url, allow_redirects=False, **kw)
        await resp.read()
        return resp

    async def post(self, url: str, data: dict[str, str], **kw: Any) -> aiohttp.ClientResponse:
        resp = await self.http.post(url, data=data, allow_redirects=False, **kw)
        await resp.read()
        return resp

    async def csrf(self, url: str) -> str:
        text = await (await self.get(url)).text()
        found = re.search(r'name="csrf_token" value="([^"]+)"', text)
        assert found, f"no CSRF token on {url}"
        return found.group(1)

    async def login(self, base: str, login: str, password: str) -> aiohttp.ClientResponse:
        token = await self.csrf(base + "/login")
        return await self.post(
            base + "/login", {"csrf_token": token, "login": login, "password": password}
        )

    def cookie(self, name: str) -> str | None:
        for c in self.http.cookie_jar:
            if c.key == name:
                return c.value
        return None

    async def esia_to_callback(self, base: str, oid: str, next_path: str = "") -> str:
        """Start ESIA sign-in at the gateway, pick ``oid`` on the emulator's page; return the
        callback URL ESIA redirects to (not yet visited)."""
        start = base + "/auth/esia/login" + (f"?next={next_path}" if next_path else "")
        to_esia = await self.get(start)
        assert to_esia.status == 303, await to_esia.text()
        page_url = to_esia.headers["Location"]
        page = await self.get(page_url)
        html = await page.text()
        action = re.search(r'<form method="post" action="([^"]+)"', html)
        assert action is not None and 'name="oid"' in html, html[:500]
        back = await self.post(
            urljoin(page_url, action.group(1).replace("&amp;", "&")), {"oid": oid}
        )
        assert back.status in (302, 303), await back.text()
        return back.headers["Location"]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


BrowserFactory = Callable[[], Browser]


async def sign_in_as(
    browser: Browser,
    engine: Any,
    user_id: int,
    now: Any,
    *,
    acting_role: str | None = None,
) -> None:
    """Give ``browser`` a signed-in session for ``user_id`` without the password round trip
    (for tests of pages, not of sign-in). ``now`` must be the gateway's clock time."""
    import hashlib
    import secrets
    from datetime import timedelta

    from sqlalchemy.ext.asyncio import AsyncSession

    from diary_core.actors import roles_of
    from diary_core.models import User
    from gateway.storage import WebSession

    token = secrets.token_urlsafe(32)
    async with AsyncSession(engine) as db:
        user = await db.get(User, user_id)
        assert user is not None
        db.add(
            WebSession(
                id_hash=hashlib.sha256(token.encode()).hexdigest(),
                user_id=user_id,
                acting_role=acting_role,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=12),
                ip="127.0.0.1",
                user_agent="test",
                method="password",
                data={"roles": sorted(await roles_of(db, user_id)), "name": user.full_name},
            )
        )
        await db.commit()
    browser.http.cookie_jar.update_cookies({"ediary_session": token})
