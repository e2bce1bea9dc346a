"""A parent's account page in a browser, feature by feature: e-mail notifications through a
real SMTP server (a teacher's mark in the gradebook arrives as a mail), the calendar
subscription address the parent's phone would fetch, the personal data archive, and «Кто
смотрел…» showing the teacher who opened the child's gradebook."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import aiohttp
import icalendar
import jsonschema
import pytest
from playwright.async_api import Browser, BrowserContext, Page
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import lessons, timetable
from diary_core.clock import FixedClock
from diary_core.timetable import SlotInput
from gateway.mail.sink import MailSink, running_sink
from tests.e2e.conftest import artifact
from tests.e2e.sessions import sign_in
from tests.e2e.test_accessibility import _check as check_axe
from tests.support.gateway import free_port, gateway_settings, running_gateway
from tests.support.world import World

WIDE = {"width": 1280, "height": 900}
ADDRESS = "elena.smirnova@example.org"
CHILD = "Артём Смирнов"
SCHEMA = Path(__file__).parents[2] / "gateway" / "export" / "personal-data.schema.json"
#: How long a mail may take from the gradebook's save to the sink (the worker polls each second).
MAIL_WAIT_SECONDS = 30


@pytest.fixture
def sink() -> MailSink:
    return MailSink()


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock, sink: MailSink
) -> AsyncIterator[str]:
    """The gateway with ``[mail]`` sending to an in-process SMTP server (the sink)."""
    async with running_sink(sink) as smtp_port:
        port = free_port()
        mail = {
            "EDIARY_MAIL_HOST": "127.0.0.1",
            "EDIARY_MAIL_PORT": str(smtp_port),
            "EDIARY_MAIL_SECURITY": "none",
            "EDIARY_MAIL_SENDER": "dnevnik@school.example",
            "EDIARY_MAIL_TIMEOUT_SECONDS": "5",
            "EDIARY_MAIL_POLL_SECONDS": "1",
        }
        async with running_gateway(gateway_settings(db_url, port, mail), clock) as url:
            yield url


def shot(name: str, db_url: str) -> str:
    return str(artifact(f"{name}-{db_url.split('+')[0].split(':')[0]}.png"))


async def signed_in_page(
    chromium: Browser, base: str, engine: AsyncEngine, user_id: int, clock: FixedClock
) -> tuple[BrowserContext, Page]:
    context = await chromium.new_context(viewport=WIDE, accept_downloads=True)  # type: ignore[arg-type]
    await sign_in(context, base, engine, user_id, clock.now())
    return context, await context.new_page()


async def open_ok(page: Page, url: str) -> None:
    response = await page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"


async def _publish_week(world: World) -> None:
    """5А's weekly timetable from 1 September, published by the administrator."""
    admin = await world.ctx(world.admin_a)
    slots = [SlotInput(day, 1, world.math_a, world.teacher_math, "12") for day in range(1, 6)]
    info = await timetable.set_weekly_timetable(admin, world.class_5a, date(2025, 9, 1), slots)
    await timetable.publish_timetable(admin, info.id)
    await world.session.commit()


