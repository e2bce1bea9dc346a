"""Messages, announcements, notifications and the question to the administrator over HTTP
(docs/regulation.md, clauses 2.2, 2.3, 3.2, 4.1, 5.1, 6.1): who may write to whom, reply tracking,
read state, and that forms refuse forged or token-less posts without writing anything."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core import announcements
from diary_core.actors import load_user_target
from diary_core.clock import FixedClock
from diary_core.models import (
    AnnouncementReceipt,
    Conversation,
    ConversationParticipant,
    Message,
    Notification,
    User,
)
from diary_core.policy import Action, allowed
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World


@dataclass
class Site:
    base: str
    world: World
    engine: AsyncEngine
    clock: FixedClock

    async def browser(self, user_id: int) -> Browser:
        browser = Browser()
        await sign_in_as(browser, self.engine, user_id, self.clock.now())
        return browser

    async def count(self, model: type, *where: object) -> int:
        async with AsyncSession(self.engine) as db:
            return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture
async def site(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[Site]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield Site(url, world, engine, clock)


def _recipient_options(html: str) -> set[int]:
    select_ = re.search(r'<select name="recipient".*?</select>', html, re.S)
    assert select_, "no recipient list on the form"
    return {int(v) for v in re.findall(r'<option value="(\d+)"', select_.group(0))}


async def _write(
    browser: Browser, base: str, recipient: int, topic: str, body: str, pupil: int | None = None
) -> tuple[int, str]:
    token = await browser.csrf(base + "/messages/new")
    data = {"csrf_token": token, "recipient": str(recipient), "topic": topic, "body": body}
    if pupil is not None:
        data["pupil"] = str(pupil)
    resp = await browser.post(base + "/messages/new", data)
    return resp.status, resp.headers.get("Location", "")


# --- who may write to whom ------------------------------------------------------------------


async def test_parent_form_offers_exactly_whom_the_policy_allows(site: Site) -> None:
    w = site.world
    browser = await site.browser(w.parent_a1)
    html = await (await browser.get(site.base + "/messages/new")).text()
    await browser.close()
    offered = _recipient_options(html)
    assert offered == {w.teacher_math, w.ct_5a, w.admin_a}
    actor = await w.actor(w.parent_a1)
    everyone = list(await w.session.scalars(select(User.id)))
    expected = {
        u for u in everyone if allowed(actor, Action.MESSAGE, await load_user_target(w.session, u))
    }
    assert offered == expected
    assert "Буквина" not in html and "Чужова" not in html and "Директорова" not in html
    assert "Математика (5А)" in html  # what the teacher teaches the child


async def test_pupil_may_write_to_his_teachers_only(site: Site) -> None:
    w = site.world
    browser = await site.browser(w.pupil_a1_user)
    html = await (await browser.get(site.base + "/messages/new")).text()
    await browser.close()
    assert _recipient_options(html) == {w.teacher_math, w.ct_5a}


async def test_teacher_form_offers_colleagues_and_families_of_his_classes(site: Site) -> None:
    w = site.world
    browser = await site.browser(w.ct_5a)
    html = await (await browser.get(site.base + "/messages/new")).text()
    await browser.close()
    offered = _recipient_options(html)
    assert {
        w.admin_a,
        w.teacher_math,
        w.ct_5b,
        w.parent_a1,
        w.parent_a2,
        w.pupil_a1_user,
    } <= offered
    assert not offered & {w.parent_b1, w.pupil_b1_user, w.admin_b, w.teacher_b, w.parent_z1}
    actor = await w.actor(w.ct_5a)
    for user_id in offered:
        assert allowed(actor, Action.MESSAGE, await load_user_target(w.session, user_id))


async def test_parent_cannot_write_to_a_teacher_of_another_class(site: Site) -> None:
    w = site.world
    browser = await site.browser(w.parent_a1)
    for forged in (w.ct_5b, w.teacher_b, w.admin_b, w.parent_a2):
        status, _ = await _write(browser, site.base, forged, "Вопрос", "Здравствуйте!")
        assert status in (403, 404)
    status, _ = await _write(browser, site.base, w.teacher_math, "Вопрос", "Текст", w.pupil_b1)
    assert status in (403, 404)
    await browser.close()
    assert await site.count(Conversation) == 0
    assert await site.count(Message) == 0


async def test_bad_message_form_is_shown_again_with_what_was_typed(site: Site) -> None:
    w = site.world
    browser = await site.browser(w.parent_a1)
    token = await browser.csrf(site.base + "/messages/new")
    resp = await browser.post(
        site.base + "/messages/new",
        {"csrf_token": token, "recipient": str(w.teacher_math), "topic": "Об оценке", "body": " "},
    )
    html = await resp.text()
    await browser.close()
    assert resp.status == 400
    assert "сообщение не может быть пустым" in html
    assert 'value="Об оценке"' in html
    assert re.search(rf'<option value="{w.teacher_math}" selected', html)
    assert await site.count(Conversation) == 0


# --- a conversation from start to answer ----------------------------------------------------


async def test_parent_writes_teacher_sees_awaiting_and_answers(site: Site) -> None:
    w = site.world
    parent = await site.browser(w.parent_a1)
    status, location = await _write(
        parent,
        site.base,
        w.teacher_math,
        "Контрольная по дробям",
        "Можно ли переписать?",
        w.pupil_a1,
    )
    assert status == 303 and location.startswith("/messages/")
    thread_url = site.base + location
    site.clock.advance(timedelta(minutes=5))

    teacher = await site.browser(w.teacher_math)
    listing = await (await teacher.get(site.base + "/messages?awaiting=1")).text()
    assert "Контрольная по дробям" in listing and "ожидает ответа" in listing
    assert "Смирнов Артём, 5А" in listing
    assert re.search(r'class="badge"[^>]*>1<', listing)  # one unread
    thread = await (await teacher.get(thread_url)).text()
    assert "Можно ли переписать?" in thread
    token = await teacher.csrf(thread_url)
    answer = await teacher.post(thread_url, {"csrf_token": token, "body": "Да, в четверг."})
    assert answer.status == 303
    after = await (await teacher.get(site.base + "/messages?awaiting=1")).text()
    assert "Контрольная по дробям" not in after and "Все сообщения отвечены" in after
    await teacher.close()
    site.clock.advance(timedelta(minutes=5))

    listing = await (await parent.get(site.base + "/messages")).text()
    assert re.search(r'class="badge"[^>]*>1<', listing)
    seen = await (await parent.get(thread_url)).text()
    assert "Да, в четверг." in seen and "Числова Мария" in seen
    listing = await (await parent.get(site.base + "/messages")).text()
    assert not re.search(r'class="badge"[^>]*>\d+<', listing)  # read now
    await parent.close()


async def test_thread_overdue_after_seven_days_is_marked_for_the_teacher(site: Site) -> None:
    w = site.world
    parent = await site.browser(w.parent_a1)
    _, location = await _write(parent, site.base, w.teacher_math, "Учебник", "Где взять?")
    await parent.close()
    site.clock.advance(timedelta(days=7))
    teacher = await site.browser(w.teacher_math)
    listing = await (await teacher.get(site.base + "/messages")).text()
    thread = await (await teacher.get(site.base + location)).text()
    await teacher.close()
    assert "просрочено" in listing and "Просрочено (без ответа 7 дней и больше): 1" in listing
    assert "Просрочено" in thread


async def test_non_participant_gets_not_found_on_a_thread(site: Site) -> None:
    w = site.world
    parent = await site.browser(w.parent_a1)
    _, location = await _write(parent, site.base, w.teacher_math, "Личное", "Секретный текст")
    await parent.close()
    for outsider in (w.parent_a2, w.ct_5a, w.admin_a, w.admin_b):
        browser = await site.browser(outsider)
        page = await browser.get(site.base + location)
        assert page.status == 404
        assert "Секретный текст" not in await page.text()
        await browser.close()
    intruder = await site.browser(w.parent_a2)
    token = await intruder.csrf(site.base + "/messages/new")
    resp = await intruder.post(site.base + location, {"csrf_token": token, "body": "Влез"})
    await intruder.close()
    assert resp.status == 404
    assert await site.count(Message) == 1


async def test_question_to_the_administrator_reaches_the_school_administrators(
    site: Site,
) -> None:
    w = site.world
    parent = await site.browser(w.parent_a1)
    token = await parent.csrf(site.base + "/question")
    resp = await parent.post(
        site.base + "/question",
        {"csrf_token": token, "topic": "Не вижу отметок", "body": "Что делать?"},
    )
    await parent.close()
    assert resp.status == 303
    conversation_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    async with AsyncSession(site.engine) as db:
        conv = await db.get(Conversation, conversation_id)
        assert conv is not None and conv.kind == "admin_question" and conv.school_id == w.a.id
        members = set(
            await db.scalars(
                select(ConversationParticipant.user_id).where(
                    ConversationParticipant.conversation_id == conversation_id
                )
            )
        )
    assert members == {w.parent_a1, w.admin_a}
    admin = await site.browser(w.admin_a)
    listing = await (await admin.get(site.base + "/messages")).text()
    await admin.close()
    assert "Не вижу отметок" in listing and "Вопрос администрации" in listing
    other = await site.browser(w.admin_b)
    assert "Не вижу отметок" not in await (await other.get(site.base + "/messages")).text()
    await other.close()


async def test_question_form_keeps_text_and_a_person_without_school_cannot_ask(
    site: Site,
) -> None:
    w = site.world
    parent = await site.browser(w.parent_a1)
    token = await parent.csrf(site.base + "/question")
    resp = await parent.post(
        site.base + "/question", {"csrf_token": token, "topic": "", "body": "Мой вопрос"}
    )
    html = await resp.text()
    await parent.close()
    assert resp.status == 400 and "укажите тему" in html and "Мой вопрос" in html
    pending = await site.browser(w.parent_pending)
    page = await (await pending.get(site.base + "/question")).text()
    assert "отправить некому" in page
    await pending.close()
    assert await site.count(Conversation) == 0


# --- announcements --------------------------------------------------------------------------


async def _announce(site: Site) -> tuple[int, int, int]:
    """An older school announcement, a newer class meeting for 5А, another school's one."""
    w = site.world
    older = await announcements.announce(
        await w.ctx(w.admin_a), "Осенние каникулы", "С 27 октября.", "general", w.a.id
    )
    site.clock.advance(timedelta(hours=1))
    meeting = await announcements.announce(
        await w.ctx(w.ct_5a),
        "Собрание 5А",
        "В пятницу в 18:00.",
        "parent_meeting",
        w.a.id,
        w.class_5a,
    )
    foreign = await announcements.announce(
        await w.ctx(w.admin_b), "Чужое объявление", "Не для вас.", "general", w.b.id
    )
    await w.session.commit()
    return older.id, meeting.id, foreign.id


