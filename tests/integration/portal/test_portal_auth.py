"""Client authentication (RFC 7523 private_key_jwt) and bearer tokens: every refusal with
the right status, and an audit event for each."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from diary_core.clock import FixedClock
from diary_core.models import AuditEvent
from gateway.storage import PortalToken
from tests.integration.portal.conftest import (
    Client,
    Portal,
    make_app,
    pupil_snils,
    register,
)
from tests.support.world import World


async def test_valid_assertion_gets_a_short_lived_token_stored_only_hashed(
    portal: Portal, world: World
) -> None:
    resp = await portal.token_response(portal.assertion())
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "no-store"
    body = await resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert set(body["scope"].split()) == {"progress.read", "changes.read"}
    stored = list(await world.session.scalars(select(PortalToken.token_hash)))
    assert stored == [hashlib.sha256(body["access_token"].encode()).hexdigest()]


async def refused(portal: Portal, assertion: str, status: int = 401, **form: str) -> str:
    resp = await portal.token_response(assertion, **form)
    assert resp.status == status, await resp.text()
    problem = await resp.json()
    assert resp.content_type == "application/problem+json"
    assert problem["error"] == problem["code"]
    return str(problem["code"])


async def test_assertion_signed_with_a_wrong_key_is_refused(
    portal: Portal, stranger_key: rsa.RSAPrivateKey
) -> None:
    assert await refused(portal, portal.assertion(key=stranger_key)) == "invalid_client"


async def test_expired_assertion_is_refused(portal: Portal) -> None:
    now = int(portal.clock.now().timestamp())
    assertion = portal.assertion(iat=now - 400, exp=now - 61)
    assert await refused(portal, assertion) == "invalid_client"


async def test_assertion_expiring_within_the_leeway_is_accepted(portal: Portal) -> None:
    now = int(portal.clock.now().timestamp())
    resp = await portal.token_response(portal.assertion(exp=now - 30))
    assert resp.status == 200


async def test_assertion_valid_for_more_than_five_minutes_is_refused(portal: Portal) -> None:
    now = int(portal.clock.now().timestamp())
    assert await refused(portal, portal.assertion(exp=now + 3600)) == "invalid_client"


@pytest.mark.parametrize("exp", [1e300, 10**30, "soon", True])
async def test_assertion_with_an_absurd_exp_is_refused(portal: Portal, exp: Any) -> None:
    assert await refused(portal, portal.assertion(exp=exp)) == "invalid_client"


async def test_assertion_without_exp_is_refused(portal: Portal) -> None:
    assert await refused(portal, portal.assertion(exp=None)) == "invalid_client"


async def test_assertion_issued_in_the_future_is_refused(portal: Portal) -> None:
    now = int(portal.clock.now().timestamp())
    assert await refused(portal, portal.assertion(iat=now + 120)) == "invalid_client"
    assert await refused(portal, portal.assertion(nbf=now + 120)) == "invalid_client"


async def test_replayed_jti_is_refused(portal: Portal) -> None:
    assertion = portal.assertion(jti="once")
    assert (await portal.token_response(assertion)).status == 200
    assert await refused(portal, assertion) == "invalid_client"
    assert await refused(portal, portal.assertion(jti="once")) == "invalid_client"


async def test_assertion_without_jti_is_refused(portal: Portal) -> None:
    assert await refused(portal, portal.assertion(jti=None)) == "invalid_client"


@pytest.mark.parametrize(
    "aud",
    [
        "https://diary.example/portal/v1/changes",
        "http://diary.example/portal/oauth/token",
        ["https://other.example/portal/oauth/token"],
        None,
    ],
)
async def test_wrong_audience_is_refused(portal: Portal, aud: Any) -> None:
    assert await refused(portal, portal.assertion(aud=aud)) == "invalid_client"


async def test_audience_as_a_list_containing_the_token_endpoint_is_accepted(
    portal: Portal,
) -> None:
    aud = ["https://x.example", "https://diary.example/portal/oauth/token"]
    assert (await portal.token_response(portal.assertion(aud=aud))).status == 200


@pytest.mark.parametrize(
    "claims",
    [{"iss": "someone-else"}, {"sub": "someone-else"}, {"iss": "x", "sub": "x"}],
)
async def test_iss_and_sub_must_both_be_the_client(portal: Portal, claims: dict[str, str]) -> None:
    assert await refused(portal, portal.assertion(**claims)) == "invalid_client"


def unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


async def test_alg_none_is_refused(portal: Portal) -> None:
    assert await refused(portal, unsigned(portal.claims())) == "invalid_client"


async def test_hmac_signed_assertion_is_refused(portal: Portal) -> None:
    assertion = jwt.encode(portal.claims(), "shared-secret-of-32-bytes-or-more!", algorithm="HS256")
    assert await refused(portal, assertion) == "invalid_client"


async def test_ps256_assertion_is_accepted(portal: Portal) -> None:
    assert (await portal.token_response(portal.assertion(alg="PS256"))).status == 200


async def test_unknown_client_is_refused_like_a_wrong_key(portal: Portal) -> None:
    assertion = portal.assertion(iss="portal-unknown", sub="portal-unknown")
    resp = await portal.token_response(assertion)
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


async def test_scope_not_registered_is_refused(
    http: TestClient,  # type: ignore[type-arg]
    world: World,
    clock: FixedClock,
    stranger_key: rsa.RSAPrivateKey,
) -> None:
    client_id, kid = await register(world, stranger_key, scopes=frozenset({"progress.read"}))
    portal = Portal(http, clock, stranger_key, client_id, kid)
    code = await refused(portal, portal.assertion(), 400, scope="progress.read changes.read")
    assert code == "invalid_scope"


async def test_token_without_the_scope_gets_403(
    http: TestClient,  # type: ignore[type-arg]
    world: World,
    clock: FixedClock,
    stranger_key: rsa.RSAPrivateKey,
) -> None:
    client_id, kid = await register(world, stranger_key, scopes=frozenset({"progress.read"}))
    portal = Portal(http, clock, stranger_key, client_id, kid)
    resp = await portal.get("/portal/v1/changes")
    assert resp.status == 403
    assert (await resp.json())["code"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]


async def test_token_narrowed_to_one_scope_gets_403_for_the_other(
    portal: Portal, world: World
) -> None:
    token = await portal.token(scope="changes.read")
    snils = await pupil_snils(world, world.pupil_a1)
    query = "from=2025-09-01&to=2025-10-01"
    resp = await portal.get(f"/portal/v1/pupils/{snils}/progress?{query}", token=token)
    assert resp.status == 403


async def test_missing_token_is_401_with_www_authenticate(portal: Portal) -> None:
    resp = await portal.http.get("/portal/v1/changes")
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="ediary-portal"'
    assert (await resp.json())["code"] == "token_missing"


@pytest.mark.parametrize("authorization", ["Bearer not-a-token", "Basic dXNlcjpwYXNz"])
async def test_invalid_token_is_401(portal: Portal, authorization: str) -> None:
    resp = await portal.http.get("/portal/v1/changes", headers={"Authorization": authorization})
    assert resp.status == 401
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


async def test_expired_token_is_401(portal: Portal) -> None:
    token = await portal.token()
    portal.clock.advance(timedelta(seconds=301))
    resp = await portal.get("/portal/v1/changes", token=token)
    assert resp.status == 401
    assert (await resp.json())["code"] == "token_invalid"


async def test_client_over_its_rate_gets_429_with_retry_after(
    aiohttp_client: Client,
    db_url: str,
    world: World,
    clock: FixedClock,
    feed_keys: tuple[Path, Path],
    client_key: rsa.RSAPrivateKey,
) -> None:
    app = await make_app(db_url, feed_keys, clock, EDIARY_FEED_RATE_LIMIT_PER_MINUTE="3")
    http = await aiohttp_client(app)
    client_id, kid = await register(world, client_key)
    portal = Portal(http, clock, client_key, client_id, kid)
    # the token request and two reads fit in the minute; the third read does not
    statuses = [(await portal.get("/portal/v1/changes")).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    resp = await portal.get("/portal/v1/changes")
    assert (await resp.json())["code"] == "rate_limited"
    assert (await portal.token_response(portal.assertion())).status == 429
    assert resp.headers["Retry-After"] == "60"  # the window ends at 10:01:00
    clock.advance(timedelta(minutes=1))
    assert (await portal.get("/portal/v1/changes")).status == 200


async def test_token_refusals_are_audited(portal: Portal, world: World) -> None:
    await portal.token_response(portal.assertion(aud="https://wrong.example"))
    await portal.token_response(portal.assertion())
    world.session.expire_all()
    events = list(
        await world.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "portal.token").order_by(AuditEvent.id)
        )
    )
    assert [(e.details["status"], e.details["result"]) for e in events] == [
        (401, "invalid_client"),
        (200, "ok"),
    ]
    assert events[0].details["claimed_client"] == portal.client_id
    assert events[0].actor_label == "anonymous"
    assert portal.client_id in events[1].actor_label
