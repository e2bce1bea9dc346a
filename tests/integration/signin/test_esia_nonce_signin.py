"""The nonce as production ESIA handles it, through the real HTTP callback, on both databases.

Production ESIA has not reliably echoed ``nonce`` since November 2022, so the emulator by
default leaves it out and the gateway must still sign the parent in. A nonce that *is* echoed
must be the one sent; ``[esia] require_nonce = true`` refuses an id_token without one.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import FixedClock
from gateway.storage import LoginTransaction, WebSession
from tests.integration.signin.test_esia_signin import TRUSTED_PARENT, _person, _pupil_user
from tests.support.gateway import (
    Browser,
    Esia,
    free_port,
    gateway_settings,
    query_of,
    running_esia,
    running_gateway,
)
from tests.support.world import World

REFUSED_FOR_NONCE = "ESIA token refused (nonce)"


@pytest.fixture
async def esia(world: World, tmp_path: Path) -> AsyncIterator[tuple[Esia, dict[str, str]]]:
    kid = await _pupil_user(world, world.pupil_a1)
    parent = await _person(world, world.parent_a1, TRUSTED_PARENT, True, [kid])
    async with running_esia([parent], tmp_path) as pair:
        yield pair


@pytest.fixture
def emulator(esia: tuple[Esia, dict[str, str]]) -> Esia:
    return esia[0]


@pytest.fixture(params=[False, True], ids=["nonce-optional", "nonce-required"])
def require_nonce(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def _gateway_env(esia: tuple[Esia, dict[str, str]], require_nonce: bool) -> dict[str, str]:
    return {**esia[1], "EDIARY_ESIA_REQUIRE_NONCE": "true" if require_nonce else "false"}


async def _signed_in(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return [u for u in await conn.scalars(select(WebSession.user_id)) if u is not None]


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _record_id_tokens(emulator: Esia) -> list[dict[str, Any]]:
    """The claims of every id_token the emulator issues (responses passed on unchanged)."""
    seen: list[dict[str, Any]] = []

    def record(body: dict[str, Any]) -> dict[str, Any]:
        seen.append(_claims(body["id_token"]))
        return body

    emulator.tamper = record
    return seen


async def _sign_in(
    db_url: str,
    engine: AsyncEngine,
    esia: tuple[Esia, dict[str, str]],
    clock: FixedClock,
    *,
    require_nonce: bool,
) -> tuple[Any, str]:
    """Start at the gateway, pick the parent at the emulator, deliver the callback; return the
    callback's response and the nonce the authorization request carried to ESIA."""
    settings = gateway_settings(db_url, free_port(), _gateway_env(esia, require_nonce))
    async with running_gateway(settings, clock) as base:
        browser = Browser()
        try:
            callback = await browser.esia_to_callback(base, TRUSTED_PARENT)
            async with engine.connect() as conn:
                sent = await conn.scalar(select(LoginTransaction.nonce))
            resp = await browser.get(callback)
            if resp.status == 303:
                assert (await browser.get(base + "/account")).status == 200
        finally:
            await browser.close()
    assert sent, "the gateway must still send a fresh nonce"
    return resp, str(sent)


async def _refused(engine: AsyncEngine, emulator: Esia, resp: Any) -> None:
    assert resp.status >= 400, await resp.text()
    assert emulator.token_calls, "refused by the token check, after the code was exchanged"
    assert await _signed_in(engine) == []


# ---------------------------------------------------------------- ESIA as it is: no nonce


async def test_emulator_sends_no_nonce_by_default_and_the_parent_signs_in(
    db_url: str,
    engine: AsyncEngine,
    world: World,
    esia: tuple[Esia, dict[str, str]],
    emulator: Esia,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    issued = _record_id_tokens(emulator)
    with caplog.at_level(logging.INFO, logger="ediary.esia"):
        resp, sent = await _sign_in(db_url, engine, esia, clock, require_nonce=False)
    assert (resp.status, resp.headers.get("Location")) == (303, "/diary"), await resp.text()
    assert await _signed_in(engine) == [world.parent_a1]
    assert len(issued) == 1 and "nonce" not in issued[0]
    notes = [r for r in caplog.records if r.name == "ediary.esia" and "no nonce" in r.message]
    assert [r.levelno for r in notes] == [logging.INFO]
    assert sent not in caplog.text


async def test_the_authorization_request_carries_the_transactions_nonce(
    db_url: str,
    engine: AsyncEngine,
    world: World,
    esia: tuple[Esia, dict[str, str]],
    clock: FixedClock,
) -> None:
    settings = gateway_settings(db_url, free_port(), esia[1])
    async with running_gateway(settings, clock) as base:
        browser = Browser()
        to_esia = await browser.get(base + "/auth/esia/login")
        await browser.close()
    async with engine.connect() as conn:
        stored = await conn.scalar(select(LoginTransaction.nonce))
    assert stored and query_of(to_esia.headers["Location"])["nonce"] == stored


async def test_required_nonce_refuses_esias_default(
    db_url: str,
    engine: AsyncEngine,
    world: World,
    esia: tuple[Esia, dict[str, str]],
    emulator: Esia,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    resp, _sent = await _sign_in(db_url, engine, esia, clock, require_nonce=True)
    await _refused(engine, emulator, resp)
    assert REFUSED_FOR_NONCE in caplog.text


# ---------------------------------------------------------------- a stand that echoes it


async def test_echoed_nonce_signs_in(
    db_url: str,
    engine: AsyncEngine,
    world: World,
    esia: tuple[Esia, dict[str, str]],
    emulator: Esia,
    clock: FixedClock,
    require_nonce: bool,
) -> None:
    emulator.emulator.echo_nonce = True
    issued = _record_id_tokens(emulator)
    resp, sent = await _sign_in(db_url, engine, esia, clock, require_nonce=require_nonce)
    assert (resp.status, resp.headers.get("Location")) == (303, "/diary"), await resp.text()
    assert await _signed_in(engine) == [world.parent_a1]
    assert [claims["nonce"] for claims in issued] == [sent]


@pytest.mark.parametrize("echo", [False, True], ids=["echo-off", "echo-on"])
async def test_wrong_nonce_is_refused_without_a_session(
    db_url: str,
    engine: AsyncEngine,
    world: World,
    esia: tuple[Esia, dict[str, str]],
    emulator: Esia,
    clock: FixedClock,
    require_nonce: bool,
    echo: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator.emulator.echo_nonce = echo
    emulator.emulator.switches.wrong_nonce = True
    issued = _record_id_tokens(emulator)
    resp, sent = await _sign_in(db_url, engine, esia, clock, require_nonce=require_nonce)
    await _refused(engine, emulator, resp)
    assert [claims["nonce"] for claims in issued] == ["wrong-" + sent]
    assert REFUSED_FOR_NONCE in caplog.text