async def test_announcements_unread_first_and_reading_marks_them(site: Site) -> None:
    w = site.world
    _, meeting, foreign = await _announce(site)
    browser = await site.browser(w.parent_a1)
    html = await (await browser.get(site.base + "/announcements")).text()
    assert html.index("Собрание 5А") < html.index("Осенние каникулы")  # both unread: newest
    assert "Чужое объявление" not in html
    token = await browser.csrf(site.base + "/announcements")
    resp = await browser.post(site.base + f"/announcements/{meeting}/read", {"csrf_token": token})
    assert resp.status == 303
    html = await (await browser.get(site.base + "/announcements")).text()
    assert html.index("Осенние каникулы") < html.index("Собрание 5А")  # unread first
    assert (
        await site.count(
            AnnouncementReceipt,
            AnnouncementReceipt.user_id == w.parent_a1,
            AnnouncementReceipt.announcement_id == meeting,
        )
        == 1
    )
    refused = await browser.post(
        site.base + f"/announcements/{foreign}/read", {"csrf_token": token}
    )
    assert refused.status == 404
    resp = await browser.post(site.base + "/announcements/read-all", {"csrf_token": token})
    assert resp.status == 303
    await browser.close()
    assert await site.count(AnnouncementReceipt, AnnouncementReceipt.user_id == w.parent_a1) == 2
    assert (
        await site.count(AnnouncementReceipt, AnnouncementReceipt.announcement_id == foreign) == 0
    )


