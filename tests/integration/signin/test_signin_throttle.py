"""Sign-in throttling under attack (issue 13, items 2 and 3), over real HTTP against a running
gateway on loopback, on both databases:

- a burst of concurrent wrong passwords for one login checks no more passwords than the
  per-login limit (plus 2), the rest answer 429 with Retry-After;
- the overall failure budget, once spent, slows password checks down but never refuses a
  right password from an address that has not failed, while the per-address limit still
  refuses an address that has.

Client addresses: the gateway throttles by the TCP peer address (``request.remote``), so each
"address" here is a client bound to its own loopback address (127.0.0.0/8 is all loopback).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import accounts
from diary_core.accounts import IssuedCredentials
from diary_core.clock import FixedClock
from gateway import throttle
from gateway.handlers.signin import WRONG_CREDENTIALS
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway
from tests.support.world import World

PER_LOGIN = 10  # config/default.toml: session.max_failures_per_login
BURST = 40


class BrowserAt(Browser):
    """A browser whose connections come from ``address`` (a loopback address of its own)."""

    def __init__(self, address: str) -> None:
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=(address, 0), limit=0),
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            raise_for_status=False,
        )


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every password hash verification the gateway (in this process) performs."""
    seen: list[str] = []
    real = accounts.verify_password

    async def counting(stored: str, password: str) -> bool:
        seen.append(password)
        return await real(stored, password)

    monkeypatch.setattr(accounts, "verify_password", counting)
    yield seen


@pytest.fixture
def slowdowns(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each time a password check was slowed down by the spent overall budget (and no real
    wait, so the test does not depend on time)."""
    seen: list[int] = []

    async def record() -> None:
        seen.append(1)

    monkeypatch.setattr(throttle, "slow_down", record)
    return seen


async def _issue(world: World, user_id: int) -> IssuedCredentials:
    ctx = await world.ctx(world.admin_a)
    issued = await accounts.issue_credentials(ctx, user_id)
    await world.session.commit()
    return issued


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


async def test_a_burst_of_wrong_passwords_checks_no_more_than_the_limit(
    world: World, base: str, verifications: list[str]
) -> None:
    issued = await _issue(world, world.teacher_math)
    browser = Browser()
    try:
        token = await browser.csrf(base + "/login")
        form = {"csrf_token": token, "login": issued.login, "password": "wrong-password-1"}
        answers = await asyncio.gather(*(browser.post(base + "/login", form) for _ in range(BURST)))
        statuses = sorted(r.status for r in answers)
        checked = statuses.count(401)
        refused = [r for r in answers if r.status == 429]
        assert PER_LOGIN <= checked <= PER_LOGIN + 2, statuses
        assert len(refused) == BURST - checked, statuses
        assert all(int(r.headers["Retry-After"]) > 0 for r in refused)
        assert len(verifications) == checked
        # The login stays locked, for the right password too, without checking it.
        right = await browser.login(base, issued.login, issued.one_time_password)
        assert right.status == 429
        assert len(verifications) == checked
    finally:
        await browser.close()


async def test_a_right_password_hands_its_slot_back(world: World, base: str) -> None:
    """Successes are not failures: signing in often never locks anyone out."""
    issued = await _issue(world, world.teacher_math)
    for _ in range(PER_LOGIN + 2):
        browser = Browser()
        try:
            resp = await browser.login(base, issued.login, issued.one_time_password)
            assert resp.status == 303
        finally:
            await browser.close()


@pytest.fixture
async def small_budgets(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    """A gateway whose overall budget (12) is spent by 4 addresses failing 4 times each, each
    under its own per-address limit (5)."""
    extra = {
        "EDIARY_SESSION_MAX_FAILURES_OVERALL": "12",
        "EDIARY_SESSION_MAX_FAILURES_PER_ADDRESS": "5",
    }
    async with running_gateway(gateway_settings(db_url, free_port(), extra), clock) as url:
        yield url


async def _flood(base: str, addresses: list[str], failures: int) -> None:
    for n, address in enumerate(addresses):
        browser = BrowserAt(address)
        try:
            for k in range(failures):
                resp = await browser.login(base, f"ghost{n}.{k}", "wrong-password-1")
                assert resp.status == 401, (address, k, resp.status)
        finally:
            await browser.close()


async def test_a_spent_overall_budget_slows_but_never_refuses_a_fresh_address(
    world: World, small_budgets: str, slowdowns: list[int]
) -> None:
    base = small_budgets
    issued = await _issue(world, world.teacher_math)
    await _flood(base, [f"127.0.0.{n}" for n in range(11, 15)], 4)
    assert len(slowdowns) == 16 - 12  # the checks after the 12th failure were slowed down
    fresh = BrowserAt("127.0.0.21")
    other = BrowserAt("127.0.0.22")
    try:
        resp = await fresh.login(base, issued.login, issued.one_time_password)
        assert (resp.status, resp.headers["Location"]) == (303, "/account/password")
        assert len(slowdowns) == 5
        wrong = await other.login(base, issued.login, "wrong-password-2")
        assert wrong.status == 401
        assert WRONG_CREDENTIALS in await wrong.text()
        assert "Retry-After" not in wrong.headers
        assert len(slowdowns) == 6
    finally:
        await fresh.close()
        await other.close()


async def test_an_address_past_its_own_limit_is_still_refused(
    world: World, small_budgets: str, slowdowns: list[int]
) -> None:
    base = small_budgets
    issued = await _issue(world, world.teacher_math)
    await _flood(base, ["127.0.0.31"], 5)
    same = BrowserAt("127.0.0.31")
    try:
        resp = await same.login(base, issued.login, issued.one_time_password)
        assert resp.status == 429
        assert int(resp.headers["Retry-After"]) > 0
    finally:
        await same.close()
    fresh = BrowserAt("127.0.0.32")
    try:
        resp = await fresh.login(base, issued.login, issued.one_time_password)
        assert resp.status == 303
    finally:
        await fresh.close()
