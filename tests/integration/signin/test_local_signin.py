"""Local sign-in at /login, sessions, CSRF, throttling — each test named after what it refuses
or guarantees, over real HTTP on loopback, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import accounts
from diary_core.accounts import IssuedCredentials
from diary_core.clock import FixedClock
from diary_core.models import User, UserRole
from gateway.storage import SignInEvent, WebSession
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway
from tests.support.world import World

NEW_PASSWORD = "Совсем-новый-пароль-7"


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    settings = gateway_settings(db_url, free_port())
    async with running_gateway(settings, clock) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    b = Browser()
    yield b
    await b.close()


async def _issue(world: World, issuer: int, user_id: int) -> IssuedCredentials:
    ctx = await world.ctx(issuer)
    issued = await accounts.issue_credentials(ctx, user_id)
    await world.session.commit()
    return issued


async def _signed_in_user(world: World, engine: AsyncEngine) -> list[int | None]:
    async with engine.connect() as conn:
        return list(
            await conn.scalars(select(WebSession.user_id).where(WebSession.user_id.is_not(None)))
        )


async def _ready_teacher(world: World, base: str, browser: Browser) -> IssuedCredentials:
    """The math teacher, signed in once and past the forced password change."""
    issued = await _issue(world, world.admin_a, world.teacher_math)
    await browser.login(base, issued.login, issued.one_time_password)
    token = await browser.csrf(base + "/account/password")
    resp = await browser.post(
        base + "/account/password",
        {
            "csrf_token": token,
            "current_password": issued.one_time_password,
            "new_password": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert resp.status == 303
    return issued


async def test_one_time_password_forces_change_before_anything_else(
    world: World, base: str, browser: Browser
) -> None:
    issued = await _issue(world, world.admin_a, world.teacher_math)
    resp = await browser.login(base, issued.login, issued.one_time_password)
    assert (resp.status, resp.headers["Location"]) == (303, "/account/password")
    blocked = await browser.get(base + "/account")
    assert (blocked.status, blocked.headers["Location"]) == (303, "/account/password")
    await _ready_teacher_change(browser, base, issued.one_time_password)
    assert (await browser.get(base + "/account")).status == 200


async def _ready_teacher_change(browser: Browser, base: str, current: str) -> None:
    token = await browser.csrf(base + "/account/password")
    resp = await browser.post(
        base + "/account/password",
        {
            "csrf_token": token,
            "current_password": current,
            "new_password": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert resp.status == 303


async def test_unknown_login_and_wrong_password_answer_identically(world: World, base: str) -> None:
    issued = await _issue(world, world.admin_a, world.teacher_math)
    answers = []
    for login in (issued.login, "no.such.person"):
        b = Browser()
        resp = await b.login(base, login, "wrong-password-123")
        text = (await resp.text()).replace(login, "LOGIN")
        text = text.replace(await _csrf_in(text), "TOKEN")
        answers.append((resp.status, text))
        await b.close()
    assert answers[0] == answers[1]
    assert answers[0][0] == 401


async def _csrf_in(text: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    return found.group(1) if found else "\0"


async def test_throttling_after_ten_failures_even_for_the_right_password(
    world: World, base: str, browser: Browser, clock: FixedClock, engine: AsyncEngine
) -> None:
    issued = await _issue(world, world.admin_a, world.teacher_math)
    for _ in range(10):
        assert (await browser.login(base, issued.login, "wrong-password-1")).status == 401
    resp = await browser.login(base, issued.login, issued.one_time_password)
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) > 0
    assert await _signed_in_user(world, engine) == []
    clock.advance(timedelta(minutes=5, seconds=1))
    assert (await browser.login(base, issued.login, issued.one_time_password)).status == 303


async def test_throttling_counts_unknown_logins_too(base: str, browser: Browser) -> None:
    for _ in range(10):
        await browser.login(base, "ghost", "x" * 12)
    assert (await browser.login(base, "ghost", "x" * 12)).status == 429


async def test_missing_csrf_token_is_refused(
    world: World, base: str, browser: Browser, engine: AsyncEngine
) -> None:
    issued = await _issue(world, world.admin_a, world.teacher_math)
    await browser.get(base + "/login")  # a session exists, but no token is sent
    resp = await browser.post(
        base + "/login", {"login": issued.login, "password": issued.one_time_password}
    )
    assert resp.status == 403
    assert await _signed_in_user(world, engine) == []


async def test_wrong_csrf_token_is_refused(
    world: World, base: str, browser: Browser, engine: AsyncEngine
) -> None:
    issued = await _issue(world, world.admin_a, world.teacher_math)
    await browser.get(base + "/login")
    resp = await browser.post(
        base + "/login",
        {"csrf_token": "forged", "login": issued.login, "password": issued.one_time_password},
    )
    assert resp.status == 403
    assert await _signed_in_user(world, engine) == []


async def test_csrf_token_of_another_browser_is_refused(
    world: World, base: str, engine: AsyncEngine
) -> None:
    issued = await _issue(world, world.admin_a, world.teacher_math)
    attacker, victim = Browser(), Browser()
    token = await attacker.csrf(base + "/login")
    await victim.get(base + "/login")
    resp = await victim.post(
        base + "/login",
        {"csrf_token": token, "login": issued.login, "password": issued.one_time_password},
    )
    assert resp.status == 403
    await attacker.close()
    await victim.close()


async def test_session_fixation_pre_sign_in_id_stops_working(
    world: World, base: str, browser: Browser
) -> None:
    issued = await _issue(world, world.admin_a, world.teacher_math)
    await browser.get(base + "/login")
    planted = browser.cookie("ediary_session")
    assert planted
    await browser.login(base, issued.login, issued.one_time_password)
    assert browser.cookie("ediary_session") not in (None, planted)
    intruder = Browser()
    intruder.http.cookie_jar.update_cookies({"ediary_session": planted})
    resp = await intruder.get(base + "/account/password")
    assert resp.status == 303 and resp.headers["Location"].startswith("/login")
    await intruder.close()


async def test_cookie_flags_http_only_same_site_lax(base: str, browser: Browser) -> None:
    resp = await browser.get(base + "/login")
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("ediary_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie


async def test_cookie_is_secure_with_host_prefix_on_https(
    db_url: str, engine: AsyncEngine, world: World
) -> None:
    port = free_port()
    settings = gateway_settings(db_url, port, {"EDIARY_SERVER_PUBLIC_URL": "https://diary.example"})
    async with running_gateway(settings) as url:
        b = Browser()
        cookie = (await b.get(url + "/login")).headers["Set-Cookie"]
        await b.close()
    assert cookie.startswith("__Host-ediary_session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie


async def test_sign_out_ends_the_session(world: World, base: str, browser: Browser) -> None:
    await _ready_teacher(world, base, browser)
    token = await browser.csrf(base + "/logout")
    resp = await browser.post(base + "/logout", {"csrf_token": token})
    assert resp.headers["Location"] == "/login"
    assert (await browser.get(base + "/account")).status == 303


async def test_sign_out_everywhere_ends_other_browsers(
    world: World, base: str, browser: Browser
) -> None:
    await _ready_teacher(world, base, browser)
    issued_login = (await world.session.get(User, world.teacher_math)).login  # type: ignore[union-attr]
    other = Browser()
    assert (await other.login(base, issued_login, NEW_PASSWORD)).status == 303
    token = await browser.csrf(base + "/account")
    await browser.post(base + "/account/sessions/end-all", {"csrf_token": token})
    for b in (browser, other):
        assert (await b.get(base + "/account")).status == 303
    await other.close()


async def test_idle_timeout_ends_the_session(
    world: World, base: str, browser: Browser, clock: FixedClock
) -> None:
    await _ready_teacher(world, base, browser)
    clock.advance(timedelta(minutes=29))
    assert (await browser.get(base + "/account")).status == 200
    clock.advance(timedelta(minutes=30, seconds=1))
    assert (await browser.get(base + "/account")).status == 303


async def test_absolute_timeout_ends_an_active_session(
    world: World, base: str, browser: Browser, clock: FixedClock
) -> None:
    await _ready_teacher(world, base, browser)
    for _ in range(12 * 3):
        clock.advance(timedelta(minutes=20))
        if (await browser.get(base + "/account")).status != 200:
            break
    assert clock.now() - timedelta(hours=12) <= world.clock.now()
    assert (await browser.get(base + "/account")).status == 303


async def test_disabling_the_account_ends_its_sessions(
    world: World, base: str, browser: Browser
) -> None:
    await _ready_teacher(world, base, browser)
    user = await world.session.get(User, world.teacher_math)
    assert user is not None
    user.is_active = False
    await world.session.commit()
    assert (await browser.get(base + "/account")).status == 303


async def test_changing_roles_ends_sessions(world: World, base: str, browser: Browser) -> None:
    await _ready_teacher(world, base, browser)
    world.session.add(UserRole(user_id=world.teacher_math, role="administrator"))
    await world.session.commit()
    assert (await browser.get(base + "/account")).status == 303


async def test_login_history_is_shown_to_the_user(
    world: World, base: str, browser: Browser
) -> None:
    issued = await _issue(world, world.admin_a, world.teacher_math)
    await browser.login(base, issued.login, "wrong-password-2")
    await browser.login(base, issued.login, issued.one_time_password)
    await _ready_teacher_change(browser, base, issued.one_time_password)
    text = await (await browser.get(base + "/account")).text()
    assert "История входов" in text
    assert text.count("неудачно") == 1 and "успешно" in text


@pytest.mark.parametrize("evil", ["//evil.example/x", "https://evil.example/x", "/\\evil.example"])
async def test_next_to_another_site_is_ignored(
    world: World, base: str, browser: Browser, evil: str
) -> None:
    issued = await _ready_teacher(world, base, browser)
    token = await browser.csrf(base + "/logout")
    await browser.post(base + "/logout", {"csrf_token": token})
    token = await browser.csrf(base + "/login")
    resp = await browser.post(
        base + "/login",
        {"csrf_token": token, "login": issued.login, "password": NEW_PASSWORD, "next": evil},
    )
    assert resp.headers["Location"] == "/console"


async def test_local_next_is_followed(world: World, base: str, browser: Browser) -> None:
    issued = await _ready_teacher(world, base, browser)
    token = await browser.csrf(base + "/logout")
    await browser.post(base + "/logout", {"csrf_token": token})
    token = await browser.csrf(base + "/login")
    resp = await browser.post(
        base + "/login",
        {"csrf_token": token, "login": issued.login, "password": NEW_PASSWORD, "next": "/account"},
    )
    assert resp.headers["Location"] == "/account"


async def test_parent_and_staff_chooses_a_role(world: World, base: str, browser: Browser) -> None:
    ctx = await world.ctx()
    from diary_core.families import link_guardian

    await link_guardian(ctx, world.teacher_math, world.pupil_b1, source="roster", confirmed=True)
    await accounts.add_role(ctx, world.teacher_math, "parent")
    await world.session.commit()
    issued = await _issue(world, world.admin_a, world.teacher_math)
    await browser.login(base, issued.login, issued.one_time_password)
    await _ready_teacher_change(browser, base, issued.one_time_password)
    diary = await browser.get(base + "/diary")
    assert diary.status == 303 and diary.headers["Location"] == "/choose-role"
    token = await browser.csrf(base + "/choose-role")
    resp = await browser.post(base + "/choose-role", {"csrf_token": token, "side": "family"})
    assert resp.headers["Location"] == "/diary"
    text = await (await browser.get(base + "/diary")).text()
    assert "Попов Илья" in text


async def test_sign_in_events_are_recorded(
    world: World, base: str, browser: Browser, engine: AsyncEngine
) -> None:
    issued = await _issue(world, world.admin_a, world.teacher_math)
    await browser.login(base, issued.login, "nope-nope-nope")
    await browser.login(base, issued.login, issued.one_time_password)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(SignInEvent.success, SignInEvent.user_id).order_by(SignInEvent.id)
            )
        ).all()
        assert [tuple(r) for r in rows] == [(False, world.teacher_math), (True, world.teacher_math)]
        assert await conn.scalar(select(func.count()).select_from(WebSession)) >= 1
