"""Sessions end when the credentials behind them change (issue 13, item 4), over real HTTP
on loopback, on both databases:

- a password change ends the account's other sessions; the session that changed it goes on
  under a new token;
- a one-time password re-issued by the class teacher or the administrator ends every session
  of that account;
- disabling a staff account ends its sessions at once, so re-enabling it does not revive
  them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import accounts
from diary_core.accounts import IssuedCredentials
from diary_core.clock import FixedClock
from gateway.storage import WebSession
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

COOKIE = "ediary_session"
FIRST = "Первый-новый-пароль-7"
SECOND = "Второй-новый-пароль-8"


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


@pytest.fixture
async def browsers() -> AsyncIterator[list[Browser]]:
    made = [Browser() for _ in range(4)]
    yield made
    for b in made:
        await b.close()


async def _issue(world: World, user_id: int) -> IssuedCredentials:
    ctx = await world.ctx(world.admin_a)
    issued = await accounts.issue_credentials(ctx, user_id)
    await world.session.commit()
    return issued


async def _change_password(browser: Browser, base: str, current: str, new: str) -> None:
    token = await browser.csrf(base + "/account/password")
    resp = await browser.post(
        base + "/account/password",
        {
            "csrf_token": token,
            "current_password": current,
            "new_password": new,
            "new_password2": new,
        },
    )
    assert (resp.status, resp.headers["Location"]) == (303, "/account")


async def _sessions_of(engine: AsyncEngine, user_id: int) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(WebSession).where(WebSession.user_id == user_id)
        )
    return int(count or 0)


async def _signed_out(browser: Browser, base: str) -> bool:
    page = await browser.get(base + "/account")
    api = await browser.get(base + "/api/v1/session")
    return (
        page.status == 303 and page.headers["Location"].startswith("/login") and api.status == 401
    )


async def _signed_in(browser: Browser, base: str) -> bool:
    return (await browser.get(base + "/account")).status == 200


async def test_changing_the_password_ends_the_other_sessions_only(
    world: World, base: str, browsers: list[Browser], engine: AsyncEngine
) -> None:
    a, b, c, planted = browsers
    issued = await _issue(world, world.teacher_math)
    assert (await a.login(base, issued.login, issued.one_time_password)).status == 303
    await _change_password(a, base, issued.one_time_password, FIRST)
    for other in (b, c):
        assert (await other.login(base, issued.login, FIRST)).status == 303
        assert await _signed_in(other, base)
    before = a.cookie(COOKIE)
    assert before is not None

    await _change_password(a, base, FIRST, SECOND)

    assert await _signed_out(b, base)
    assert await _signed_out(c, base)
    assert await _signed_in(a, base)
    assert "Пароль изменён." in await (await a.get(base + "/account")).text()
    assert a.cookie(COOKIE) not in (None, before)  # the surviving session has a new token
    planted.http.cookie_jar.update_cookies({COOKIE: before})
    assert await _signed_out(planted, base)
    assert await _sessions_of(engine, world.teacher_math) == 1


async def test_the_forced_change_of_a_one_time_password_ends_its_other_sessions(
    world: World, base: str, browsers: list[Browser]
) -> None:
    a, b, *_ = browsers
    issued = await _issue(world, world.teacher_math)
    for browser in (a, b):
        resp = await browser.login(base, issued.login, issued.one_time_password)
        assert (resp.status, resp.headers["Location"]) == (303, "/account/password")
    await _change_password(a, base, issued.one_time_password, FIRST)
    assert await _signed_in(a, base)  # no longer held at the forced change
    assert await _signed_out(b, base)


async def test_one_time_password_reissued_by_the_class_teacher_ends_the_parents_sessions(
    world: World,
    base: str,
    browsers: list[Browser],
    engine: AsyncEngine,
    clock: FixedClock,
) -> None:
    teacher, parent, parent_again, neighbour = browsers
    for browser in (parent, parent_again):
        await sign_in_as(browser, engine, world.parent_a1, clock.now())
        assert await _signed_in(browser, base)
    await sign_in_as(neighbour, engine, world.parent_a2, clock.now())
    await sign_in_as(teacher, engine, world.ct_5a, clock.now())
    class_url = f"{base}/console/class/{world.class_5a}"
    token = await teacher.csrf(class_url)
    resp = await teacher.post(
        class_url + "/credentials",
        {
            "csrf_token": token,
            "what": "password",
            "user_id": str(world.parent_a1),
            "reissue": "yes",
        },
    )
    assert resp.status in (200, 303), await resp.text()
    assert await _signed_out(parent, base)
    assert await _signed_out(parent_again, base)
    assert await _sessions_of(engine, world.parent_a1) == 0
    assert await _signed_in(neighbour, base)  # another family's parent is not touched
    assert await _signed_in(teacher, base)


async def test_one_time_password_reissued_by_the_administrator_ends_the_staff_sessions(
    world: World,
    base: str,
    browsers: list[Browser],
    engine: AsyncEngine,
    clock: FixedClock,
) -> None:
    admin, staff, colleague, _ = browsers
    await sign_in_as(staff, engine, world.teacher_math, clock.now())
    await sign_in_as(colleague, engine, world.ct_5a, clock.now())
    await sign_in_as(admin, engine, world.admin_a, clock.now())
    token = await admin.csrf(base + "/console/admin/staff")
    url = f"{base}/console/admin/staff/{world.teacher_math}/credentials"
    resp = await admin.post(url, {"csrf_token": token, "reissue": "yes"})
    assert resp.status in (200, 303), await resp.text()
    assert await _signed_out(staff, base)
    assert await _sessions_of(engine, world.teacher_math) == 0
    assert await _signed_in(colleague, base)
    assert await _signed_in(admin, base)


async def test_disabling_a_staff_account_ends_its_sessions_at_once(
    world: World,
    base: str,
    browsers: list[Browser],
    engine: AsyncEngine,
    clock: FixedClock,
) -> None:
    """Ended when disabled, not at their next use: re-enabling the account before that use
    does not bring them back."""
    admin, staff, _, _ = browsers
    await sign_in_as(staff, engine, world.teacher_math, clock.now())
    assert await _signed_in(staff, base)
    await sign_in_as(admin, engine, world.admin_a, clock.now())
    token = await admin.csrf(base + "/console/admin/staff")
    prefix = f"{base}/console/admin/staff/{world.teacher_math}"
    disabled = await admin.post(prefix + "/disable", {"csrf_token": token, "confirm": "yes"})
    assert disabled.status == 303
    assert await _sessions_of(engine, world.teacher_math) == 0
    assert (await admin.post(prefix + "/enable", {"csrf_token": token})).status == 303
    assert await _signed_out(staff, base)