# --- notifications --------------------------------------------------------------------------


async def test_notifications_listed_and_marked_read(site: Site) -> None:
    w = site.world
    await _announce(site)  # the meeting notifies 5А's parents
    parent = await site.browser(w.parent_a1)
    await _write(parent, site.base, w.teacher_math, "Тема", "Текст")
    await parent.close()
    teacher = await site.browser(w.teacher_math)
    html = await (await teacher.get(site.base + "/notifications")).text()
    assert "Новое сообщение от Смирновой Елены Петровны" in html and "новое" in html
    mine = re.findall(r'name="id" value="(\d+)"', html)
    assert len(mine) == 1
    token = await teacher.csrf(site.base + "/notifications")
    others = await site.count(Notification, Notification.read_at.is_not(None))
    meeting_note = await w.session.scalar(
        select(Notification.id).where(Notification.user_id == w.parent_a1)
    )
    resp = await teacher.post(
        site.base + "/notifications/read",
        {"csrf_token": token, "id": str(meeting_note)},  # someone else's: skipped
    )
    assert resp.status == 303
    assert await site.count(Notification, Notification.read_at.is_not(None)) == others
    resp = await teacher.post(
        site.base + "/notifications/read", {"csrf_token": token, "id": mine[0]}
    )
    assert resp.status == 303
    html = await (await teacher.get(site.base + "/notifications")).text()
    await teacher.close()
    assert 'name="id"' not in html and "Новое сообщение" in html
    assert (
        await site.count(
            Notification, Notification.user_id == w.teacher_math, Notification.read_at.is_(None)
        )
        == 0
    )

    parent = await site.browser(w.parent_a1)
    html = await (await parent.get(site.base + "/notifications")).text()
    assert "Родительское собрание (5А): Собрание 5А" in html
    token = await parent.csrf(site.base + "/notifications")
    await parent.post(site.base + "/notifications/read", {"csrf_token": token, "all": "1"})
    await parent.close()
    assert (
        await site.count(
            Notification, Notification.user_id == w.parent_a1, Notification.read_at.is_(None)
        )
        == 0
    )


