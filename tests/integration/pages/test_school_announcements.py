"""School-wide announcements from the administrator's console (docs/regulation.md, clause 2.3) over
HTTP: the whole school, staff only, the parents of a grade, several classes; who sees each on
every read path (the list, the diary, the announcement's own address, the API), editing
and expiring, and read receipts «прочитали N из M» with names."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core import families, school
from diary_core.clock import FixedClock
from diary_core.context import Ctx
from diary_core.models import Announcement, AuditEvent, Notification
from diary_core.policy import Actor
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World, _parent, _pupil

URL = "/console/admin/announcements"


@dataclass
class Site:
    base: str
    world: World
    engine: AsyncEngine
    clock: FixedClock
    class_6a: int
    parent_6a: int
    pupil_6a_user: int
    pupil_6a: int

    async def browser(self, user_id: int) -> Browser:
        browser = Browser()
        await sign_in_as(browser, self.engine, user_id, self.clock.now())
        return browser

    async def page(self, user_id: int, path: str) -> tuple[int, str]:
        browser = await self.browser(user_id)
        try:
            resp = await browser.get(self.base + path)
            return resp.status, html_lib.unescape(await resp.text())
        finally:
            await browser.close()

    async def announce(self, fields: list[tuple[str, str]]) -> tuple[int, str, int | None]:
        """The administrator posts the console's form; returns the status, the page and the
        new announcement's id."""
        browser = await self.browser(self.world.admin_a)
        try:
            token = await browser.csrf(self.base + URL)
            resp = await browser.http.post(
                self.base + URL,
                data=[("csrf_token", token), *fields],
                allow_redirects=False,
            )
            body = html_lib.unescape(await resp.text())
        finally:
            await browser.close()
        async with AsyncSession(self.engine) as db:
            newest = await db.scalar(select(Announcement.id).order_by(Announcement.id.desc()))
        return resp.status, body, newest


