"""The administrator's console over real HTTP (docs/regulation.md, clauses 3.1, 3.2, 5.1, 6.2):
staff accounts and credential slips, classes, the timetable and its publishing, imports, the
reply-deadline dashboard, the audit log and period-mark locking; other schools and other roles kept
out."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core import messaging, period_marks
from diary_core.accounts import HASHER
from diary_core.admin_views import audit_search
from diary_core.clock import FixedClock
from diary_core.errors import Conflict
from diary_core.imports import ROSTER_COLUMNS
from diary_core.models import (
    AuditEvent,
    Pupil,
    SchoolClass,
    Subject,
    Timetable,
    User,
    UserRole,
)
from diary_core.snils import make_snils
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

PAGES = (
    "/console/admin/staff",
    "/console/admin/classes",
    "/console/admin/timetable",
    "/console/admin/import",
    "/console/admin/replies",
    "/console/admin/audit",
    "/console/admin/periods",
)


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


async def signed_in(browser: Browser, engine: AsyncEngine, user_id: int, clock: FixedClock) -> None:
    await sign_in_as(browser, engine, user_id, clock.now())


async def scalar(engine: AsyncEngine, query: object) -> object:
    async with AsyncSession(engine) as db:
        return await db.scalar(query)  # type: ignore[call-overload]


def table(html: str, css_class: str) -> str:
    found = re.search(rf'<table class="{css_class}">(.*?)</table>', html, re.S)
    return found.group(1) if found else ""


async def upload(
    browser: Browser, url: str, token: str | None, kind: str, content: bytes
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    if token is not None:
        form.add_field("csrf_token", token)
    form.add_field("kind", kind)
    form.add_field("file", content, filename=f"{kind}.csv", content_type="text/csv")
    resp = await browser.http.post(url, data=form, allow_redirects=False)
    await resp.read()
    return resp


def roster_csv(*rows: tuple[str, ...]) -> bytes:
    lines = [",".join(ROSTER_COLUMNS), *(",".join(r) for r in rows)]
    return ("\n".join(lines) + "\n").encode()


def roster_row(
    cls: str, last: str, first: str, snils: str, parent_snils: str = ""
) -> tuple[str, ...]:
    parent = ("Орлова", "Вера", "", parent_snils, "", "") if parent_snils else ("",) * 6
    return (cls, last, first, "", "2014-05-01", snils, *parent)


# --- staff accounts and credential slips (docs/regulation.md, clause 3.1) -------------------------


async def test_admin_creates_teacher_and_issues_credentials_slip_once(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await signed_in(browser, engine, world.admin_a, clock)
    token = await browser.csrf(base + "/console/admin/staff")
    resp = await browser.post(
        base + "/console/admin/staff",
        {
            "csrf_token": token,
            "school_id": str(world.a.id),
            "last_name": "Новикова",
            "first_name": "Зоя",
            "middle_name": "Павловна",
            "roles": "teacher",
            "issue": "1",
        },
    )
    assert resp.status == 303  # a reload of the slip is a GET: it issues nothing
    resp = await browser.get(base + resp.headers["Location"])
    slip = await resp.text()
    assert resp.status == 200, slip
    assert resp.headers["Cache-Control"] == "no-store"
    password = re.search(r"Одноразовый пароль</dt><dd><code class=\"secret\">(\w+)</code>", slip)
    login = re.search(r"Логин</dt><dd><code class=\"secret\">([\w.]+)</code>", slip)
    assert (
        password
        and login
        and "@media print" in await (await browser.get(base + "/static/admin.css")).text()
    )
    async with AsyncSession(engine) as db:
        user = await db.scalar(select(User).where(User.last_name == "Новикова"))
        assert user is not None and user.school_id == world.a.id
        assert user.login == login.group(1) and user.must_change_password
        roles = set(await db.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
        stored = user.password_hash or ""
    assert roles == {"teacher"}
    assert stored.startswith("$argon2id$") and password.group(1) not in stored
    assert HASHER.verify(stored, password.group(1))
    listing = await (await browser.get(base + "/console/admin/staff")).text()
    assert "Новикова Зоя Павловна" in listing and password.group(1) not in listing


async def test_staff_form_keeps_typed_values_on_error(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await signed_in(browser, engine, world.admin_a, clock)
    token = await browser.csrf(base + "/console/admin/staff")
    resp = await browser.post(
        base + "/console/admin/staff",
        {"csrf_token": token, "last_name": "Безролева", "first_name": "Нина", "snils": "12"},
    )
    text = await resp.text()
    assert resp.status == 400
    assert 'value="Безролева"' in text and 'value="Нина"' in text and 'class="alert"' in text
    assert await scalar(engine, select(func.count()).where(User.last_name == "Безролева")) == 0


async def test_disabled_staff_account_loses_its_sessions(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    teacher = Browser()
    await signed_in(teacher, engine, world.teacher_math, clock)
    assert (await teacher.get(base + "/console")).status == 200
    await signed_in(browser, engine, world.admin_a, clock)
    token = await browser.csrf(base + "/console/admin/staff")
    url = base + f"/console/admin/staff/{world.teacher_math}/disable"
    assert (await browser.post(url, {"csrf_token": token, "confirm": "yes"})).status == 303
    refused = await teacher.get(base + "/console")
    await teacher.close()
    assert refused.status == 303 and refused.headers["Location"].startswith("/login")
    assert (
        await scalar(engine, select(AuditEvent.actor_id).where(AuditEvent.action == "user.disable"))
        == world.admin_a
    )


# --- who may enter -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["teacher_math", "ct_5a", "parent_a1", "pupil_a1_user"])
async def test_teacher_parent_and_pupil_get_403_on_every_admin_page(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock, who: str
) -> None:
    await signed_in(browser, engine, getattr(world, who), clock)
    for path in PAGES:
        resp = await browser.get(base + path)
        assert resp.status == 403, path
        assert "Буквина" not in await resp.text()
    token = await browser.csrf(base + "/account/password")
    forged = await browser.post(
        base + "/console/admin/staff",
        {"csrf_token": token, "last_name": "Самозванова", "first_name": "Ада", "roles": "teacher"},
    )
    assert forged.status == 403
    assert await scalar(engine, select(func.count()).where(User.last_name == "Самозванова")) == 0


async def test_other_school_admin_gets_404_and_writes_nothing(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await signed_in(browser, engine, world.admin_b, clock)
    own = await (await browser.get(base + "/console/admin/staff")).text()
    assert "Чужова" in own and "Числова" not in own
    for path in (
        f"/console/admin/timetable?class={world.class_5a}",
        f"/console/admin/audit?pupil={world.pupil_a1}",
        f"/console/admin/periods?period={world.a.quarter_ids[0]}&class={world.class_5a}",
    ):
        resp = await browser.get(base + path)
        assert resp.status == 404, path
        assert "Смирнов" not in await resp.text()
    token = await browser.csrf(base + "/console/admin/staff")
    posts = {
        "/console/admin/staff": {
            "school_id": str(world.a.id),
            "last_name": "Подделкина",
            "first_name": "Ева",
            "roles": "administrator",
        },
        f"/console/admin/staff/{world.teacher_math}/credentials": {},
        f"/console/admin/staff/{world.teacher_math}/disable": {},
        f"/console/admin/classes/{world.class_5a}/teacher": {"teacher": str(world.teacher_b)},
        f"/console/admin/timetable/classes/{world.class_5a}": {
            "valid_from": "20.10.2025",
            "s1_1_subject": str(world.math_b),
            "s1_1_teacher": str(world.teacher_b),
        },
        f"/console/admin/periods/{world.a.quarter_ids[0]}/lock": {},
    }
    for path, data in posts.items():
        resp = await browser.post(base + path, {"csrf_token": token, **data})
        assert resp.status == 404, path
    async with AsyncSession(engine) as db:
        assert await db.scalar(select(func.count()).where(User.last_name == "Подделкина")) == 0
        teacher = await db.get(User, world.teacher_math)
        assert teacher is not None and teacher.is_active and teacher.password_hash is None
        cls = await db.get(SchoolClass, world.class_5a)
        assert cls is not None and cls.class_teacher_id == world.ct_5a
        assert await db.scalar(select(func.count()).select_from(Timetable)) == 0


async def test_post_without_csrf_token_is_refused(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await signed_in(browser, engine, world.admin_a, clock)
    resp = await browser.post(
        base + "/console/admin/staff",
        {"last_name": "Безтокенова", "first_name": "Ия", "roles": "teacher"},
    )
    assert resp.status == 403
    upload_resp = await upload(
        browser,
        base + "/console/admin/import",
        None,
        "roster",
        roster_csv(roster_row("5А", "Орлов", "Максим", make_snils(310_000_001))),
    )
    assert upload_resp.status == 403
    assert await scalar(engine, select(func.count()).where(User.last_name == "Безтокенова")) == 0
    assert await scalar(engine, select(func.count()).where(User.last_name == "Орлов")) == 0


# --- classes, subjects, assignments --------------------------------------------------------


async def test_admin_creates_class_subject_and_assignment(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await signed_in(browser, engine, world.admin_a, clock)
    url = base + "/console/admin/classes"
    token = await browser.csrf(url)
    made = await browser.post(
        url, {"csrf_token": token, "class_name": "6а", "class_teacher": str(world.teacher_math)}
    )
    assert made.status == 303
    subject = await browser.post(
        url + "/subjects", {"csrf_token": token, "subject_name": "  История  "}
    )
    assert subject.status == 303
    async with AsyncSession(engine) as db:
        cls = await db.scalar(select(SchoolClass).where(SchoolClass.name == "6А"))
        history = await db.scalar(select(Subject.id).where(Subject.name == "История"))
    assert cls is not None and cls.class_teacher_id == world.teacher_math and history
    assigned = await browser.post(
        url + "/assignments",
        {
            "csrf_token": token,
            "a_class": str(cls.id),
            "a_subject": str(history),
            "a_teacher": str(world.ct_5b),
        },
    )
    assert assigned.status == 303
    page = await (await browser.get(url)).text()
    assert "6А" in page and "История — Буквина И." in page


async def test_duplicate_class_is_refused_and_form_keeps_typed_values(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await signed_in(browser, engine, world.admin_a, clock)
    url = base + "/console/admin/classes"
    token = await browser.csrf(url)
    resp = await browser.post(
        url, {"csrf_token": token, "class_name": "5а", "class_teacher": str(world.ct_5b)}
    )
    text = await resp.text()
    assert resp.status == 400 and "уже есть" in text and 'value="5а"' in text
    assert f'<option value="{world.ct_5b}" selected>' in text
    count = select(func.count()).where(SchoolClass.school_id == world.a.id)
    assert await scalar(engine, count) == 2


# --- timetable editor and publishing (docs/regulation.md, clause 6.2) -----------------------------


async def test_publishing_timetable_is_audited_and_shown(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await signed_in(browser, engine, world.admin_a, clock)
    page_url = base + f"/console/admin/timetable?class={world.class_5a}"
    token = await browser.csrf(page_url)
    form = {
        "csrf_token": token,
        "tt": "",
        "valid_from": "20.10.2025",
        "s1_1_subject": str(world.math_a),
        "s1_1_teacher": str(world.teacher_math),
        "s1_1_room": "12",
        "s2_3_subject": str(world.russian_a),
        "s2_3_teacher": str(world.ct_5a),
    }
    saved = await browser.post(base + f"/console/admin/timetable/classes/{world.class_5a}", form)
    assert saved.status == 303
    draft = await (await browser.get(base + saved.headers["Location"])).text()
    assert "Черновик" in draft and 'value="12"' in draft
    tt_id = await scalar(engine, select(Timetable.id).where(Timetable.class_id == world.class_5a))
    published = await browser.post(
        base + f"/console/admin/timetable/versions/{tt_id}/publish",
        {"csrf_token": token, "confirm": "yes"},
    )
    assert published.status == 303
    shown = await (await browser.get(base + published.headers["Location"])).text()
    # 10:00 UTC, shown in the school's time zone (Europe/Moscow by default)
    assert "Опубликовано 15.10.2025 13:00, Завучева Анна" in shown
    async with AsyncSession(engine) as db:
        tt = await db.get(Timetable, tt_id)
        event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "timetable.publish"))
    assert tt is not None and tt.published_by_id == world.admin_a
    assert event is not None and event.actor_id == world.admin_a and event.object_id == str(tt_id)
    log = await (await browser.get(base + "/console/admin/audit?action=timetable.publish")).text()
    assert "опубликовал(а) расписание" in table(log, "audit")


async def test_half_filled_timetable_cell_is_refused_with_typed_values(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await signed_in(browser, engine, world.admin_a, clock)
    token = await browser.csrf(base + f"/console/admin/timetable?class={world.class_5a}")
    resp = await browser.post(
        base + f"/console/admin/timetable/classes/{world.class_5a}",
        {
            "csrf_token": token,
            "tt": "",
            "valid_from": "20.10.2025",
            "s1_2_subject": str(world.math_a),
            "s1_2_room": "7Б",
        },
    )
    text = await resp.text()
    assert resp.status == 400 and "Пн, 2-й урок: выберите учителя" in text
    assert 'value="7Б"' in text and 'value="20.10.2025"' in text
    assert await scalar(engine, select(func.count()).select_from(Timetable)) == 0


# --- imports (formats: README.md) -----------------------------------------------------------------


async def test_bad_roster_import_shows_line_numbered_errors_and_writes_nothing(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await signed_in(browser, engine, world.admin_a, clock)
    url = base + "/console/admin/import"
    token = await browser.csrf(url)
    before = await scalar(engine, select(func.count()).select_from(Pupil))
    content = roster_csv(
        roster_row("5А", "Орлов", "Максим", make_snils(310_000_001)),
        roster_row("5А", "Белов", "Ян", "123-456-789 00"),
        roster_row("9Я", "Серов", "Лев", make_snils(310_000_002)),
    )
    resp = await upload(browser, url, token, "roster", content)
    text = await resp.text()
    assert resp.status == 400 and "ничего не записано" in text
    rows = re.findall(r"<tr><td>(\d+)</td><td>(?:<code>(\w+)</code>|—)</td>", text)
    assert ("3", "pupil_snils") in rows and ("4", "class") in rows
    assert await scalar(engine, select(func.count()).select_from(Pupil)) == before
    assert await scalar(engine, select(func.count()).where(User.last_name == "Орлов")) == 0


async def test_good_roster_import_writes_and_shows_counts(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await signed_in(browser, engine, world.admin_a, clock)
    url = base + "/console/admin/import"
    token = await browser.csrf(url)
    content = roster_csv(
        roster_row("5А", "Орлов", "Максим", make_snils(310_000_001), make_snils(310_000_003)),
        roster_row("5Б", "Белов", "Ян", make_snils(310_000_002)),
    )
    resp = await upload(browser, url, token, "roster", content)
    text = await resp.text()
    assert resp.status == 200, text
    assert "<tr><th>Ученики</th><td>2</td><td>0</td><td>0</td></tr>" in text
    assert "<tr><th>Родители</th><td>1</td><td>0</td><td>0</td></tr>" in text
    async with AsyncSession(engine) as db:
        orlov = await db.scalar(
            select(Pupil.class_id)
            .join(User, User.id == Pupil.user_id)
            .where(User.last_name == "Орлов")
        )
        event = await db.scalar(
            select(AuditEvent.actor_id).where(AuditEvent.action == "roster.import")
        )
    assert orlov == world.class_5a and event == world.admin_a


async def test_oversized_upload_is_refused_with_a_clear_error(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    from gateway.handlers.admin.imports import MAX_UPLOAD_BYTES

    await signed_in(browser, engine, world.admin_a, clock)
    url = base + "/console/admin/import"
    token = await browser.csrf(url)
    resp = await upload(browser, url, token, "marks", b"x" * (MAX_UPLOAD_BYTES + 1))
    assert resp.status == 400 and "файл больше 5 МБ" in await resp.text()


# --- the reply-deadline dashboard (docs/regulation.md, clauses 3.2, 5.1) --------------------------


async def test_overdue_after_seven_days_on_the_dashboard(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    parent = await world.ctx(world.parent_a1)
    await messaging.start_conversation(
        parent, [world.teacher_math], "Контрольная по дробям", "Когда пересдача?", world.pupil_a1
    )
    await world.session.commit()
    await signed_in(browser, engine, world.admin_a, clock)
    fresh = await (await browser.get(base + "/console/admin/replies")).text()
    assert "Числова Мария" in fresh and "Контрольная по дробям" in fresh
    assert "просрочено" not in table(fresh, "replies")
    clock.advance(timedelta(days=7))
    later = Browser()
    await signed_in(later, engine, world.admin_a, clock)
    overdue = await (await later.get(base + "/console/admin/replies")).text()
    await later.close()
    rows = table(overdue, "replies")
    assert '<tr class="overdue">' in rows and "просрочено" in rows and "7 дней" in rows


# --- the audit log ---------------------------------------------------------------------------


async def test_audit_log_lists_events_and_filters_by_action_and_pupil(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    await signed_in(browser, engine, world.admin_a, clock)
    everything = table(await (await browser.get(base + "/console/admin/audit")).text(), "audit")
    assert "зачислил(а) ученика" in everything
    assert "назначил(а) учителя на предмет в классе" in everything
    by_action = table(
        await (await browser.get(base + "/console/admin/audit?action=assignment.create")).text(),
        "audit",
    )
    assert "назначил(а) учителя" in by_action and "зачислил(а) ученика" not in by_action
    by_pupil = table(
        await (await browser.get(base + f"/console/admin/audit?pupil={world.pupil_a1}")).text(),
        "audit",
    )
    assert "Смирнов Артём" in by_pupil and "Кузнецова Дарья" not in by_pupil
    looked_up = select(AuditEvent.actor_id).where(
        AuditEvent.action == "audit.read", AuditEvent.pupil_id == world.pupil_a1
    )
    assert await scalar(engine, looked_up) == world.admin_a
    dated = await browser.get(base + "/console/admin/audit?from=16.10.2025")
    assert "Событий с такими условиями нет" in await dated.text()


async def test_audit_log_pages_cover_every_event_once(
    base: str,
    browser: Browser,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(audit_search, "PAGE_SIZE", 4)
    await signed_in(browser, engine, world.admin_a, clock)
    seen: list[str] = []
    url: str | None = "/console/admin/audit"
    while url:
        html = await (await browser.get(base + url)).text()
        seen += re.findall(r'<tr data-event="(\d+)">', table(html, "audit"))
        more = re.search(r'<a href="([^"]+)">Более ранние события', html)
        url = more.group(1).replace("&amp;", "&") if more else None
    total = await scalar(engine, select(func.count()).where(AuditEvent.school_id == world.a.id))
    assert len(seen) == len(set(seen)) == total and total > 8


# --- period-mark locking ------------------------------------------------------------------


async def test_locked_period_mark_cannot_be_changed_by_teacher(
    base: str, browser: Browser, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    quarter = world.a.quarter_ids[0]
    teacher = await world.ctx(world.teacher_math)
    mark = await period_marks.set_period_mark(
        teacher, pupil_id=world.pupil_a1, subject_id=world.math_a, period_id=quarter, value="4"
    )
    mark_id = mark.id
    await world.session.commit()
    await signed_in(browser, engine, world.admin_a, clock)
    page_url = base + f"/console/admin/periods?period={quarter}&class={world.class_5a}"
    token = await browser.csrf(page_url)
    locked = await browser.post(
        base + f"/console/admin/periods/{quarter}/lock",
        {"csrf_token": token, "class_ids": str(world.class_5a)},
    )
    assert locked.status == 303 and "locked=1" in locked.headers["Location"]
    world.session.expire_all()
    with pytest.raises(Conflict):
        await period_marks.set_period_mark(
            teacher, pupil_id=world.pupil_a1, subject_id=world.math_a, period_id=quarter, value="5"
        )
    await world.session.rollback()
    shown = await (await browser.get(page_url)).text()
    assert "закрыта 15.10.2025" in table(shown, "period-marks")
    unlock_url = base + f"/console/admin/periods/marks/{mark_id}/unlock?period={quarter}"
    no_reason = await browser.post(unlock_url, {"csrf_token": token, "reason": " "})
    assert no_reason.status == 400 and "укажите причину" in await no_reason.text()
    reopened = await browser.post(
        unlock_url, {"csrf_token": token, "reason": "ошибка ввода", "confirm": "yes"}
    )
    assert reopened.status == 303
    world.session.expire_all()
    changed = await period_marks.set_period_mark(
        teacher, pupil_id=world.pupil_a1, subject_id=world.math_a, period_id=quarter, value="5"
    )
    assert changed.value == "5"
