"""Destructive one-click actions of the console ask first, without JavaScript (issue 14):
disabling a staff account, publishing a timetable, reopening a signed-off period mark.

Over real HTTP on both databases: a POST without ``confirm`` changes nothing and answers 200
with a page saying exactly what will happen, whose form posts the same action with
``confirm=yes`` and the CSRF token and has a «Отмена» link back; posting that form performs
it; the confirmed post without (or with a wrong) CSRF token is refused as every unsafe
request is; another school's object answers just like a missing one.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core import period_marks, timetable
from diary_core.clock import FixedClock
from diary_core.models import AuditEvent, PeriodMark, Timetable, User
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

MISSING = 900_001


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    b = Browser()
    yield b
    await b.close()


async def admin_of(browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock,
                   base: str, who: str = "admin_a") -> str:  # fmt: skip
    """Sign ``browser`` in as an administrator; his CSRF token."""
    await sign_in_as(browser, engine, getattr(world, who), clock.now())
    return await browser.csrf(base + "/console/admin/staff")


async def scalar(engine: AsyncEngine, query: object) -> object:
    async with AsyncSession(engine) as db:
        return await db.scalar(query)  # type: ignore[call-overload]


@dataclass
class ConfirmForm:
    """The confirmation page's form as a browser would submit it."""

    action: str
    fields: dict[str, str]
    cancel: str


def confirm_form(page: str) -> ConfirmForm:
    form = re.search(r'<section class="card confirm">.*?<form method="post" action="([^"]*)"'
                     r"(.*?)</form>", page, re.S)  # fmt: skip
    assert form is not None, "no confirmation form on the page"
    fields = {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]*)" value="([^"]*)">', form.group(2)
        )
    }
    cancel = re.search(r'<a href="([^"]*)">Отмена</a>', form.group(2))
    assert cancel is not None, "no «Отмена» link"
    return ConfirmForm(html.unescape(form.group(1)), fields, html.unescape(cancel.group(1)))


async def audit_count(engine: AsyncEngine, action: str) -> object:
    return await scalar(engine, select(func.count()).where(AuditEvent.action == action))


# --- disabling a staff account ---------------------------------------------------------------


async def is_active(engine: AsyncEngine, user_id: int) -> bool:
    async with AsyncSession(engine) as db:
        user = await db.get(User, user_id)
        assert user is not None
        return user.is_active


