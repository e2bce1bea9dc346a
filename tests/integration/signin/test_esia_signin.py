"""Signing in through ESIA against the emulator over real loopback HTTP, on both databases.

Each attack test asserts that no signed-in session was created; the first four also that the
token endpoint was never called (the callback refuses before spending anything).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import accounts
from diary_core.clock import FixedClock
from diary_core.models import ExternalIdentity, Guardianship, User
from gateway.storage import LoginTransaction, WebSession
from tests.support.gateway import (
    CLIENT_ID,
    Browser,
    Esia,
    free_port,
    gateway_settings,
    query_of,
    running_esia,
    running_gateway,
)
from tests.support.world import World

TRUSTED_PARENT = "1000000001"  # parent_a1's SNILS, trusted; kids: pupil_a1 and a stranger
UNTRUSTED = "1000000002"  # parent_a2's SNILS, but an unconfirmed portal account
UNKNOWN = "1000000003"  # trusted, but nobody on any roster
NEW_KID_PARENT = "1000000004"  # parent_b1's SNILS, trusted; kids: pupil_b1 and pupil_a2


def _esia_date(d: Any) -> str:
    return d.strftime("%d.%m.%Y")


async def _person(
    world: World, user_id: int, oid: str, trusted: bool, kids: list[int]
) -> dict[str, Any]:
    user = await world.session.get(User, user_id)
    assert user is not None
    kid_rows = []
    for n, pupil_user in enumerate(kids):
        kid = await world.session.get(User, pupil_user)
        assert kid is not None and kid.birth_date is not None
        kid_rows.append(
            {
                "id": f"{oid}{n}",
                "lastName": kid.last_name,
                "firstName": kid.first_name,
                "middleName": kid.middle_name,
                "birthDate": _esia_date(kid.birth_date),
                "gender": "M",
                "snils": kid.snils,
            }
        )
    return {
        "oid": oid,
        "lastName": user.last_name,
        "firstName": user.first_name,
        "middleName": user.middle_name,
        "birthDate": "01.02.1985",
        "gender": "F",
        "snils": user.snils,
        "trusted": trusted,
        "email": "",
        "mobile": "",
        "kids": kid_rows,
    }


async def _pupil_user(world: World, pupil_id: int) -> int:
    from diary_core.models import Pupil

    pupil = await world.session.get(Pupil, pupil_id)
    assert pupil is not None
    return pupil.user_id


@pytest.fixture
async def persons(world: World) -> list[dict[str, Any]]:
    a1, a2 = await _pupil_user(world, world.pupil_a1), await _pupil_user(world, world.pupil_a2)
    b1 = await _pupil_user(world, world.pupil_b1)
    stranger = {
        "id": "999",
        "lastName": "Неизвестный",
        "firstName": "Ребёнок",
        "middleName": "",
        "birthDate": "01.01.2015",
        "gender": "M",
        "snils": "112-233-445 95",
    }
    trusted = await _person(world, world.parent_a1, TRUSTED_PARENT, True, [a1])
    trusted["kids"].append(stranger)
    unknown = await _person(world, world.parent_a2, UNKNOWN, True, [])
    unknown["snils"] = "087-654-303 00"
    return [
        trusted,
        await _person(world, world.parent_a2, UNTRUSTED, False, [a2]),
        unknown,
        await _person(world, world.parent_b1, NEW_KID_PARENT, True, [b1, a2]),
    ]


@pytest.fixture
async def esia(
    persons: list[dict[str, Any]], tmp_path: Path
) -> AsyncIterator[tuple[Esia, dict[str, str]]]:
    async with running_esia(persons, tmp_path) as pair:
        yield pair


@pytest.fixture
async def base(
    db_url: str,
    engine: AsyncEngine,
    world: World,
    esia: tuple[Esia, dict[str, str]],
    clock: FixedClock,
) -> AsyncIterator[str]:
    settings = gateway_settings(db_url, free_port(), esia[1])
    async with running_gateway(settings, clock) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    b = Browser()
    yield b
    await b.close()


@pytest.fixture
def emulator(esia: tuple[Esia, dict[str, str]]) -> Esia:
    return esia[0]


async def _signed_in(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return [u for u in await conn.scalars(select(WebSession.user_id)) if u is not None]


async def _refused_without_session(engine: AsyncEngine, resp: Any) -> None:
    assert resp.status >= 400, await resp.text()
    assert "Вход через Госуслуги не выполнен" in await resp.text()
    assert await _signed_in(engine) == []


# ---------------------------------------------------------------- the happy paths


async def test_trusted_parent_on_roster_is_linked_and_lands_in_the_diary(
    base: str, browser: Browser, engine: AsyncEngine, world: World
) -> None:
    callback = await browser.esia_to_callback(base, TRUSTED_PARENT)
    resp = await browser.get(callback)
    assert (resp.status, resp.headers["Location"]) == (303, "/diary")
    text = await (await browser.get(base + "/diary")).text()
    assert "Смирнов Артём" in text
    assert await _signed_in(engine) == [world.parent_a1]
    async with engine.connect() as conn:
        oid = await conn.scalar(
            select(ExternalIdentity.subject).where(ExternalIdentity.user_id == world.parent_a1)
        )
    assert oid == TRUSTED_PARENT


async def test_second_sign_in_uses_the_existing_link(
    base: str, engine: AsyncEngine, world: World
) -> None:
    for _ in range(2):
        b = Browser()
        resp = await b.get(await b.esia_to_callback(base, TRUSTED_PARENT))
        assert resp.headers["Location"] == "/diary"
        await b.close()
    async with engine.connect() as conn:
        links = list(await conn.scalars(select(ExternalIdentity.id)))
    assert len(links) == 1


async def test_untrusted_account_needs_a_link_code_then_links(
    base: str, browser: Browser, engine: AsyncEngine, world: World
) -> None:
    resp = await browser.get(await browser.esia_to_callback(base, UNTRUSTED))
    assert resp.headers["Location"] == "/auth/esia/link"
    assert await _signed_in(engine) == []
    ctx = await world.ctx(world.ct_5a)
    code = await accounts.issue_link_code(ctx, world.parent_a2)
    await world.session.commit()
    token = await browser.csrf(base + "/auth/esia/link")
    bad = await browser.post(
        base + "/auth/esia/link", {"csrf_token": token, "code": "AAAA-BBBB-CCCC"}
    )
    assert bad.status == 400 and "недействителен" in await bad.text()
    token = await browser.csrf(base + "/auth/esia/link")
    ok = await browser.post(base + "/auth/esia/link", {"csrf_token": token, "code": code})
    assert (ok.status, ok.headers.get("Location")) == (303, "/diary"), await ok.text()
    assert await _signed_in(engine) == [world.parent_a2]
    assert "Кузнецова Дарья" in await (await browser.get(base + "/diary")).text()


async def test_person_unknown_to_the_roster_is_asked_for_a_code(
    base: str, browser: Browser, engine: AsyncEngine
) -> None:
    resp = await browser.get(await browser.esia_to_callback(base, UNKNOWN))
    assert resp.headers["Location"] == "/auth/esia/link"
    assert "одноразовый код" in await (await browser.get(base + "/auth/esia/link")).text()
    assert await _signed_in(engine) == []


async def test_child_not_backed_by_roster_waits_for_class_teacher(
    base: str, browser: Browser, engine: AsyncEngine, world: World
) -> None:
    resp = await browser.get(await browser.esia_to_callback(base, NEW_KID_PARENT))
    assert resp.headers["Location"] == "/diary"
    text = await (await browser.get(base + "/diary")).text()
    assert "Попов Илья" in text and "Кузнецова Дарья" not in text
    async with engine.connect() as conn:
        status = await conn.scalar(
            select(Guardianship.status).where(
                Guardianship.guardian_id == world.parent_b1,
                Guardianship.pupil_id == world.pupil_a2,
            )
        )
    assert status == "pending"


async def test_next_path_survives_the_round_trip(base: str, browser: Browser) -> None:
    resp = await browser.get(await browser.esia_to_callback(base, TRUSTED_PARENT, "/account"))
    assert resp.headers["Location"] == "/account"


@pytest.mark.parametrize("evil", ["//evil.example", "https://evil.example"])
async def test_next_to_another_site_is_ignored(base: str, browser: Browser, evil: str) -> None:
    resp = await browser.get(await browser.esia_to_callback(base, TRUSTED_PARENT, evil))
    assert resp.headers["Location"] == "/diary"


async def test_esia_sign_out_goes_through_esia_logout(
    base: str, browser: Browser, emulator: Esia
) -> None:
    await browser.get(await browser.esia_to_callback(base, TRUSTED_PARENT))
    token = await browser.csrf(base + "/logout")
    resp = await browser.post(base + "/logout", {"csrf_token": token})
    location = resp.headers["Location"]
    assert location.startswith(emulator.base_url + "/idp/ext/Logout?")
    assert query_of(location)["client_id"] == CLIENT_ID
    assert (await browser.get(base + "/account")).status == 303


# ---------------------------------------------------------------- refused before the token call


async def test_missing_state_is_refused(
    base: str, browser: Browser, engine: AsyncEngine, emulator: Esia
) -> None:
    callback = await browser.esia_to_callback(base, TRUSTED_PARENT)
    query = query_of(callback)
    resp = await browser.get(base + f"/auth/esia/callback?code={query['code']}")
    await _refused_without_session(engine, resp)
    assert emulator.token_calls == []


async def test_state_from_another_browser_is_refused(
    base: str, engine: AsyncEngine, emulator: Esia
) -> None:
    attacker, victim = Browser(), Browser()
    callback = await attacker.esia_to_callback(base, UNKNOWN)
    await victim.get(base + "/login")  # the victim has a session of his own
    resp = await victim.get(callback)  # the attacker's callback, fed to the victim (login CSRF)
    await _refused_without_session(engine, resp)
    assert emulator.token_calls == []
    await attacker.close()
    await victim.close()


async def test_replayed_callback_is_refused(
    base: str, browser: Browser, engine: AsyncEngine, emulator: Esia, world: World
) -> None:
    callback = await browser.esia_to_callback(base, TRUSTED_PARENT)
    assert (await browser.get(callback)).status == 303
    assert len(emulator.token_calls) == 1
    token = await browser.csrf(base + "/logout")
    await browser.post(base + "/logout", {"csrf_token": token})
    await browser.get(base + "/login")
    resp = await browser.get(callback)
    await _refused_without_session(engine, resp)
    assert len(emulator.token_calls) == 1


async def test_expired_transaction_is_refused(
    base: str, browser: Browser, engine: AsyncEngine, emulator: Esia
) -> None:
    callback = await browser.esia_to_callback(base, TRUSTED_PARENT)
    async with engine.begin() as conn:
        await conn.execute(
            LoginTransaction.__table__.update().values(expires_at=LoginTransaction.created_at)
        )
    resp = await browser.get(callback)
    await _refused_without_session(engine, resp)
    assert emulator.token_calls == []


# ---------------------------------------------------------------- refused after the token call


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _resign(emulator: Esia, token: str, **changes: Any) -> str:
    """The same token with claims changed, validly signed with ESIA's (the emulator's) key by
    an independent JOSE library, so only the changed claim can be what is refused."""
    claims = {**_claims(token), **changes}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, emulator.token_key_pem, algorithm="RS256")


def _tamper_access(emulator: Esia, make: Callable[[str], str]) -> None:
    def tamper(body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "access_token": make(body["access_token"])}

    emulator.tamper = tamper


def _tamper_both(emulator: Esia, **changes: Any) -> None:
    def tamper(body: dict[str, Any]) -> dict[str, Any]:
        return {
            **body,
            "access_token": _resign(emulator, body["access_token"], **changes),
            "id_token": _resign(emulator, body["id_token"], **changes),
        }

    emulator.tamper = tamper


async def _attempt(base: str, browser: Browser, engine: AsyncEngine) -> None:
    resp = await browser.get(await browser.esia_to_callback(base, TRUSTED_PARENT))
    await _refused_without_session(engine, resp)


async def test_token_with_flipped_signature_byte_is_refused(
    base: str, browser: Browser, engine: AsyncEngine, emulator: Esia
) -> None:
    emulator.emulator.switches.bad_token_signature = True
    await _attempt(base, browser, engine)
    assert len(emulator.token_calls) == 1


async def test_alg_none_is_refused(
    base: str, browser: Browser, engine: AsyncEngine, emulator: Esia
) -> None:
    def none(token: str) -> str:
        header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        return f"{header}.{token.split('.')[1]}."

    _tamper_access(emulator, none)
    await _attempt(base, browser, engine)


async def test_hs256_keyed_with_esias_public_key_is_refused(
    base: str, browser: Browser, engine: AsyncEngine, emulator: Esia
) -> None:
    def hs256(token: str) -> str:
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        signing_input = f"{header}.{token.split('.')[1]}".encode()
        mac = hmac.new(emulator.token_cert_pem, signing_input, hashlib.sha256).digest()
        return f"{signing_input.decode()}.{_b64(mac)}"

    _tamper_access(emulator, hs256)
    await _attempt(base, browser, engine)


async def test_wrong_issuer_is_refused(
    base: str, browser: Browser, engine: AsyncEngine, emulator: Esia
) -> None:
    emulator.emulator.switches.wrong_issuer = True
    await _attempt(base, browser, engine)


async def test_wrong_client_id_is_refused(
    base: str, browser: Browser, engine: AsyncEngine, emulator: Esia
) -> None:
    _tamper_access(emulator, lambda t: _resign(emulator, t, client_id="SOMEONE-ELSE"))
    await _attempt(base, browser, engine)


async def test_wrong_audience_is_refused(
    base: str, browser: Browser, engine: AsyncEngine, emulator: Esia
) -> None:
    def tamper(body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "id_token": _resign(emulator, body["id_token"], aud="SOMEONE-ELSE")}

    emulator.tamper = tamper
    await _attempt(base, browser, engine)


async def test_expired_beyond_leeway_is_refused(
    base: str, browser: Browser, engine: AsyncEngine, emulator: Esia
) -> None:
    past = int(time.time()) - 3600
    _tamper_both(emulator, iat=past - 60, nbf=past - 60, exp=int(time.time()) - 61)
    await _attempt(base, browser, engine)


async def test_expired_within_leeway_is_accepted(
    base: str, browser: Browser, engine: AsyncEngine, emulator: Esia, world: World
) -> None:
    """The id_token expired 30 s ago: inside the 60 s leeway, so it passes every check."""
    past = int(time.time()) - 3600

    def tamper(body: dict[str, Any]) -> dict[str, Any]:
        changed = {"iat": past, "nbf": past, "exp": int(time.time()) - 30}
        return {**body, "id_token": _resign(emulator, body["id_token"], **changed)}

    emulator.tamper = tamper
    resp = await browser.get(await browser.esia_to_callback(base, TRUSTED_PARENT))
    assert resp.status == 303 and resp.headers["Location"] == "/diary"
    assert await _signed_in(engine) == [world.parent_a1]


async def test_nbf_in_the_future_is_refused(
    base: str, browser: Browser, engine: AsyncEngine, emulator: Esia
) -> None:
    _tamper_both(emulator, nbf=int(time.time()) + 600)
    await _attempt(base, browser, engine)


async def test_wrong_echoed_state_in_token_response_is_refused(
    base: str, browser: Browser, engine: AsyncEngine, emulator: Esia
) -> None:
    emulator.emulator.switches.wrong_state = True
    await _attempt(base, browser, engine)


async def test_esia_error_redirect_gives_a_clear_page(
    base: str, browser: Browser, engine: AsyncEngine, emulator: Esia
) -> None:
    emulator.emulator.switches.error_redirect = "ESIA-007004"
    to_esia = await browser.get(base + "/auth/esia/login")
    back = await browser.get(to_esia.headers["Location"])
    assert back.status in (302, 303)
    assert "error=" in back.headers["Location"]
    resp = await browser.get(back.headers["Location"])
    await _refused_without_session(engine, resp)
    text = await resp.text()
    assert resp.status == 400 and "Вы отказались от входа через Госуслуги" in text
    assert "ESIA-0070" not in text  # the code goes to the log, not to the person
    assert emulator.token_calls == []


async def test_unconfigured_esia_says_so(db_url: str, engine: AsyncEngine, world: World) -> None:
    settings = gateway_settings(db_url, free_port())
    async with running_gateway(settings) as url:
        b = Browser()
        resp = await b.get(url + "/auth/esia/login")
        assert resp.status == 503 and "не настроен" in await resp.text()
        await b.close()


# ---------------------------------------------------------------- several instances


async def test_two_instances_share_logins_and_sessions(
    db_url: str,
    engine: AsyncEngine,
    world: World,
    esia: tuple[Esia, dict[str, str]],
    clock: FixedClock,
) -> None:
    """A login started on one instance completes on the other; a session made on one is valid
    on the other; signing out on one ends it on both. (The public URL is the "load balancer":
    the callback is delivered to whichever instance the test chooses.)"""
    port_a, port_b = free_port(), free_port()
    balancer = {"EDIARY_SERVER_PUBLIC_URL": f"http://127.0.0.1:{port_a}", **esia[1]}
    settings_a = gateway_settings(db_url, port_a, balancer)
    settings_b = gateway_settings(db_url, port_b, balancer)
    async with running_gateway(settings_a) as a, running_gateway(settings_b) as b:
        browser = Browser()
        callback = await browser.esia_to_callback(a, TRUSTED_PARENT)
        on_b = callback.replace(a, b)
        assert on_b != callback
        # The cookie belongs to host 127.0.0.1 (any port), as behind one load balancer.
        resp = await browser.get(on_b)
        assert resp.headers["Location"] == "/diary"
        assert (await browser.get(a + "/account")).status == 200
        assert (await browser.get(b + "/account")).status == 200
        token = await browser.csrf(a + "/logout")
        await browser.post(a + "/logout", {"csrf_token": token})
        assert (await browser.get(b + "/account")).status == 303
        await browser.close()
