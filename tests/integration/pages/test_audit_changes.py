"""Every change of the journal in the administrator's audit log, in Russian, over real HTTP on
both databases: marks (created, corrected, deleted), attendance, period marks, lesson topics
and homework, each with the teacher, the pupil and old → new, each filterable by its kind; a
lesson's topic and homework keep a history of their own; a refused change leaves no event."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diary_core import audit, marks
from diary_core.clock import FixedClock
from diary_core.models import AuditEvent, ChangeLogEntry, LessonHistoryEntry, Mark
from diary_core.policy import Actor
from tests.integration.api import Api
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

TEACHER = "Числова Мария"
LONG_HOMEWORK = "Прочитать параграф 12 и решить задачи " + ", ".join(
    f"№ {n}" for n in range(100, 140)
)


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


@pytest.fixture
async def browsers() -> AsyncIterator[list[Browser]]:
    opened: list[Browser] = []
    yield opened
    for b in opened:
        await b.close()


async def browser_as(
    browsers: list[Browser], engine: AsyncEngine, user_id: int, clock: FixedClock
) -> Browser:
    browser = Browser()
    browsers.append(browser)
    await sign_in_as(browser, engine, user_id, clock.now())
    return browser


def audit_table(page: str) -> str:
    found = re.search(r'<table class="audit">(.*?)</table>', page, re.S)
    return found.group(1) if found else ""


def visible(fragment: str) -> str:
    """The text a person reads: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def rows(page: str) -> list[str]:
    return [visible(r) for r in re.findall(r"<tr data-event=.*?</tr>", audit_table(page), re.S)]


async def count_events(engine: AsyncEngine, action: str) -> int:
    async with AsyncSession(engine) as db:
        return int(await db.scalar(select(func.count()).where(AuditEvent.action == action)) or 0)