async def test_parent_account_mail_calendar_archive_and_who_looked(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
    sink: MailSink,
) -> None:
    await _publish_week(world)
    teacher = await world.ctx(world.teacher_math)
    today = await lessons.record_lesson(
        teacher,
        class_id=world.class_5a,
        subject_id=world.math_a,
        day=clock.now().date(),
        lesson_number=1,
        topic="Сложение дробей",
    )
    await world.session.commit()

    # 1. The parent turns on e-mail notifications of marks, sent at once.
    parent_ctx, parent = await signed_in_page(chromium, base, engine, world.parent_a1, clock)
    await open_ok(parent, base + "/account")
    mail = parent.locator("section#mail")
    assert "Уведомления по почте" in await mail.locator("h2").inner_text()
    await mail.get_by_label("Присылать уведомления на почту").check()
    await mail.get_by_label("Адрес электронной почты").fill(ADDRESS)
    await mail.get_by_label("Новые и исправленные отметки").check()
    await mail.get_by_label("Сразу, отдельным письмом").check()
    await mail.get_by_role("button", name="Сохранить").click()
    await parent.wait_for_load_state()
    mail = parent.locator("section#mail")
    assert "Настройки писем сохранены." in await mail.inner_text()
    assert await mail.get_by_label("Адрес электронной почты").input_value() == ADDRESS
    assert await mail.get_by_label("Новые и исправленные отметки").is_checked()
    assert await mail.get_by_label("Сразу, отдельным письмом").is_checked()
    await parent.screenshot(path=shot("account-mail-1280", db_url), full_page=True)

    # 2. The teacher, in a browser of her own, gives the child a «4» in the gradebook.
    teacher_ctx, grid = await signed_in_page(chromium, base, engine, world.teacher_math, clock)
    quarter = world.a.quarter_ids[0]
    await open_ok(
        grid,
        base + f"/console/gradebook?class={world.class_5a}&subject={world.math_a}&period={quarter}",
    )
    await grid.fill(f"input[name=c_{world.pupil_a1}_{today.id}]", "4")
    await grid.click("#grid button[type=submit]")
    await grid.wait_for_url("**saved=1**")
    assert "Сохранено. Изменено клеток: 1." in await grid.inner_text("main")
    await teacher_ctx.close()

    async with asyncio.timeout(MAIL_WAIT_SECONDS):
        arrived = await sink.wait_for(1)
    to_parent = [m for m in arrived if ADDRESS in m.recipients]
    assert len(to_parent) == 1, [m.recipients for m in arrived]
    letter = to_parent[0]
    assert letter.subject == f"Отметка: {CHILD}, 5А"
    assert "«4»" in letter.part("plain") and CHILD in letter.part("plain")
    assert CHILD in letter.part("html")
    unsubscribe = letter.message["List-Unsubscribe"]
    assert unsubscribe and unsubscribe.startswith("<" + base + "/")
    assert letter.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # 3. The calendar subscription address, shown once, serves the child's lessons.
    await open_ok(parent, base + "/account")
    calendar = parent.locator("section#calendar")
    await calendar.get_by_role("button", name="Получить ссылку на расписание").click()
    await parent.wait_for_url("**/account?calendar=**")
    feed_url = await parent.get_by_label("Ссылка на расписание").input_value()
    assert feed_url.startswith(base + "/calendar/") and feed_url.endswith(".ics")
    await parent.screenshot(path=shot("account-calendar-1280", db_url), full_page=True)
    # A phone's calendar fetches it without the diary's cookie.
    async with aiohttp.ClientSession() as http, http.get(feed_url) as feed:
        assert feed.status == 200
        assert feed.content_type == "text/calendar"
        cal = icalendar.Calendar.from_ical(await feed.read())
    events = list(cal.walk("VEVENT"))
    assert events, "the feed has no lessons"
    lesson_days = {ev.decoded("DTSTART").date() for ev in events}
    assert clock.now().date() in lesson_days
    assert any("Математика" in str(ev.get("SUMMARY")) for ev in events)

    # 4. The personal data archive: JSON valid against the published schema, naming the child.
    async with parent.expect_download() as download_info:
        await parent.get_by_role("button", name="Скачать мои данные").click()
    download = await download_info.value
    assert download.suggested_filename.endswith(".zip")
    raw = await asyncio.to_thread(Path(await download.path()).read_bytes)
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        data = json.loads(archive.read("personal-data.json"))
    schema = json.loads(await asyncio.to_thread(SCHEMA.read_text, "utf-8"))
    jsonschema.validate(data, schema)
    assert "Смирнов" in json.dumps(data, ensure_ascii=False)
    assert "Артём" in json.dumps(data, ensure_ascii=False)

    # 5. «Кто смотрел…»: the teacher's read of the class gradebook is listed.
    await open_ok(parent, base + "/account")
    await parent.get_by_role("link", name="Кто смотрел данные ребёнка").click()
    await parent.wait_for_url("**/account/who-looked")
    main = parent.locator("main")
    assert await main.locator("h1").inner_text() == "Кто смотрел данные"
    reader = main.locator("h2.reader", has_text="Числова")
    assert await reader.count() == 1
    assert "просмотрел(а) журнал класса" in await main.inner_text()
    await parent.screenshot(path=shot("account-who-looked-1280", db_url), full_page=True)
    await parent_ctx.close()


async def test_account_sections_with_mail_pass_axe(
    chromium: Browser,
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    db_url: str,
) -> None:
    """The account page's mail form (shown only when the school configured mail) and «Кто
    смотрел…» listing a reader meet WCAG 2.1 A/AA as axe-core checks them."""
    teacher_ctx, grid = await signed_in_page(chromium, base, engine, world.teacher_math, clock)
    quarter = world.a.quarter_ids[0]
    await open_ok(
        grid,
        base + f"/console/gradebook?class={world.class_5a}&subject={world.math_a}&period={quarter}",
    )
    await teacher_ctx.close()
    pages = [("/account", "account-mail"), ("/account/who-looked", "who-looked")]
    await check_axe(chromium, base, engine, world.parent_a1, clock.now(), db_url, pages)