@pytest.fixture
async def site(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[Site]:
    async with AsyncSession(engine) as db:
        ctx = Ctx(db, Actor.system_actor(), clock)
        c6a = (await school.create_class(ctx, world.a.id, world.a.year_id, "6А")).id
        pupil, pupil_user = await _pupil(ctx, c6a, "Шестов", "Пётр")
        parent = await _parent(ctx, pupil, "Шестова", "Галина", confirmed=True)
        await db.commit()
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield Site(url, world, engine, clock, c6a, parent, pupil_user, pupil)


def _fields(audience: str, title: str, **extra: str | list[str]) -> list[tuple[str, str]]:
    out = [
        ("audience", audience),
        ("kind", str(extra.pop("kind", "general"))),
        ("title", title),
        ("body", f"Текст: {title}"),
    ]
    for name, value in extra.items():
        for v in [value] if isinstance(value, str) else value:
            out.append((name, v))
    return out


async def _sees(site: Site, user_id: int, ann_id: int, title: str) -> bool:
    """Whether the person sees the announcement on every read path alike (and the missing
    one's 404 otherwise): /announcements, its own address, and the API's list."""
    status_list, listing = await site.page(user_id, "/announcements")
    assert status_list == 200
    status_one, one = await site.page(user_id, f"/announcements/{ann_id}")
    status_api, api = await site.page(user_id, "/api/v1/announcements")
    assert status_api == 200, api
    in_list = title in listing
    assert (title in api) == in_list
    if in_list:
        assert status_one == 200 and title in one
    else:
        _, missing = await site.page(user_id, "/announcements/999999")
        assert status_one == 404
        assert title not in one
        assert _main(one) == _main(missing)  # exactly as a missing one
    return in_list


def _main(page: str) -> str:
    found = re.search(r"<main>.*</main>", page, re.S)
    assert found
    return found.group(0)


async def test_the_console_lists_announcements_in_its_navigation(site: Site) -> None:
    status, page = await site.page(site.world.admin_a, "/console/admin/staff")
    assert status == 200 and 'href="/console/admin/announcements"' in page
    status, page = await site.page(site.world.admin_a, URL)
    assert status == 200 and "Новое объявление" in page
    assert 'name="csrf_token"' in page and 'name="class_ids"' in page and "6А" in page
    for teacher in (site.world.teacher_math, site.world.parent_a1):
        status, _ = await site.page(teacher, URL)
        assert status == 403


async def test_whole_school(site: Site) -> None:
    w = site.world
    status, body, ann = await site.announce(_fields("school", "День открытых дверей"))
    assert status == 303, body
    assert ann is not None
    for reader in (w.parent_a1, w.parent_b1, site.parent_6a, w.teacher_math, w.pupil_a1_user):
        assert await _sees(site, reader, ann, "День открытых дверей"), reader
    for other_school in (w.parent_z1, w.teacher_b):
        assert not await _sees(site, other_school, ann, "День открытых дверей")
    _, diary = await site.page(w.parent_b1, "/diary")
    assert "День открытых дверей" in diary


async def test_staff_only_never_reaches_families(site: Site) -> None:
    w = site.world
    status, body, ann = await site.announce(_fields("staff", "Педсовет в четверг"))
    assert status == 303, body
    assert ann is not None
    for staff in (w.teacher_math, w.ct_5a, w.admin_a):
        assert await _sees(site, staff, ann, "Педсовет в четверг")
    for family in (w.parent_a1, w.parent_b1, site.parent_6a, w.pupil_a1_user, w.pupil_b1_user):
        assert not await _sees(site, family, ann, "Педсовет в четверг"), family
        _, diary = await site.page(family, "/diary")
        assert "Педсовет в четверг" not in diary
    # nor may a family mark it read, nor see its receipts
    browser = await site.browser(w.parent_a1)
    token = await browser.csrf(site.base + "/logout")
    resp = await browser.post(site.base + f"/announcements/{ann}/read", {"csrf_token": token})
    assert resp.status == 404
    await browser.close()


async def test_parents_of_a_grade(site: Site) -> None:
    w = site.world
    status, body, ann = await site.announce(
        _fields("grade", "Собрание пятых классов", grade="5", kind="parent_meeting")
    )
    assert status == 303, body
    assert ann is not None
    for parent in (w.parent_a1, w.parent_a2, w.parent_b1):
        assert await _sees(site, parent, ann, "Собрание пятых классов"), parent
    for not_addressed in (site.parent_6a, w.pupil_a1_user, w.parent_pending, w.parent_z1):
        assert not await _sees(site, not_addressed, ann, "Собрание пятых классов")
    async with AsyncSession(site.engine) as db:
        notified = set(
            await db.scalars(select(Notification.user_id).where(Notification.kind == "meeting"))
        )
    assert notified == {w.parent_a1, w.parent_a2, w.parent_b1}


async def test_several_classes(site: Site) -> None:
    w = site.world
    status, body, ann = await site.announce(
        _fields("classes", "Экскурсия", class_ids=[str(w.class_5a), str(site.class_6a)])
    )
    assert status == 303, body
    assert ann is not None
    for reader in (w.parent_a1, w.pupil_a1_user, site.parent_6a, site.pupil_6a_user, w.ct_5a):
        assert await _sees(site, reader, ann, "Экскурсия"), reader
    for not_addressed in (w.parent_b1, w.pupil_b1_user, w.ct_5b):
        assert not await _sees(site, not_addressed, ann, "Экскурсия"), not_addressed
    _, listing = await site.page(w.admin_a, URL)
    assert "для классов 5А, 6А" in listing


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        (_fields("grade", "Без параллели"), "не выбрана параллель"),
        (_fields("grade", "Нет такой", grade="9"), "в школе нет классов параллели 9"),
        (_fields("classes", "Без классов"), "не выбран ни один класс"),
        (_fields("everyone", "Круг"), "неизвестный круг получателей «everyone»"),
        (_fields("school", " "), "Заголовок: текст не может быть пустым"),
    ],
)
async def test_bad_forms_say_what_is_wrong(
    site: Site, fields: list[tuple[str, str]], said: str
) -> None:
    status, body, ann = await site.announce(fields)
    assert status == 400
    assert said in body
    assert ann is None


async def test_another_schools_class_is_refused(site: Site) -> None:
    status, _, ann = await site.announce(
        _fields("classes", "Чужой класс", class_ids=[str(site.world.class_7a)])
    )
    assert status == 404
    assert ann is None


async def test_edit_and_expire(site: Site) -> None:
    w = site.world
    _, _, ann = await site.announce(_fields("school", "Старый заголовок", expires="2099-12-31"))
    assert ann is not None
    admin = await site.browser(w.admin_a)
    page = html_lib.unescape(await (await admin.get(site.base + f"{URL}/{ann}")).text())
    assert 'value="2099-12-31"' in page and "Старый заголовок" in page
    token = await admin.csrf(site.base + f"{URL}/{ann}")
    resp = await admin.post(
        site.base + f"{URL}/{ann}",
        {
            "csrf_token": token,
            "kind": "timetable_change",
            "title": "Новый заголовок",
            "body": "Исправленный текст",
            "expires": "",
        },
    )
    assert resp.status == 303
    _, listing = await site.page(w.parent_a1, "/announcements")
    assert "Новый заголовок" in listing and "Исправленный текст" in listing
    assert "Старый заголовок" not in listing and "изменение расписания" in listing
    # without a token nothing changes
    resp = await admin.post(site.base + f"{URL}/{ann}/expire", {})
    assert resp.status == 403
    assert await _sees(site, w.parent_a1, ann, "Новый заголовок")
    resp = await admin.post(site.base + f"{URL}/{ann}/expire", {"csrf_token": token})
    assert resp.status == 303
    site.clock.advance(timedelta(seconds=1))
    for reader in (w.parent_a1, w.parent_b1, w.teacher_math):
        assert not await _sees(site, reader, ann, "Новый заголовок")
    page = html_lib.unescape(await (await admin.get(site.base + f"{URL}/{ann}")).text())
    assert "Снято с показа" in page
    _, listing = await site.page(w.admin_a, URL)
    assert "снято с показа" in listing
    await admin.close()
    async with AsyncSession(site.engine) as db:
        actions = set(
            await db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(ann)))
        )
    assert {"announcement.create", "announcement.edit", "announcement.expire"} <= actions


