"""Credential slips over real HTTP: issuing is POST → 303 → a GET that shows the slip once.

A reload of the slip shows that it was shown and issues nothing, so the slip just printed
keeps working; a second issue needs the form's deliberate confirmation (``reissue=yes``).
The slip waits for its view sealed in the issuer's session: the database never holds the
password in clear, and another session (even the same person's) cannot open it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.accounts import HASHER
from diary_core.clock import FixedClock
from diary_core.models import OneTimeCode, User
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

CLASS_SECRET = re.compile(r'<dd class="secret">([^<]+)</dd>')
STAFF_LOGIN = re.compile(r"Логин</dt><dd><code class=\"secret\">([\w.]+)</code>")
STAFF_PASSWORD = re.compile(r"Одноразовый пароль</dt><dd><code class=\"secret\">(\w+)</code>")
SHOWN = "уже были показаны"
STAFF_SHOWN = "Этот лист уже был показан"


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


async def browser_as(engine: AsyncEngine, user_id: int, clock: FixedClock) -> Browser:
    browser = Browser()
    await sign_in_as(browser, engine, user_id, clock.now())
    return browser


async def password_hash(engine: AsyncEngine, user_id: int) -> str | None:
    async with engine.connect() as conn:
        return await conn.scalar(select(User.password_hash).where(User.id == user_id))


async def sessions_data(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT data FROM web_sessions"))
        return repr(rows.all())


async def signs_in(base: str, login: str, password: str) -> bool:
    """Whether the one-time password works at /login (it leads to choosing one's own)."""
    person = Browser()
    try:
        resp = await person.login(base, login, password)
        return resp.status == 303 and resp.headers["Location"] == "/account/password"
    finally:
        await person.close()


# --- the class teacher's slips ------------------------------------------------------------


async def test_class_password_slip_is_shown_once_and_a_reload_reissues_nothing(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    teacher = await browser_as(engine, world.ct_5a, clock)
    credentials = f"{base}/console/class/{world.class_5a}/credentials"
    token = await teacher.csrf(f"{base}/console/class/{world.class_5a}")
    form = {"csrf_token": token, "what": "password", "user_id": str(world.parent_a1)}
    issued = await teacher.post(credentials, form)
    assert issued.status == 303, await issued.text()
    slip_url = base + issued.headers["Location"]
    waiting = await sessions_data(engine)

    first = await teacher.get(slip_url)
    page = await first.text()
    assert first.status == 200 and "no-store" in first.headers["Cache-Control"]
    login, password = CLASS_SECRET.findall(page)
    assert "Смирнова Елена" in page
    assert password not in waiting  # the waiting slip was sealed, not stored in clear
    hashed = await password_hash(engine, world.parent_a1)

    again = await teacher.get(slip_url)
    reload_page = await again.text()
    assert again.status == 200 and "no-store" in again.headers["Cache-Control"]
    assert password not in reload_page and login not in reload_page
    assert SHOWN in reload_page and "Смирнова Елена" in reload_page
    assert 'name="reissue" value="yes" required' in reload_page  # the deliberate way
    assert await password_hash(engine, world.parent_a1) == hashed
    assert await signs_in(base, login, password)

    # Posting the form again without the confirmation issues nothing.
    repeated = await teacher.post(credentials, form)
    refusal = await repeated.text()
    assert repeated.status == 409 and "Ничего не выдано" in refusal and "Смирнова Елена" in refusal
    assert await password_hash(engine, world.parent_a1) == hashed
    assert await signs_in(base, login, password)

    # With it, a new password: the old one stops working.
    reissued = await teacher.post(credentials, {**form, "reissue": "yes"})
    assert reissued.status == 303
    assert base + reissued.headers["Location"] != slip_url
    new_login, new_password = CLASS_SECRET.findall(
        await (await teacher.get(base + reissued.headers["Location"])).text()
    )
    assert new_login == login and new_password != password
    assert not await signs_in(base, login, password)
    assert await signs_in(base, login, new_password)
    await teacher.close()


async def test_class_link_code_slip_is_shown_once_and_reissued_only_deliberately(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    teacher = await browser_as(engine, world.ct_5a, clock)
    credentials = f"{base}/console/class/{world.class_5a}/credentials"
    token = await teacher.csrf(f"{base}/console/class/{world.class_5a}")
    form = {"csrf_token": token, "what": "link_code", "user_id": str(world.pupil_a1_user)}
    issued = await teacher.post(credentials, form)
    assert issued.status == 303
    slip_url = base + issued.headers["Location"]
    (code,) = CLASS_SECRET.findall(await (await teacher.get(slip_url)).text())
    reload_page = await (await teacher.get(slip_url)).text()
    assert code not in reload_page and SHOWN in reload_page and "Выдать новый код" in reload_page

    async def live_codes() -> list[int]:
        async with engine.connect() as conn:
            rows = await conn.scalars(select(OneTimeCode.id).where(OneTimeCode.used_at.is_(None)))
            return list(rows)

    (first_code,) = await live_codes()
    repeated = await teacher.post(credentials, form)
    assert repeated.status == 409 and "Ничего не выдано" in await repeated.text()
    assert await live_codes() == [first_code]
    reissued = await teacher.post(credentials, {**form, "reissue": "yes"})
    assert reissued.status == 303
    (new_code,) = CLASS_SECRET.findall(
        await (await teacher.get(base + reissued.headers["Location"])).text()
    )
    assert new_code != code
    (live,) = await live_codes()
    assert live != first_code
    await teacher.close()


async def test_a_slip_opens_only_in_the_session_that_issued_it(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    """The same teacher signed in elsewhere gets the plain "no such slip" page, and the
    issuing browser can still open its slip afterwards."""
    teacher = await browser_as(engine, world.ct_5a, clock)
    elsewhere = await browser_as(engine, world.ct_5a, clock)
    token = await teacher.csrf(f"{base}/console/class/{world.class_5a}")
    issued = await teacher.post(
        f"{base}/console/class/{world.class_5a}/credentials",
        {"csrf_token": token, "what": "password", "user_id": str(world.parent_a1)},
    )
    slip_url = base + issued.headers["Location"]
    other = await elsewhere.get(slip_url)
    other_page = await other.text()
    assert other.status == 200 and "Смирнова Елена" not in other_page
    assert not CLASS_SECRET.findall(other_page) and SHOWN not in other_page
    assert len(CLASS_SECRET.findall(await (await teacher.get(slip_url)).text())) == 2
    await teacher.close()
    await elsewhere.close()


# --- the administrator's staff slips ----------------------------------------------------------


async def test_staff_slip_is_shown_once_and_a_new_password_needs_confirmation(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    admin = await browser_as(engine, world.admin_a, clock)
    token = await admin.csrf(base + "/console/admin/staff")
    created = await admin.post(
        base + "/console/admin/staff",
        {
            "csrf_token": token,
            "school_id": str(world.a.id),
            "last_name": "Новикова",
            "first_name": "Зоя",
            "roles": "teacher",
            "issue": "1",
        },
    )
    assert created.status == 303, await created.text()
    slip_url = base + created.headers["Location"]
    first = await admin.get(slip_url)
    slip = await first.text()
    assert first.status == 200 and first.headers["Cache-Control"] == "no-store"
    login_found, password_found = STAFF_LOGIN.search(slip), STAFF_PASSWORD.search(slip)
    assert login_found and password_found
    login, password = login_found.group(1), password_found.group(1)
    async with engine.connect() as conn:
        user_id = await conn.scalar(select(User.id).where(User.login == login))
    assert user_id is not None
    hashed = await password_hash(engine, user_id)

    again = await admin.get(slip_url)
    reload_page = await again.text()
    assert again.status == 200 and password not in reload_page
    assert STAFF_SHOWN in reload_page and "Новикова Зоя" in reload_page
    assert f'action="/console/admin/staff/{user_id}/credentials"' in reload_page
    assert await signs_in(base, login, password)

    credentials = f"{base}/console/admin/staff/{user_id}/credentials"
    refused = await admin.post(credentials, {"csrf_token": token})
    refusal = await refused.text()
    assert refused.status == 409 and "Ничего не выдано" in refusal and "Новикова" in refusal
    assert await password_hash(engine, user_id) == hashed
    assert await signs_in(base, login, password)

    reissued = await admin.post(credentials, {"csrf_token": token, "reissue": "yes"})
    assert reissued.status == 303
    new_slip = await (await admin.get(base + reissued.headers["Location"])).text()
    new_found = STAFF_PASSWORD.search(new_slip)
    assert new_found and new_found.group(1) != password
    assert HASHER.verify(await password_hash(engine, user_id) or "", new_found.group(1))
    assert not await signs_in(base, login, password)
    assert await signs_in(base, login, new_found.group(1))
    await admin.close()


async def test_first_staff_password_needs_no_confirmation_and_unknown_slips_show_nothing(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    admin = await browser_as(engine, world.admin_a, clock)
    token = await admin.csrf(base + "/console/admin/staff")
    issued = await admin.post(
        f"{base}/console/admin/staff/{world.teacher_math}/credentials", {"csrf_token": token}
    )
    assert issued.status == 303
    assert STAFF_PASSWORD.search(await (await admin.get(base + issued.headers["Location"])).text())
    unknown = await admin.get(base + "/console/admin/staff/slip?slip=" + "A" * 32)
    page = await unknown.text()
    assert unknown.status == 200 and "Листа с таким адресом нет" in page
    assert not STAFF_PASSWORD.search(page)
    await admin.close()