async def teacher_changes_everything(
    base: str, browsers: list[Browser], engine: AsyncEngine, world: World, clock: FixedClock
) -> int:
    """The teacher's day, through the API, the gradebook and the lesson page; the lesson id."""
    teacher = await browser_as(browsers, engine, world.teacher_math, clock)
    api = Api(base, teacher)
    await api.sign_csrf()
    lesson = await api.call(
        "POST",
        "/lessons",
        body={
            "class_id": world.class_5a,
            "subject_id": world.math_a,
            "date": "2025-10-13",
            "lesson_number": 2,
            "topic": "Дроби",
            "homework": "№ 1",
        },
    )
    assert lesson.status in (200, 201), lesson.text
    lesson_id = int(lesson.body["id"])
    token = await teacher.csrf(f"{base}/console/lessons/{lesson_id}")
    edited = await teacher.post(
        f"{base}/console/lessons/{lesson_id}",
        {"csrf_token": token, "topic": "Десятичные дроби", "homework": LONG_HOMEWORK},
    )
    assert edited.status == 303, await edited.text()

    created = await api.call(
        "POST",
        "/marks",
        body={
            "pupil_id": world.pupil_a1,
            "subject_id": world.math_a,
            "date": "2025-10-13",
            "value": "3",
            "work_type_id": world.a.work_type_ids["Ответ на уроке"],
        },
    )
    assert created.status == 201, created.text
    mark_id = created.body["id"]
    read = await api.get(f"/marks/{mark_id}")
    corrected = await api.call(
        "PATCH",
        f"/marks/{mark_id}",
        body={"value": "4", "reason": "пересдал"},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert corrected.status == 200, corrected.text
    deleted = await api.call(
        "DELETE",
        f"/marks/{mark_id}",
        params={"reason": "ошибка"},
        headers={"If-Match": corrected.headers["ETag"]},
    )
    assert deleted.status == 204, deleted.text

    for kind in ("н", "б"):
        body = {"pupil_id": world.pupil_a2, "lesson_id": lesson_id, "kind": kind}
        answer = await api.call("PUT", "/attendance", body=body)
        assert answer.status == 200, answer.text

    grid = (
        f"{base}/console/gradebook?class={world.class_5a}&subject={world.math_a}"
        f"&period={world.a.quarter_ids[0]}"
    )
    token = await teacher.csrf(grid)
    form = {
        "csrf_token": token,
        "class": str(world.class_5a),
        "subject": str(world.math_a),
        "period": str(world.a.quarter_ids[0]),
    }
    pm = f"pm_{world.pupil_a1}"
    first = await teacher.post(f"{base}/console/gradebook", {**form, pm: "4"})
    assert first.status == 303, await first.text()
    token = await teacher.csrf(grid)
    second = await teacher.post(
        f"{base}/console/gradebook", {**form, "csrf_token": token, pm: "5", f"s{pm}": "4"}
    )
    assert second.status == 303, await second.text()
    return lesson_id


async def test_every_change_is_in_the_audit_log_in_russian_and_filterable(
    base: str, browsers: list[Browser], engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    lesson_id = await teacher_changes_everything(base, browsers, engine, world, clock)
    # the demo generator's own event must not become a filter choice
    async with AsyncSession(engine) as db:
        audit.record(db, Actor.system_actor(), "demo.generate", clock.now(), school_id=world.a.id)
        await db.commit()

    admin = await browser_as(browsers, engine, world.admin_a, clock)
    page = await (await admin.get(f"{base}/console/admin/audit")).text()
    shown = rows(page)
    everything = " | ".join(shown)

    def one(*needles: str) -> str:
        found = [r for r in shown if all(n in r for n in needles)]
        assert len(found) == 1, (needles, shown)
        return found[0]

    created = one("поставил(а) отметку", "Смирнов Артём", "Математика", "13.10.2025")
    assert TEACHER in created and "«3»" in created and "Ответ на уроке" in created
    corrected = one("исправил(а) отметку", "Смирнов Артём")
    assert TEACHER in corrected and "«3» → «4»" in corrected and "пересдал" in corrected
    removed = one("удалил(а) отметку", "Смирнов Артём")
    assert TEACHER in removed and "«4» → удалена" in removed and "ошибка" in removed
    absent = one("отметил(а) посещаемость", "Кузнецова Дарья")
    assert TEACHER in absent and "«н» (отсутствовал(а))" in absent and "2-й урок" in absent
    ill = one("исправил(а) отметку посещаемости", "Кузнецова Дарья")
    assert "«н» (отсутствовал(а)) → «б» (болел(а))" in ill
    period = one("выставил(а) итоговую отметку", "Смирнов Артём")
    assert TEACHER in period and "четверт" in period.lower()
    assert "«4»" in period
    period_fix = one("исправил(а) итоговую отметку", "Смирнов Артём")
    assert "«4» → «5»" in period_fix
    topics = [r for r in shown if "изменил(а) тему урока" in r]
    assert len(topics) == 2 and all(TEACHER in t and "5А" in t for t in topics)
    assert any("пусто → «Дроби»" in t for t in topics)
    assert any("«Дроби» → «Десятичные дроби»" in t for t in topics)
    homework = [r for r in shown if "изменил(а) домашнее задание" in r]
    assert len(homework) == 2 and any("пусто → «№ 1»" in h for h in homework)
    # the long homework: cut in the list, whole in the row's detail
    table = audit_table(page)
    assert LONG_HOMEWORK in visible(table)
    summaries = [visible(s) for s in re.findall(r"<summary>(.*?)</summary>", table, re.S)]
    assert any("«№ 1» → «Прочитать параграф 12" in s and "…" in s for s in summaries)
    assert all(LONG_HOMEWORK not in s for s in summaries)

    # no raw ids, dicts or action codes where a person reads
    text = visible(page)
    for raw in ("user #", "class_id:", "{'", "subject_id", "None"):
        assert raw not in text, raw
    codes = set(audit.ACTIONS) | set(audit.SERVICE_ACTIONS)
    assert not [c for c in codes if c in text]
    assert "создал(а) демонстрационные данные" in everything  # shown, in Russian
    options = re.findall(r'<option value="([^"]*)"', page)
    assert "demo.generate" not in options and not [o for o in options if o.startswith("demo.")]

    # each kind of change by itself
    kinds = {
        "mark.create": "поставил(а) отметку",
        "mark.update": "исправил(а) отметку",
        "mark.delete": "удалил(а) отметку",
        "attendance.create": "отметил(а) посещаемость",
        "attendance.update": "исправил(а) отметку посещаемости",
        "period_mark.create": "выставил(а) итоговую отметку",
        "period_mark.update": "исправил(а) итоговую отметку",
        "lesson.topic": "изменил(а) тему урока",
        "lesson.homework": "изменил(а) домашнее задание",
    }
    for code, phrase in kinds.items():
        assert code in options, code
        filtered = rows(await (await admin.get(f"{base}/console/admin/audit?action={code}")).text())
        assert filtered, code
        assert all(r.count(phrase) == 1 and TEACHER in r for r in filtered), (code, filtered)
        others = [p for c, p in kinds.items() if c != code and p not in phrase]
        assert not [r for r in filtered for p in others if p in r], (code, filtered)
    # the administrator follows a lesson event to the lesson's history, a mark's to the mark's
    assert f'href="/console/lessons/{lesson_id}/history"' in table
    history = await admin.get(f"{base}/console/lessons/{lesson_id}/history")
    assert history.status == 200 and "Десятичные дроби" in await history.text()
    mark_link = re.search(r'href="(/console/marks/\d+)">история отметки', table)
    assert mark_link is not None
    mark_page = await admin.get(base + mark_link.group(1))
    assert mark_page.status == 200 and "удалена" in await mark_page.text()


async def test_lesson_topic_and_homework_history_shows_who_when_old_and_new(
    base: str, browsers: list[Browser], engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    lesson_id = await teacher_changes_everything(base, browsers, engine, world, clock)
    async with AsyncSession(engine) as db:
        entries = (
            await db.scalars(
                select(LessonHistoryEntry)
                .where(LessonHistoryEntry.lesson_id == lesson_id)
                .order_by(LessonHistoryEntry.id)
            )
        ).all()
    assert [(e.action, e.old_topic, e.new_topic, e.actor_id) for e in entries] == [
        ("create", "", "Дроби", world.teacher_math),
        ("update", "Дроби", "Десятичные дроби", world.teacher_math),
    ]
    assert entries[1].old_homework == "№ 1" and entries[1].new_homework == LONG_HOMEWORK
    teacher = browsers[0]
    lesson_page = await (await teacher.get(f"{base}/console/lessons/{lesson_id}")).text()
    assert f'href="/console/lessons/{lesson_id}/history"' in lesson_page
    answer = await teacher.get(f"{base}/console/lessons/{lesson_id}/history")
    assert answer.status == 200
    found = re.search(r'<table class="lesson-history">(.*?)</table>', await answer.text(), re.S)
    assert found is not None
    history = visible(found.group(1))
    assert history.count(TEACHER) == 2 and history.count("15.10.2025 13:00") == 2
    assert "— → Дроби" in history and "Дроби → Десятичные дроби" in history
    assert f"№ 1 → {LONG_HOMEWORK}" in history
    # a family never sees it; another school's staff is told it does not exist
    parent = await browser_as(browsers, engine, world.parent_a1, clock)
    kept_out = await parent.get(f"{base}/console/lessons/{lesson_id}/history")
    assert kept_out.status in (303, 403, 404) and "Дроби" not in await kept_out.text()
    stranger = await browser_as(browsers, engine, world.teacher_b, clock)
    refused = await stranger.get(f"{base}/console/lessons/{lesson_id}/history")
    assert refused.status == 404 and "Дроби" not in await refused.text()


async def test_refused_changes_write_no_audit_event(
    base: str, browsers: list[Browser], engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    teacher = await browser_as(browsers, engine, world.teacher_math, clock)
    api = Api(base, teacher)
    await api.sign_csrf()
    body = {
        "pupil_id": world.pupil_a1,
        "subject_id": world.math_a,
        "date": "2025-10-13",
        "value": "3",
        "work_type_id": world.a.work_type_ids["Ответ на уроке"],
    }
    mark_id = (await api.call("POST", "/marks", body=body)).body["id"]
    read = await api.get(f"/marks/{mark_id}")
    bad = await api.call(
        "PATCH",
        f"/marks/{mark_id}",
        body={"value": "7"},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert bad.status == 400
    stale = await api.call(
        "PATCH", f"/marks/{mark_id}", body={"value": "5"}, headers={"If-Match": '"stale"'}
    )
    assert stale.status in (409, 412)
    assert await count_events(engine, "mark.update") == 0
    assert await count_events(engine, "mark.create") == 1

    # a change rolled back after it was made takes its audit event with it
    ctx = await world.ctx(world.teacher_math)
    await marks.correct_mark(ctx, mark_id, value="5", reason="пересдал")
    await world.session.flush()
    assert await world.session.scalar(
        select(func.count()).where(AuditEvent.action == "mark.update")
    )
    await world.session.rollback()
    assert await count_events(engine, "mark.update") == 0
    async with AsyncSession(engine) as db:
        assert await db.scalar(select(Mark.value).where(Mark.id == mark_id)) == "3"
        updates = select(func.count()).where(ChangeLogEntry.action == "update")
        assert await db.scalar(updates) == 0

    # a refused lesson edit (text too long) writes neither history nor event
    lesson = await api.call(
        "POST",
        "/lessons",
        body={
            "class_id": world.class_5a,
            "subject_id": world.math_a,
            "date": "2025-10-13",
            "lesson_number": 3,
            "topic": "Проценты",
        },
    )
    lesson_id = int(lesson.body["id"])
    token = await teacher.csrf(f"{base}/console/lessons/{lesson_id}")
    refused = await teacher.post(
        f"{base}/console/lessons/{lesson_id}",
        {"csrf_token": token, "topic": "Проценты и доли", "homework": "х" * 2001},
    )
    assert refused.status == 400
    assert await count_events(engine, "lesson.homework") == 0
    assert await count_events(engine, "lesson.topic") == 1  # the lesson's creation only
