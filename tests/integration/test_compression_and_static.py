"""Compression and static caching over HTTP: pages and JSON go gzip-compressed to a client that
accepts it and as they are to one that does not, tiny answers and the portal's signed feed are
never compressed; static files are addressed by their content's version, and a versioned
address is cached for a year while any other gets a short cache."""

from __future__ import annotations

import asyncio
import gzip
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import FixedClock
from gateway.middlewares import MIN_COMPRESSED_BYTES, _compressible, accepted_coding
from gateway.static_files import IMMUTABLE, SHORT, StaticVersions, content_version
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

STATIC_URL = re.compile(r"""/static/[^"'\s>]*""")


@dataclass
class Site:
    base: str
    world: World
    engine: AsyncEngine
    clock: FixedClock

    async def raw(self, user_id: int | None) -> aiohttp.ClientSession:
        """A client that leaves bodies as sent and sends only the Accept-Encoding it is told."""
        browser = Browser()
        if user_id is not None:
            await sign_in_as(browser, self.engine, user_id, self.clock.now())
        jar = browser.http.cookie_jar
        await browser.close()
        return aiohttp.ClientSession(
            cookie_jar=jar, auto_decompress=False, skip_auto_headers=["Accept-Encoding"]
        )

    async def fetch(
        self, user_id: int | None, path: str, accept_encoding: str | None
    ) -> tuple[aiohttp.ClientResponse, bytes]:
        session = await self.raw(user_id)
        headers = {"Accept-Encoding": accept_encoding} if accept_encoding is not None else {}
        try:
            async with session.get(self.base + path, headers=headers) as resp:
                return resp, await resp.read()
        finally:
            await session.close()