async def test_disabling_staff_asks_first_and_only_the_confirmed_post_disables(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    teacher = Browser()
    await sign_in_as(teacher, engine, world.teacher_math, clock.now())
    token = await admin_of(browser, engine, world, clock, base)
    url = f"/console/admin/staff/{world.teacher_math}/disable"
    staff_page = await (await browser.get(base + "/console/admin/staff")).text()
    assert f'action="{url}"' in staff_page  # the list's button posts to the action itself

    for _ in range(2):  # the first click, then a reload of the confirmation page
        asked = await browser.post(base + url, {"csrf_token": token})
        page = await asked.text()
        assert asked.status == 200
        assert (
            "Отключить учётную запись Числовой Марии? Она не сможет войти, её сеансы завершатся."
            in page
        )
        assert await is_active(engine, world.teacher_math)
        assert await audit_count(engine, "user.disable") == 0
        assert (await teacher.get(base + "/console")).status == 200  # her session lives on
    form = confirm_form(page)
    assert form.action == url and form.cancel == "/console/admin/staff"
    assert form.fields == {"csrf_token": token, "confirm": "yes"}

    assert (await browser.get(base + url)).status == 405  # a GET never performs anything
    assert await is_active(engine, world.teacher_math)

    done = await browser.post(base + form.action, form.fields)
    assert done.status == 303 and done.headers["Location"] == "/console/admin/staff?ok=disabled"
    assert not await is_active(engine, world.teacher_math)
    assert await audit_count(engine, "user.disable") == 1
    refused = await teacher.get(base + "/console")
    await teacher.close()
    assert refused.status == 303 and refused.headers["Location"].startswith("/login")


async def test_a_man_is_asked_about_in_his_own_words(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    async with AsyncSession(engine) as db:
        teacher = await db.get(User, world.teacher_math)
        assert teacher is not None
        teacher.last_name, teacher.first_name, teacher.middle_name = "Харитонов", "Олег", "Ильич"
        await db.commit()
    token = await admin_of(browser, engine, world, clock, base)
    asked = await browser.post(
        base + f"/console/admin/staff/{world.teacher_math}/disable", {"csrf_token": token}
    )
    assert asked.status == 200
    assert (
        "Отключить учётную запись Харитонова Олега Ильича? Он не сможет войти, его сеансы "
        "завершатся." in await asked.text()
    )


@pytest.mark.parametrize("csrf", [None, "not-the-token"])
async def test_confirmed_disabling_without_the_csrf_token_is_refused(
    base: str,
    browser: Browser,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    csrf: str | None,
) -> None:
    await admin_of(browser, engine, world, clock, base)
    data = {"confirm": "yes"} | ({"csrf_token": csrf} if csrf else {})
    resp = await browser.post(base + f"/console/admin/staff/{world.teacher_math}/disable", data)
    assert resp.status == 403
    assert "Форма устарела" in await resp.text()
    assert await is_active(engine, world.teacher_math)
    assert await audit_count(engine, "user.disable") == 0


@pytest.mark.parametrize("confirm", [{}, {"confirm": "yes"}])
async def test_another_schools_staff_answers_like_a_missing_one(
    base: str,
    browser: Browser,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    confirm: dict[str, str],
) -> None:
    token = await admin_of(browser, engine, world, clock, base, "admin_b")
    answers = []
    for user_id in (world.teacher_math, MISSING):
        resp = await browser.post(
            base + f"/console/admin/staff/{user_id}/disable", {"csrf_token": token, **confirm}
        )
        body = await resp.text()
        assert "Числов" not in body
        answers.append((resp.status, resp.headers.get("Content-Type"), body))
    assert answers[0][0] == 404 and answers[0] == answers[1]
    assert await is_active(engine, world.teacher_math)


async def test_disabling_oneself_is_refused_before_asking(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    token = await admin_of(browser, engine, world, clock, base)
    resp = await browser.post(
        base + f"/console/admin/staff/{world.admin_a}/disable", {"csrf_token": token}
    )
    assert resp.status == 409
    assert "нельзя отключить собственную учётную запись" in await resp.text()
    assert await is_active(engine, world.admin_a)


# --- reopening a signed-off period mark ---------------------------------------------------------


async def locked_mark(world: World) -> int:
    """Смирнов Артём's first-quarter maths mark in 5А, signed off."""
    quarter = world.a.quarter_ids[0]
    mark = await period_marks.set_period_mark(
        await world.ctx(world.teacher_math),
        pupil_id=world.pupil_a1,
        subject_id=world.math_a,
        period_id=quarter,
        value="4",
    )
    admin = await world.ctx(world.admin_a)
    assert await period_marks.lock_period_marks(admin, world.a.id, quarter, [world.class_5a]) == 1
    await world.session.commit()
    return mark.id


async def is_locked(engine: AsyncEngine, mark_id: int) -> bool:
    async with AsyncSession(engine) as db:
        mark = await db.get(PeriodMark, mark_id)
        assert mark is not None
        return mark.locked_at is not None


async def test_unlocking_a_period_mark_asks_first_and_only_the_confirmed_post_unlocks(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    mark_id = await locked_mark(world)
    quarter = world.a.quarter_ids[0]
    token = await admin_of(browser, engine, world, clock, base)
    back = f"/console/admin/periods?period={quarter}&class={world.class_5a}"
    listing = await (await browser.get(base + back)).text()
    url = f"/console/admin/periods/marks/{mark_id}/unlock?period={quarter}&class={world.class_5a}"
    assert f'action="{html.escape(url)}"' in listing

    for _ in range(2):  # the first click, then a reload of the confirmation page
        asked = await browser.post(base + url, {"csrf_token": token, "reason": "ошибка ввода"})
        page = await asked.text()
        assert asked.status == 200
        assert (
            "Снять блокировку итоговой отметки Смирнова Артёма Ивановича за 1 четверть по "
            "математике в 5А? Отметку снова можно будет менять." in page
        )
        assert "Причина (запишется в журнал действий): ошибка ввода" in page
        assert await is_locked(engine, mark_id)
        assert await audit_count(engine, "period_marks.unlock") == 0
    form = confirm_form(page)
    assert form.action == url and form.cancel == back
    assert form.fields == {"csrf_token": token, "reason": "ошибка ввода", "confirm": "yes"}

    assert (await browser.get(base + url)).status == 405
    assert await is_locked(engine, mark_id)

    done = await browser.post(base + form.action, form.fields)
    assert done.status == 303 and done.headers["Location"].endswith("ok=unlocked")
    assert not await is_locked(engine, mark_id)
    async with AsyncSession(engine) as db:
        event = await db.scalar(
            select(AuditEvent).where(AuditEvent.action == "period_marks.unlock")
        )
    assert event is not None and event.actor_id == world.admin_a


async def test_unlocking_without_a_reason_is_refused_before_asking(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    mark_id = await locked_mark(world)
    token = await admin_of(browser, engine, world, clock, base)
    resp = await browser.post(
        base + f"/console/admin/periods/marks/{mark_id}/unlock", {"csrf_token": token}
    )
    page = await resp.text()
    assert resp.status == 400 and "укажите причину" in page
    assert 'class="card confirm"' not in page
    assert await is_locked(engine, mark_id)


@pytest.mark.parametrize("csrf", [None, "not-the-token"])
async def test_confirmed_unlocking_without_the_csrf_token_is_refused(
    base: str,
    browser: Browser,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    csrf: str | None,
) -> None:
    mark_id = await locked_mark(world)
    await admin_of(browser, engine, world, clock, base)
    data = {"confirm": "yes", "reason": "ошибка ввода"} | ({"csrf_token": csrf} if csrf else {})
    resp = await browser.post(base + f"/console/admin/periods/marks/{mark_id}/unlock", data)
    assert resp.status == 403
    assert await is_locked(engine, mark_id)
    assert await audit_count(engine, "period_marks.unlock") == 0


@pytest.mark.parametrize("confirm", [{}, {"confirm": "yes"}])
async def test_another_schools_period_mark_answers_like_a_missing_one(
    base: str,
    browser: Browser,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    confirm: dict[str, str],
) -> None:
    mark_id = await locked_mark(world)
    token = await admin_of(browser, engine, world, clock, base, "admin_b")
    answers = []
    for target in (mark_id, MISSING):
        resp = await browser.post(
            base + f"/console/admin/periods/marks/{target}/unlock",
            {"csrf_token": token, "reason": "ошибка ввода", **confirm},
        )
        body = await resp.text()
        assert "Смирнов" not in body
        answers.append((resp.status, resp.headers.get("Content-Type"), body))
    assert answers[0][0] == 404 and answers[0] == answers[1]
    assert await is_locked(engine, mark_id)


# --- publishing a timetable ----------------------------------------------------------------------


async def draft_5a(world: World) -> int:
    """A draft weekly timetable of 5А from Monday 20.10.2025."""
    tt = await timetable.set_weekly_timetable(
        await world.ctx(world.admin_a),
        world.class_5a,
        date(2025, 10, 20),
        [timetable.SlotInput(1, 1, world.math_a, world.teacher_math, "12")],
    )
    await world.session.commit()
    return tt.id


async def published_at(engine: AsyncEngine, tt_id: int) -> object:
    return await scalar(engine, select(Timetable.published_at).where(Timetable.id == tt_id))


async def test_publishing_a_timetable_asks_first_and_only_the_confirmed_post_publishes(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    tt_id = await draft_5a(world)
    token = await admin_of(browser, engine, world, clock, base)
    editor = f"/console/admin/timetable?class={world.class_5a}&tt={tt_id}"
    url = f"/console/admin/timetable/versions/{tt_id}/publish"
    assert f'action="{url}"' in await (await browser.get(base + editor)).text()

    for _ in range(2):  # the first click, then a reload of the confirmation page
        asked = await browser.post(base + url, {"csrf_token": token})
        page = await asked.text()
        assert asked.status == 200
        assert (
            "Опубликовать расписание 5А с 20.10.2025? Семьи увидят его сразу, классы с "
            "изменениями получат уведомление." in page
        )
        assert await published_at(engine, tt_id) is None
        assert await audit_count(engine, "timetable.publish") == 0
    form = confirm_form(page)
    assert form.action == url and form.cancel == editor
    assert form.fields == {"csrf_token": token, "confirm": "yes"}

    assert (await browser.get(base + url)).status == 405
    assert await published_at(engine, tt_id) is None

    done = await browser.post(base + form.action, form.fields)
    assert done.status == 303 and done.headers["Location"].endswith("ok=published")
    assert await published_at(engine, tt_id) is not None
    assert await audit_count(engine, "timetable.publish") == 1
    again = await browser.post(base + url, {"csrf_token": token})  # the list's button, stale
    assert again.status == 409 and "уже опубликовано" in await again.text()


@pytest.mark.parametrize("csrf", [None, "not-the-token"])
async def test_confirmed_publishing_without_the_csrf_token_is_refused(
    base: str,
    browser: Browser,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    csrf: str | None,
) -> None:
    tt_id = await draft_5a(world)
    await admin_of(browser, engine, world, clock, base)
    data = {"confirm": "yes"} | ({"csrf_token": csrf} if csrf else {})
    resp = await browser.post(base + f"/console/admin/timetable/versions/{tt_id}/publish", data)
    assert resp.status == 403
    assert await published_at(engine, tt_id) is None
    assert await audit_count(engine, "timetable.publish") == 0


@pytest.mark.parametrize("confirm", [{}, {"confirm": "yes"}])
async def test_another_schools_timetable_answers_like_a_missing_one(
    base: str,
    browser: Browser,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    confirm: dict[str, str],
) -> None:
    tt_id = await draft_5a(world)
    token = await admin_of(browser, engine, world, clock, base, "admin_b")
    answers = []
    for target in (tt_id, MISSING):
        resp = await browser.post(
            base + f"/console/admin/timetable/versions/{target}/publish",
            {"csrf_token": token, **confirm},
        )
        body = await resp.text()
        assert "5А" not in body
        answers.append((resp.status, resp.headers.get("Content-Type"), body))
    assert answers[0][0] == 404 and answers[0] == answers[1]
    assert await published_at(engine, tt_id) is None