async def test_a_teacher_cannot_edit_a_school_announcement(site: Site) -> None:
    _, _, ann = await site.announce(_fields("school", "Только администрация правит"))
    browser = await site.browser(site.world.teacher_math)
    token = await browser.csrf(site.base + "/logout")
    resp = await browser.post(
        site.base + f"{URL}/{ann}",
        {"csrf_token": token, "kind": "general", "title": "Взлом", "body": "x"},
    )
    assert resp.status == 403
    await browser.close()
    _, listing = await site.page(site.world.parent_a1, "/announcements")
    assert "Только администрация правит" in listing and "Взлом" not in listing


async def test_read_receipts_with_names(site: Site) -> None:
    w = site.world
    _, _, ann = await site.announce(_fields("grade", "Сдача норм ГТО", grade="5"))
    assert ann is not None
    _, console = await site.page(w.admin_a, URL)
    assert "прочитали 0 из 3" in console
    await site.page(w.parent_a1, f"/announcements/{ann}")  # opening it marks it read
    browser = await site.browser(w.parent_b1)
    token = await browser.csrf(site.base + "/logout")
    resp = await browser.post(site.base + f"/announcements/{ann}/read", {"csrf_token": token})
    assert resp.status == 303
    await browser.close()
    _, console = await site.page(w.admin_a, URL)
    assert "прочитали 2 из 3" in console
    _, one = await site.page(w.admin_a, f"{URL}/{ann}")
    assert "Прочитали 2 из 3" in one
    read_part, not_read_part = one.split("<h3>Не прочитали</h3>")
    read_part = read_part.split("<h3>Прочитали</h3>")[1]
    assert "Смирнова Елена" in read_part and "Попова Анна" in read_part
    assert "Кузнецова Ирина" in not_read_part and "Кузнецова Ирина" not in read_part
    # the author sees the same on the announcement's own page; a parent does not
    _, own = await site.page(w.admin_a, f"/announcements/{ann}")
    assert "Прочитали 2 из 3" in own and "Кузнецова Ирина" in own
    _, parents_view = await site.page(w.parent_a1, f"/announcements/{ann}")
    assert "Сдача норм ГТО" in parents_view and "Прочитали 2 из 3" not in parents_view


async def test_class_teacher_sees_receipts_of_his_class_announcement(site: Site) -> None:
    w = site.world
    browser = await site.browser(w.ct_5a)
    path = f"/console/class/{w.class_5a}/announcements"
    token = await browser.csrf(site.base + path)
    resp = await browser.post(
        site.base + path,
        {"csrf_token": token, "kind": "general", "title": "Субботник", "body": "В субботу."},
    )
    assert resp.status == 303
    async with AsyncSession(site.engine) as db:
        ann = await db.scalar(select(Announcement.id).where(Announcement.title == "Субботник"))
    await site.page(w.parent_a2, f"/announcements/{ann}")
    page = html_lib.unescape(await (await browser.get(site.base + path)).text())
    assert f'href="/announcements/{ann}#receipts"' in page
    own = html_lib.unescape(await (await browser.get(site.base + f"/announcements/{ann}")).text())
    await browser.close()
    # 5А: two pupils, two confirmed parents, its math teacher and its class teacher, who
    # has just opened it himself
    assert "Прочитали 2 из 6" in own and "Кузнецова Ирина" in own
    status, _ = await site.page(w.ct_5b, f"/announcements/{ann}")
    assert status == 404


async def test_each_childs_diary_shows_what_concerns_that_child(site: Site) -> None:
    """A parent of a 6А pupil and of a 5Б pupil: the grade-5 parents' announcement and one to
    5А and 5Б are in the 5Б child's diary, not in the 6А child's; the school's is in both."""
    w = site.world
    async with AsyncSession(site.engine) as db:
        ctx = Ctx(db, Actor.system_actor(), site.clock)
        await families.link_guardian(
            ctx, site.parent_6a, w.pupil_b1, source="roster", confirmed=True
        )
        await db.commit()
    await site.announce(_fields("grade", "Пятиклассникам", grade="5"))
    await site.announce(
        _fields("classes", "Двум пятым", class_ids=[str(w.class_5a), str(w.class_5b)])
    )
    await site.announce(_fields("school", "Всей школе"))
    _, fifth = await site.page(site.parent_6a, f"/diary?pupil={w.pupil_b1}")
    _, sixth = await site.page(site.parent_6a, f"/diary?pupil={site.pupil_6a}")
    for title in ("Пятиклассникам", "Двум пятым", "Всей школе"):
        assert title in fifth
    assert "Всей школе" in sixth
    assert "Пятиклассникам" not in sixth and "Двум пятым" not in sixth
