"""The portal feed over real HTTP in-process, on both databases, with independent verifiers:
Debian's ``xmlsec1`` for XML-DSig and PyJWT (not joserfc, which signs) for the JWS."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncEngine

from config import load_settings
from diary_core.attendance import set_attendance
from diary_core.clock import FixedClock
from diary_core.marks import record_mark
from diary_core.period_marks import set_period_mark
from gateway.app import create_app
from gateway.portal import setup_portal
from gateway.portal.clients import parse_public_keys, register_client
from gateway.portal.signing import self_signed_certificate
from tests.support.world import World

Client = Callable[[web.Application], Awaitable[TestClient]]  # type: ignore[type-arg]
PUBLIC_URL = "https://diary.example"
TOKEN_URL = PUBLIC_URL + "/portal/oauth/token"


def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture(scope="session")
def feed_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The gateway's feed key and self-signed certificate, as [feed] key_file / cert_file."""
    folder = tmp_path_factory.mktemp("feed")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (folder / "feed.key").write_bytes(pem(key))
    cert = self_signed_certificate(key, "ediary-gateway test")
    (folder / "feed.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return folder / "feed.key", folder / "feed.crt"


@pytest.fixture(scope="session")
def client_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def stranger_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def xmlsec_verify(document: bytes, cert: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    """``xmlsec1 --verify`` trusting only the feed's certificate. Missing xmlsec1 is a
    failure, not a skip: CI installs it (apt-get install -y xmlsec1)."""
    binary = shutil.which("xmlsec1")
    if binary is None:
        pytest.fail("xmlsec1 is not installed (apt-get install -y xmlsec1)")
    path = tmp / f"doc-{uuid.uuid4().hex}.xml"
    path.write_bytes(document)
    return subprocess.run(
        [binary, "--verify", "--trusted-pem", str(cert), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


@dataclass
class Portal:
    """The portal's side: its key, client id, and a way to call the gateway."""

    http: TestClient  # type: ignore[type-arg]
    clock: FixedClock
    key: rsa.RSAPrivateKey
    client_id: str
    kid: str
    tokens: dict[str, str] = field(default_factory=dict)

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(self.clock.now().timestamp())
        claims: dict[str, Any] = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": TOKEN_URL,
            "iat": now,
            "exp": now + 120,
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def assertion(
        self, key: rsa.RSAPrivateKey | None = None, alg: str = "RS256", **overrides: Any
    ) -> str:
        return jwt.encode(
            self.claims(**overrides), pem(key or self.key), algorithm=alg, headers={"kid": self.kid}
        )

    async def token_response(self, assertion: str, **form: str) -> Any:
        data = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            **form,
        }
        return await self.http.post("/portal/oauth/token", data=data)

    async def token(self, scope: str | None = None) -> str:
        form = {"scope": scope} if scope else {}
        resp = await self.token_response(self.assertion(), **form)
        assert resp.status == 200, await resp.text()
        return str((await resp.json())["access_token"])

    async def get(
        self, path: str, accept: str = "application/json", token: str | None = None, **headers: str
    ) -> Any:
        if token is None:
            token = self.tokens.get("default") or await self.token()
            self.tokens["default"] = token
        headers = {"Accept": accept, "Authorization": f"Bearer {token}", **headers}
        return await self.http.get(path, headers=headers)


async def make_app(db_url: str, feed_keys: tuple[Path, Path], clock: FixedClock, **env: str) -> Any:
    settings = load_settings(
        environ={
            "EDIARY_DATABASE_URL": db_url,
            "EDIARY_SERVER_PUBLIC_URL": PUBLIC_URL,
            "EDIARY_FEED_KEY_FILE": str(feed_keys[0]),
            "EDIARY_FEED_CERT_FILE": str(feed_keys[1]),
            **env,
        }
    )
    app = create_app(settings, clock=clock)
    if "/portal/oauth/token" not in {r.canonical for r in app.router.resources()}:
        setup_portal(app)  # until the lead wires it into create_app
    return app


async def register(
    world: World,
    key: rsa.RSAPrivateKey,
    *,
    scopes: frozenset[str] = frozenset({"progress.read", "changes.read"}),
    schools: list[int] | None = None,
    name: str = "Госуслуги",
) -> tuple[str, str]:
    jwks = parse_public_keys(public_pem(key))
    client_id = await register_client(
        world.session,
        name=name,
        jwks=jwks,
        scopes=scopes,
        school_ids=schools,
        now=world.clock.now(),
    )
    await world.session.commit()
    return client_id, str(jwks["keys"][0]["kid"])


@pytest.fixture
async def http(
    aiohttp_client: Client,
    db_url: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    feed_keys: tuple[Path, Path],
) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(await make_app(db_url, feed_keys, clock))


@pytest.fixture
async def portal(
    http: TestClient,  # type: ignore[type-arg]
    world: World,
    clock: FixedClock,
    client_key: rsa.RSAPrivateKey,
) -> Portal:
    """A client registered for every school, with both scopes."""
    client_id, kid = await register(world, client_key)
    return Portal(http, clock, client_key, client_id, kid)


@dataclass
class Marks:
    """Marks, an absence and a period mark of pupil_a1, written by his teachers."""

    five: int
    four: int
    two: int
    start: date = date(2025, 9, 1)
    end: date = date(2025, 10, 15)


async def pupil_snils(world: World, pupil_id: int) -> str:
    from sqlalchemy import select

    from diary_core.models import Pupil, User

    snils = await world.session.scalar(
        select(User.snils).join(Pupil, Pupil.user_id == User.id).where(Pupil.id == pupil_id)
    )
    assert snils
    return snils


@pytest.fixture
async def marks(world: World) -> Marks:
    from diary_core.lessons import record_lesson

    math = await world.ctx(world.teacher_math)
    wt = world.a.work_type_ids
    day = date(2025, 10, 1)
    five = await record_mark(
        math, pupil_id=world.pupil_a1, subject_id=world.math_a, day=day, value="5",
        work_type_id=wt["Контрольная работа"],
    )  # fmt: skip
    four = await record_mark(
        math, pupil_id=world.pupil_a1, subject_id=world.math_a, day=day + timedelta(days=1),
        value="4", work_type_id=wt["Ответ на уроке"],
    )  # fmt: skip
    russian = await world.ctx(world.ct_5a)
    two = await record_mark(
        russian, pupil_id=world.pupil_a1, subject_id=world.russian_a, day=day, value="2",
        work_type_id=wt["Диктант"],
    )  # fmt: skip
    lesson = await record_lesson(
        math, class_id=world.class_5a, subject_id=world.math_a, day=day, lesson_number=2
    )
    await set_attendance(math, pupil_id=world.pupil_a1, lesson_id=lesson.id, kind="н")
    await set_period_mark(
        math, pupil_id=world.pupil_a1, subject_id=world.math_a,
        period_id=world.a.quarter_ids[0], value="5",
    )  # fmt: skip
    await world.session.commit()
    return Marks(five.id, four.id, two.id)
