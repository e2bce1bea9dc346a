"""One-time ESIA link codes cannot be guessed: per pending sign-in and per address budgets.

Before, 60 wrong codes from one pending sign-in all got 400 and each was looked up. Now every
code tried takes a slot first (tests/integration/signin/test_signin_throttle.py does the same
for passwords), on both databases, against a running server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import accounts
from diary_core.clock import FixedClock
from tests.integration.signin.test_esia_signin import (  # noqa: F401 - fixtures
    UNKNOWN,
    UNTRUSTED,
    _signed_in,
    esia,
    persons,
)
from tests.integration.signin.test_signin_throttle import BrowserAt
from tests.support.gateway import Browser, Esia, free_port, gateway_settings, running_gateway
from tests.support.world import World

PER_PENDING = 10  # config/default.toml: session.max_failures_per_login
PER_ADDRESS = 4  # set low below, so that the address's budget is reached first in its test
WRONG = "AAAA-BBBB-CCCC"


@pytest.fixture
async def base(
    db_url: str,
    engine: AsyncEngine,
    world: World,
    esia: tuple[Esia, dict[str, str]],  # noqa: F811
    clock: FixedClock,
) -> AsyncIterator[str]:
    extra = {**esia[1], "EDIARY_SESSION_MAX_FAILURES_PER_ADDRESS": "30"}
    settings = gateway_settings(db_url, free_port(), extra)
    async with running_gateway(settings, clock) as url:
        yield url


@pytest.fixture
async def browser_at() -> AsyncIterator[Callable[[str], Browser]]:
    """Browsers bound to loopback addresses of their own, all closed after the test."""
    made: list[Browser] = []

    def make(address: str) -> Browser:
        made.append(BrowserAt(address))
        return made[-1]

    yield make
    for browser in made:
        await browser.close()


async def _pending(base: str, browser: Browser, oid: str) -> None:
    resp = await browser.get(await browser.esia_to_callback(base, oid))
    assert resp.headers["Location"] == "/auth/esia/link"


async def _try(base: str, browser: Browser, code: str) -> Any:
    token = await browser.csrf(base + "/auth/esia/link")
    return await browser.post(base + "/auth/esia/link", {"csrf_token": token, "code": code})


async def _code_for_parent_a2(world: World) -> str:
    ctx = await world.ctx(world.ct_5a)
    code = await accounts.issue_link_code(ctx, world.parent_a2)
    await world.session.commit()
    return code


async def test_wrong_codes_from_one_pending_sign_in_stop_at_the_limit(
    base: str, engine: AsyncEngine, world: World, browser_at: Callable[[str], Browser]
) -> None:
    browser = browser_at("127.0.0.51")
    await _pending(base, browser, UNTRUSTED)
    code = await _code_for_parent_a2(world)
    statuses = [(await _try(base, browser, WRONG)).status for _ in range(20)]
    assert statuses == [400] * PER_PENDING + [429] * 10
    refused = await _try(base, browser, code)  # even the right code waits for the window
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) > 0
    text = await refused.text()
    assert "Слишком много попыток ввести код" in text and "мин." in text
    assert await _signed_in(engine) == []


async def test_a_burst_of_wrong_codes_checks_no_more_than_the_limit(
    base: str, engine: AsyncEngine, browser_at: Callable[[str], Browser]
) -> None:
    browser = browser_at("127.0.0.52")
    await _pending(base, browser, UNTRUSTED)
    token = await browser.csrf(base + "/auth/esia/link")
    form = {"csrf_token": token, "code": WRONG}
    answers = await asyncio.gather(
        *(browser.post(base + "/auth/esia/link", form) for _ in range(40))
    )
    statuses = sorted(a.status for a in answers)
    assert statuses.count(400) <= PER_PENDING + 2
    assert statuses.count(400) + statuses.count(429) == 40
    assert all(int(a.headers["Retry-After"]) > 0 for a in answers if a.status == 429)


async def test_the_right_code_within_the_budget_links_and_hands_its_slot_back(
    base: str, engine: AsyncEngine, world: World, browser_at: Callable[[str], Browser]
) -> None:
    browser = browser_at("127.0.0.53")
    await _pending(base, browser, UNTRUSTED)
    code = await _code_for_parent_a2(world)
    for _ in range(PER_PENDING - 1):
        assert (await _try(base, browser, WRONG)).status == 400
    ok = await _try(base, browser, code)
    assert (ok.status, ok.headers.get("Location")) == (303, "/diary")
    assert await _signed_in(engine) == [world.parent_a2]


@pytest.fixture
async def tight_base(
    db_url: str,
    engine: AsyncEngine,
    world: World,
    esia: tuple[Esia, dict[str, str]],  # noqa: F811
    clock: FixedClock,
) -> AsyncIterator[str]:
    extra = {**esia[1], "EDIARY_SESSION_MAX_FAILURES_PER_ADDRESS": str(PER_ADDRESS)}
    settings = gateway_settings(db_url, free_port(), extra)
    async with running_gateway(settings, clock) as url:
        yield url


async def test_an_address_that_spent_its_budget_is_refused_for_another_identity(
    tight_base: str, browser_at: Callable[[str], Browser]
) -> None:
    first = browser_at("127.0.0.54")
    await _pending(tight_base, first, UNTRUSTED)
    statuses = [(await _try(tight_base, first, WRONG)).status for _ in range(PER_ADDRESS + 1)]
    assert statuses == [400] * PER_ADDRESS + [429]
    same_address = browser_at("127.0.0.54")
    await _pending(tight_base, same_address, UNKNOWN)
    assert (await _try(tight_base, same_address, WRONG)).status == 429
    elsewhere = browser_at("127.0.0.55")
    await _pending(tight_base, elsewhere, UNKNOWN)
    assert (await _try(tight_base, elsewhere, WRONG)).status == 400
    password = await same_address.login(tight_base, "nobody", "wrong")  # passwords: own budget
    assert password.status == 401