@pytest.fixture
async def site(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[Site]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as base:
        yield Site(base, world, engine, clock)


def _timetable_editor(site: Site) -> tuple[int, str]:
    return site.world.admin_a, "/console/admin/timetable"


@pytest.mark.parametrize("page", ["timetable editor", "diary"])
async def test_pages_are_gzipped_when_asked_and_plain_when_not(site: Site, page: str) -> None:
    user, path = (
        _timetable_editor(site) if page == "timetable editor" else (site.world.parent_a1, "/diary")
    )
    plain, plain_body = await site.fetch(user, path, None)
    assert plain.status == 200
    assert "Content-Encoding" not in plain.headers
    assert plain.headers["Content-Type"].startswith("text/html")
    assert "Accept-Encoding" in plain.headers.get("Vary", "")
    assert len(plain_body) >= MIN_COMPRESSED_BYTES

    packed, packed_body = await site.fetch(user, path, "gzip, deflate, br")
    assert packed.status == 200
    assert packed.headers["Content-Encoding"] == "gzip"
    assert int(packed.headers["Content-Length"]) == len(packed_body)
    assert "Accept-Encoding" in packed.headers.get("Vary", "")
    html = gzip.decompress(packed_body)
    # The same page, but for the per-request CSRF token in its forms.
    token = re.compile(rb'name="csrf_token" value="[^"]+"')
    assert token.sub(b"", html) == token.sub(b"", plain_body)
    assert len(packed_body) * 3 < len(plain_body)

    refused, refused_body = await site.fetch(user, path, "gzip;q=0, identity")
    assert "Content-Encoding" not in refused.headers
    assert refused_body.startswith(b"<!doctype html>")


async def test_timetable_editor_bytes_over_the_wire(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not a limit on sizes, a record of them: the editor's HTML as sent both ways."""
    user, path = _timetable_editor(site)
    _, plain = await site.fetch(user, path, None)
    _, packed = await site.fetch(user, path, "gzip")
    assert len(packed) < len(plain)
    with capsys.disabled():
        print(f"\ntimetable editor: {len(plain)} bytes plain, {len(packed)} bytes gzip")


async def test_small_answers_are_not_compressed(site: Site) -> None:
    # /healthz answers a few bytes of JSON: sent as they are even to a gzip client.
    health, body = await site.fetch(None, "/healthz", "gzip")
    assert health.status == 200 and len(body) < MIN_COMPRESSED_BYTES
    assert "Content-Encoding" not in health.headers
    assert "Vary" not in health.headers or "Accept-Encoding" not in health.headers["Vary"]


async def test_portal_answers_are_never_compressed(site: Site) -> None:
    resp, body = await site.fetch(None, "/portal/v1/schema/progress.xsd", "gzip")
    assert resp.status == 200 and len(body) >= MIN_COMPRESSED_BYTES
    assert "Content-Encoding" not in resp.headers
    assert body.startswith(b"<?xml")


def _json(path: str, etag: str | None = None) -> tuple[web.Request, web.Response]:
    request = make_mocked_request("GET", path, headers={"Accept-Encoding": "gzip"})
    response = web.json_response({"rows": ["отметка"] * 200})
    if etag is not None:
        response.headers["ETag"] = etag
    return request, response


def test_which_json_answers_are_compressed() -> None:
    assert _compressible(*_json("/api/v1/marks"))
    assert _compressible(*_json("/api/v1/marks", 'W/"7"'))
    # A strong ETag names the exact bytes (the API's marks, If-Match): left as they are.
    assert not _compressible(*_json("/api/v1/marks/1", '"7"'))
    # The portal's JSON too, whatever it carries: its documents are signed.
    assert not _compressible(*_json("/portal/v1/changes"))
    request = make_mocked_request("GET", "/api/v1/x", headers={"Accept-Encoding": "gzip"})
    assert not _compressible(request, web.json_response({"ok": True}))  # under 1 KB


async def test_static_css_is_versioned_immutable_and_gzipped(site: Site) -> None:
    _, page = await site.fetch(site.world.parent_a1, "/diary", None)
    css = re.search(rb'href="(/static/style\.css\?v=[0-9a-f]{12})"', page)
    assert css, "the diary links its style sheet by version"
    url = css.group(1).decode()
    stored = (Path(__file__).parents[2] / "gateway/static/style.css").read_bytes()
    assert url.endswith(content_version(stored))

    versioned, body = await site.fetch(None, url, None)
    assert versioned.status == 200 and body == stored
    assert (
        versioned.headers["Cache-Control"] == IMMUTABLE == ("public, max-age=31536000, immutable")
    )

    packed, packed_body = await site.fetch(None, url, "gzip")
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed_body) == stored
    assert packed.headers["Cache-Control"] == IMMUTABLE

    for unversioned in ("/static/style.css", "/static/style.css?v=000000000000"):
        resp, body = await site.fetch(None, unversioned, None)
        assert resp.status == 200 and body == stored
        assert resp.headers["Cache-Control"] == SHORT

    # A range is of the stored bytes: never compressed.
    session = await site.raw(None)
    try:
        headers = {"Accept-Encoding": "gzip", "Range": "bytes=0-9"}
        async with session.get(site.base + url, headers=headers) as ranged:
            assert ranged.status == 206
            assert "Content-Encoding" not in ranged.headers
            assert await ranged.read() == stored[:10]
    finally:
        await session.close()


async def _raw(base: str, method: str, path: str, headers: dict[str, str]) -> tuple[str, bytes]:
    """One request on its own connection, answer read to the close: (head, bytes after it)."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


async def test_bodiless_static_answers_stay_bodiless(site: Site) -> None:
    """A HEAD and a 304 have no body: not even an empty gzip stream."""
    _, page = await site.fetch(None, "/login", None)
    found = re.search(rb'href="(/static/style\.css\?v=[0-9a-f]{12})"', page)
    assert found
    url = found.group(1).decode()
    head, body = await _raw(site.base, "HEAD", url, {"Accept-Encoding": "gzip"})
    assert head.startswith("HTTP/1.1 200") and body == b"", (head, body)
    assert "Content-Encoding" not in head
    etag = re.search(r"(?im)^etag: ([^\r\n]+)", head)
    assert etag
    head, body = await _raw(
        site.base, "GET", url, {"Accept-Encoding": "gzip", "If-None-Match": etag.group(1)}
    )
    assert head.startswith("HTTP/1.1 304") and body == b"", (head, body)
    assert "Content-Encoding" not in head and "Vary: Accept-Encoding" in head


@pytest.mark.parametrize(
    "role_path",
    [
        ("parent_a1", "/diary"),
        ("parent_a1", "/messages"),
        ("parent_a1", "/announcements"),
        ("admin_a", "/console/admin/timetable"),
        ("admin_a", "/console"),
        ("teacher_math", "/console"),
        (None, "/login"),
        (None, "/help"),
    ],
)
async def test_every_static_reference_carries_a_version(
    site: Site, role_path: tuple[str | None, str]
) -> None:
    role, path = role_path
    user = getattr(site.world, role) if role else None
    resp, body = await site.fetch(user, path, None)
    assert resp.status == 200, path
    urls = STATIC_URL.findall(body.decode())
    assert urls, f"{path} references no static file"
    unversioned = [u for u in urls if not re.search(r"\?v=[0-9a-f]{12}$", u)]
    assert not unversioned, f"{path}: static addresses without a version: {unversioned}"


def test_version_changes_with_content(tmp_path: Path) -> None:
    (tmp_path / "site.css").write_bytes(b"body { color: black; }")
    first = StaticVersions(tmp_path).url("site.css")
    (tmp_path / "site.css").write_bytes(b"body { color: navy; }")
    second = StaticVersions(tmp_path).url("site.css")
    assert first.startswith("/static/site.css?v=") and second.startswith("/static/site.css?v=")
    assert first != second
    assert first.endswith(content_version(b"body { color: black; }"))
    (tmp_path / "site.css").write_bytes(b"body { color: black; }")
    assert StaticVersions(tmp_path).url("site.css") == first  # the content, not the time


def test_unknown_static_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "site.css").write_bytes(b"")
    with pytest.raises(LookupError, match=r"no static file 'missing\.css'.*site\.css"):
        StaticVersions(tmp_path).url("missing.css")


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        ("gzip, deflate, br", "gzip"),
        ("deflate", "deflate"),
        ("br", None),
        ("", None),
        ("gzip;q=0, deflate;q=0.5", "deflate"),
        ("*", "gzip"),
        ("*, gzip;q=0", "deflate"),
        ("GZIP", "gzip"),
    ],
)
def test_accepted_coding(header: str, coding: str | None) -> None:
    chosen = accepted_coding(make_mocked_request("GET", "/", headers={"Accept-Encoding": header}))
    assert (chosen.value if chosen else None) == coding
