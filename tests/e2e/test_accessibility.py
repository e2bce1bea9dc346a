"""WCAG 2.1 AA (ГОСТ Р 52872-2019) as far as axe-core checks it, in Debian's Chromium: the main
pages of every role — the sign-in page; the parent's diary, messages, announcements and
account; the teacher's console and journal; the class teacher's class page; the
administrator's staff, timetable editor and audit log — with data on them (marks, a lesson, a
thread awaiting an answer, an announcement, a timetable), at a laptop's width and, for the
account page's sessions table, a phone's.

axe-core is the npm package pinned in package-lock.json (``npm ci`` at the repository root
installs it into node_modules/); it is injected into each page and run with the WCAG 2.0/2.1
A and AA rule sets. A violation fails the test and is printed: the rule, its impact, the
help text and each offending element's selector and summary."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import announcements, attendance, lessons, marks, messaging, timetable
from diary_core.clock import FixedClock
from diary_core.models import User
from diary_core.timetable import SlotInput
from tests.e2e.conftest import artifact
from tests.e2e.sessions import sign_in
from tests.support.gateway import free_port, gateway_settings, running_gateway
from tests.support.world import World

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 740}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MONDAY = date(2025, 10, 13)  # the clock is Wednesday 15 October 2025

#: (path, rule id) → why that one rule is not checked on that one page, for a violation too
#: large to fix at once. Empty: every rule is checked on every page.
EXCLUDED: dict[tuple[str, str], str] = {}


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    await _seed(world)
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


async def _seed(world: World) -> None:
    """Something on every page: a published timetable, a lesson with marks and an absence, a
    thread awaiting the teacher's answer, a school announcement, a parent with a login."""
    admin = await world.ctx(world.admin_a)
    slots = [
        SlotInput(1, 1, world.math_a, world.teacher_math, "12"),
        SlotInput(2, 2, world.russian_a, world.ct_5a, "14"),
    ]
    info = await timetable.set_weekly_timetable(admin, world.class_5a, date(2025, 9, 1), slots)
    await timetable.publish_timetable(admin, info.id)
    teacher = await world.ctx(world.teacher_math)
    lesson = await lessons.record_lesson(
        teacher,
        class_id=world.class_5a,
        subject_id=world.math_a,
        day=MONDAY,
        lesson_number=1,
        topic="Дроби",
        homework="№ 12",
    )
    wt = world.a.work_type_ids
    for value, kind in (("5", "Ответ на уроке"), ("4", "Контрольная работа")):
        await marks.record_mark(
            teacher,
            pupil_id=world.pupil_a1,
            subject_id=world.math_a,
            day=MONDAY,
            value=value,
            work_type_id=wt[kind],
            lesson_id=lesson.id,
        )
    await attendance.set_attendance(teacher, pupil_id=world.pupil_a2, lesson_id=lesson.id, kind="н")
    await messaging.start_conversation(
        await world.ctx(world.parent_a1), [world.teacher_math], "Контрольная", "Когда пересдача?"
    )
    await announcements.announce(
        admin, "Родительское собрание", "В четверг в 18:00.", "general", world.a.id
    )
    # A parent who signs in with his login: the class page shows the green access tag.
    parent = await world.session.get(User, world.parent_a1)
    assert parent is not None
    parent.login, parent.must_change_password = "parent.a1", False
    await world.session.commit()


def _axe_script() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` at the repository root (CI does)")
    return str(AXE)


async def _violations(page: Page, url: str, name: str, db_url: str) -> list[str]:
    """axe's violations on ``url`` as readable lines (a screenshot kept)."""
    response = await page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    await page.add_script_tag(path=_axe_script())
    result: dict[str, Any] = await page.evaluate(
        "tags => axe.run(document, {runOnly: tags, resultTypes: ['violations']})", TAGS
    )
    database = db_url.split("+")[0].split(":")[0]
    await page.screenshot(path=str(artifact(f"axe-{name}-{database}.png")), full_page=True)
    path = url.split("://", 1)[1].split("/", 1)[1].split("?")[0]
    found = []
    for v in result["violations"]:
        if ("/" + path, v["id"]) in EXCLUDED:
            continue
        nodes = "; ".join(
            f"{' '.join(map(str, n['target']))}: {n.get('failureSummary', '')}".replace("\n", " ")
            for n in v["nodes"][:5]
        )
        found.append(f"{url} [{v['id']}, {v['impact']}] {v['help']} — {nodes}")
    return found


async def _check(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    user: int | None,
    now: object,
    db_url: str,
    pages: list[tuple[str, str]],
    viewport: dict[str, int] = LAPTOP,
) -> None:
    # The gateway's CSP allows no inline script: the test's own axe-core is let in past it.
    context = await chromium.new_context(viewport=viewport, bypass_csp=True)  # type: ignore[arg-type]
    try:
        if user is not None:
            await sign_in(context, base, engine, user, now)  # type: ignore[arg-type]
        page = await context.new_page()
        found: list[str] = []
        for path, name in pages:
            found += await _violations(page, base + path, name, db_url)
    finally:
        await context.close()
    assert not found, "axe-core found WCAG 2.1 A/AA violations:\n" + "\n".join(found)


async def test_sign_in_page(
    chromium: Browser, base: str, engine: AsyncEngine, clock: FixedClock, db_url: str
) -> None:
    await _check(chromium, base, engine, None, clock.now(), db_url, [("/login", "login")])


async def test_parent_pages(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
) -> None:
    pages = [
        ("/diary", "diary"),
        ("/messages", "messages"),
        ("/announcements", "announcements"),
        ("/account", "account"),
    ]
    await _check(chromium, base, engine, world.parent_a1, clock.now(), db_url, pages)
    # On a phone the sessions table scrolls sideways: its box must be reachable by keyboard.
    phone = [("/account", "account-360")]
    await _check(chromium, base, engine, world.parent_a1, clock.now(), db_url, phone, PHONE)


async def test_teacher_pages(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
) -> None:
    grid = (
        f"/console/gradebook?class={world.class_5a}&subject={world.math_a}"
        f"&period={world.a.quarter_ids[0]}"
    )
    pages = [("/console", "console"), (grid, "gradebook"), ("/messages", "teacher-messages")]
    await _check(chromium, base, engine, world.teacher_math, clock.now(), db_url, pages)


async def test_class_teacher_pages(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
) -> None:
    pages = [
        (f"/console/class/{world.class_5a}", "class"),
        (f"/console/class/{world.class_5a}/timetable", "class-timetable"),
    ]
    await _check(chromium, base, engine, world.ct_5a, clock.now(), db_url, pages)


async def test_admin_pages(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
) -> None:
    pages = [
        ("/console/admin/staff", "admin-staff"),
        (f"/console/admin/timetable?class={world.class_5a}", "admin-timetable"),
        ("/console/admin/audit", "admin-audit"),
        ("/console/admin/announcements", "admin-announcements"),
        ("/console/admin/replies", "admin-replies"),
    ]
    await _check(chromium, base, engine, world.admin_a, clock.now(), db_url, pages)