# --- CSRF -----------------------------------------------------------------------------------


async def test_every_form_refuses_a_post_without_csrf_token(site: Site) -> None:
    w = site.world
    _, meeting, _ = await _announce(site)
    parent = await site.browser(w.parent_a1)
    _, location = await _write(parent, site.base, w.teacher_math, "Тема", "Текст")
    note = await w.session.scalar(
        select(Notification.id).where(Notification.user_id == w.parent_a1)
    )
    before = (
        await site.count(Conversation),
        await site.count(Message),
        await site.count(AnnouncementReceipt),
        await site.count(Notification, Notification.read_at.is_not(None)),
    )
    forms = {
        "/messages/new": {"recipient": str(w.teacher_math), "topic": "Т", "body": "Б"},
        location: {"body": "Ответ без токена"},
        "/question": {"topic": "Т", "body": "Б"},
        f"/announcements/{meeting}/read": {},
        "/announcements/read-all": {},
        "/notifications/read": {"id": str(note), "all": "1"},
    }
    for path, data in forms.items():
        resp = await parent.post(site.base + path, data)
        assert resp.status == 403, path
        wrong = await parent.post(site.base + path, {**data, "csrf_token": "x" * 43})
        assert wrong.status == 403, path
    await parent.close()
    after = (
        await site.count(Conversation),
        await site.count(Message),
        await site.count(AnnouncementReceipt),
        await site.count(Notification, Notification.read_at.is_not(None)),
    )
    assert after == before


async def test_pages_ask_to_sign_in(site: Site) -> None:
    browser = Browser()
    for path in ("/messages", "/messages/new", "/announcements", "/notifications", "/question"):
        resp = await browser.get(site.base + path)
        assert resp.status == 303 and resp.headers["Location"].startswith("/login"), path
    await browser.close()
