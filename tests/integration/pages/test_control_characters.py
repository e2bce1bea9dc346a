"""Control characters in what people type (issue 13, item 6), over real HTTP on both
databases: web forms answer 400 with a Russian message naming the field and the character
as U+XXXX and write nothing; the JSON API answers a problem naming the field; a multi-line
text (a message body, an announcement's text) keeps its line breaks and tabs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql import ColumnElement

from diary_core.clock import FixedClock
from diary_core.models import Announcement, Conversation, Message, User
from tests.integration.api import Api
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


@pytest.fixture
async def browsers() -> AsyncIterator[list[Browser]]:
    made: list[Browser] = []
    yield made
    for b in made:
        await b.close()


async def browser_as(
    browsers: list[Browser], engine: AsyncEngine, user_id: int, clock: FixedClock
) -> Browser:
    browser = Browser()
    browsers.append(browser)
    await sign_in_as(browser, engine, user_id, clock.now())
    return browser


async def count(engine: AsyncEngine, model: type, *where: ColumnElement[bool]) -> int:
    async with AsyncSession(engine) as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_message_topic_with_a_control_character_is_refused_naming_the_field(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, browsers: list[Browser]
) -> None:
    browser = await browser_as(browsers, engine, world.parent_a1, clock)
    token = await browser.csrf(base + "/messages/new")
    form = {"csrf_token": token, "recipient": str(world.teacher_math), "body": "Когда?"}
    for topic, code in (
        ("Об\x01оценке", "U+0001"),
        ("Об\x08оценке", "U+0008"),
        ("Об\tоценке", "U+0009"),
    ):
        resp = await browser.post(base + "/messages/new", {**form, "topic": topic})
        html = await resp.text()
        assert resp.status == 400, html
        assert "Тема:" in html and code in html
    assert await count(engine, Conversation) == 0


async def test_message_body_keeps_line_breaks_and_tabs_but_not_a_control_character(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, browsers: list[Browser]
) -> None:
    browser = await browser_as(browsers, engine, world.parent_a1, clock)
    token = await browser.csrf(base + "/messages/new")
    form = {"csrf_token": token, "recipient": str(world.teacher_math), "topic": "Контрольная"}
    bad = await browser.post(base + "/messages/new", {**form, "body": "Когда\x0b?"})
    assert bad.status == 400 and "Сообщение:" in await bad.text() and "U+000B" in await bad.text()
    lone_cr = await browser.post(base + "/messages/new", {**form, "body": "Когда\r?"})
    assert lone_cr.status == 400
    assert await count(engine, Conversation) == 0
    good = await browser.post(
        base + "/messages/new", {**form, "body": "Здравствуйте!\r\n\tКогда контрольная?"}
    )
    assert good.status == 303, await good.text()
    async with AsyncSession(engine) as db:
        body = await db.scalar(select(Message.body))
    assert body is not None and "\n" in body and "\tКогда" in body


async def test_announcement_title_is_one_line_and_its_text_may_have_several(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, browsers: list[Browser]
) -> None:
    browser = await browser_as(browsers, engine, world.ct_5a, clock)
    url = f"{base}/console/class/{world.class_5a}/announcements"
    token = await browser.csrf(url)
    form = {"csrf_token": token, "kind": "general", "body": "Пункт 1\r\n\tПункт 2"}
    for title, code in (("Собрание\x01", "U+0001"), ("Собрание\r\nзавтра", "U+000D")):
        resp = await browser.post(url, {**form, "title": title})
        html = await resp.text()
        assert resp.status == 400, html
        assert "Заголовок:" in html and code in html
    assert await count(engine, Announcement) == 0
    resp = await browser.post(url, {**form, "title": "Собрание"})
    assert resp.status == 303, await resp.text()
    async with AsyncSession(engine) as db:
        body = await db.scalar(select(Announcement.body))
    assert body is not None and body.startswith("Пункт 1") and "\n\tПункт 2" in body


async def test_staff_member_name_with_a_control_character_is_refused(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, browsers: list[Browser]
) -> None:
    browser = await browser_as(browsers, engine, world.admin_a, clock)
    token = await browser.csrf(base + "/console/admin/staff")
    resp = await browser.post(
        base + "/console/admin/staff",
        {
            "csrf_token": token,
            "school_id": str(world.a.id),
            "last_name": "Нови\x08кова",
            "first_name": "Зоя",
            "middle_name": "Павловна",
            "roles": "teacher",
        },
    )
    html = await resp.text()
    assert resp.status == 400, html
    assert "Фамилия:" in html and "U+0008" in html
    assert await count(engine, User, User.first_name == "Зоя") == 0


async def test_api_names_the_field_of_a_control_character(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, browsers: list[Browser]
) -> None:
    browser = await browser_as(browsers, engine, world.parent_a1, clock)
    api = Api(base, browser)
    await api.sign_csrf()
    body = {"recipient_ids": [world.teacher_math], "topic": "Контрольная", "body": "Когда?"}
    topic = await api.call("POST", "/conversations", body={**body, "topic": "Контр\x01ольная"})
    assert topic.status == 400, topic.text
    assert topic.headers["Content-Type"].startswith("application/problem+json")
    assert topic.body["field"] == "topic" and "U+0001" in topic.body["detail"]
    # A lone surrogate arrives through JSON's \\ud800 escape: no UTF-8 text can hold one.
    raw = json.dumps({**body, "body": "Когда\ud800?"})
    surrogate = await api.call("POST", "/conversations", raw=raw)
    assert surrogate.status == 400, surrogate.text
    assert surrogate.body["field"] == "body" and "U+D800" in surrogate.body["detail"]
    nonchar = await api.call("POST", "/conversations", body={**body, "body": "Когда\uffff?"})
    assert nonchar.status == 400 and nonchar.body["field"] == "body"
    assert await count(engine, Conversation) == 0
    good = await api.call("POST", "/conversations", body={**body, "body": "Когда?\n\tВ пятницу?"})
    assert good.status == 201, good.text


async def test_a_mark_comment_takes_line_breaks_but_no_control_character(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, browsers: list[Browser]
) -> None:
    from diary_core.models import Mark

    browser = await browser_as(browsers, engine, world.teacher_math, clock)
    api = Api(base, browser)
    await api.sign_csrf()
    body = {
        "pupil_id": world.pupil_a1,
        "subject_id": world.math_a,
        "date": "2025-10-15",
        "value": "5",
        "work_type_id": world.a.work_type_ids["Контрольная работа"],
    }
    bad = await api.call("POST", "/marks", body={**body, "comment": "Отлично\x01"})
    assert bad.status == 400, bad.text
    assert bad.body["field"] == "comment" and "U+0001" in bad.body["detail"]
    assert await count(engine, Mark) == 0
    good = await api.call("POST", "/marks", body={**body, "comment": "Отлично.\nБез ошибок."})
    assert good.status == 201, good.text
