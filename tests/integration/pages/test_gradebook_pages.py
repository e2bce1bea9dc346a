"""The subject teacher's console over real HTTP: the journal grid typed in from the keyboard and
saved all or nothing, corrections with history, lesson topics, period marks, the index
(docs/regulation.md, clauses 1.4, 2.1, 3.3, 5.1)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import lessons, marks, messaging, period_marks
from diary_core.clock import FixedClock
from diary_core.context import Ctx
from diary_core.models import Attendance, ChangeLogEntry, Lesson, Mark, PeriodMark
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

MONDAY = date(2025, 10, 13)


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


@pytest.fixture
async def lesson_id(world: World) -> int:
    """A math lesson of 5А on Monday 13.10, given by its teacher."""
    ctx = await world.ctx(world.teacher_math)
    lesson = await lessons.record_lesson(
        ctx, class_id=world.class_5a, subject_id=world.math_a, day=MONDAY, lesson_number=2
    )
    await world.session.commit()
    return lesson.id


async def browser_as(engine: AsyncEngine, user_id: int, clock: FixedClock) -> Browser:
    browser = Browser()
    await sign_in_as(browser, engine, user_id, clock.now())
    return browser


def grid_url(base: str, world: World) -> str:
    return (
        f"{base}/console/gradebook?class={world.class_5a}&subject={world.math_a}"
        f"&period={world.a.quarter_ids[0]}"
    )


def grid_form(world: World, token: str, **cells: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "class": str(world.class_5a),
        "subject": str(world.math_a),
        "period": str(world.a.quarter_ids[0]),
        **cells,
    }


async def count(engine: AsyncEngine, model: type) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(model)) or 0)


async def test_teacher_enters_marks_and_attendance_in_one_submit(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, lesson_id: int
) -> None:
    browser = await browser_as(engine, world.teacher_math, clock)
    token = await browser.csrf(grid_url(base, world))
    test_type = world.a.work_type_ids["Контрольная работа"]
    resp = await browser.post(
        base + "/console/gradebook",
        grid_form(
            world,
            token,
            **{
                f"c_{world.pupil_a1}_{lesson_id}": "5 4",
                f"c_{world.pupil_a2}_{lesson_id}": "н",
                f"wt_{lesson_id}": str(test_type),
            },
        ),
    )
    assert resp.status == 303, await resp.text()
    async with engine.connect() as conn:
        stored = (await conn.execute(select(Mark).order_by(Mark.id))).all()
        absent = (await conn.execute(select(Attendance))).all()
        log = (await conn.execute(select(ChangeLogEntry))).all()
    assert [(m.pupil_id, m.value, m.weight, m.lesson_id) for m in stored] == [
        (world.pupil_a1, "5", 3, lesson_id),
        (world.pupil_a1, "4", 3, lesson_id),
    ]
    assert [(a.pupil_id, a.kind) for a in absent] == [(world.pupil_a2, "н")]
    assert sorted((e.entity, e.action, e.actor_id) for e in log) == [
        ("attendance", "create", world.teacher_math),
        ("mark", "create", world.teacher_math),
        ("mark", "create", world.teacher_math),
    ]
    page = await (await browser.get(base + resp.headers["Location"])).text()
    assert f'name="c_{world.pupil_a1}_{lesson_id}" value="5 4"' in page
    assert f'name="c_{world.pupil_a2}_{lesson_id}" value="н"' in page
    await browser.close()


async def test_bad_cell_stores_nothing_and_shows_what_was_typed(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, lesson_id: int
) -> None:
    browser = await browser_as(engine, world.teacher_math, clock)
    token = await browser.csrf(grid_url(base, world))
    resp = await browser.post(
        base + "/console/gradebook",
        grid_form(
            world,
            token,
            **{
                f"c_{world.pupil_a1}_{lesson_id}": "5 н",
                f"c_{world.pupil_a2}_{lesson_id}": "6",
                f"wt_{lesson_id}": str(world.a.work_type_ids["Ответ на уроке"]),
            },
        ),
    )
    text = await resp.text()
    assert resp.status == 400
    assert "строка Кузнецова Дарья, 13.10: неизвестная отметка «6»" in text
    assert f'name="c_{world.pupil_a1}_{lesson_id}" value="5 н"' in text
    assert f'name="c_{world.pupil_a2}_{lesson_id}" value="6"' in text
    assert await count(engine, Mark) == 0
    assert await count(engine, Attendance) == 0
    assert await count(engine, ChangeLogEntry) == 0
    await browser.close()


async def test_future_lesson_mark_refused_with_cell_named_and_nothing_written(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, lesson_id: int
) -> None:
    ctx = await world.ctx(world.teacher_math)
    future = await lessons.record_lesson(
        ctx,
        class_id=world.class_5a,
        subject_id=world.math_a,
        day=date(2025, 10, 20),
        lesson_number=1,
    )
    await world.session.commit()
    browser = await browser_as(engine, world.teacher_math, clock)
    token = await browser.csrf(grid_url(base, world))
    wt = str(world.a.work_type_ids["Ответ на уроке"])
    resp = await browser.post(
        base + "/console/gradebook",
        grid_form(
            world,
            token,
            **{
                f"c_{world.pupil_a1}_{lesson_id}": "5",
                f"c_{world.pupil_a1}_{future.id}": "4",
                f"wt_{lesson_id}": wt,
                f"wt_{future.id}": wt,
            },
        ),
    )
    text = await resp.text()
    assert resp.status == 400
    assert "строка Смирнов Артём, 20.10: нельзя поставить отметку на будущую дату" in text
    assert await count(engine, Mark) == 0  # the good cell was rolled back with the bad one
    await browser.close()


@pytest.mark.parametrize("who", ["ct_5a", "ct_5b"])
async def test_teacher_of_another_subject_or_class_cannot_open_or_post_the_grid(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, lesson_id: int, who: str
) -> None:
    """ct_5b teaches another class: no grid at all. ct_5a is the class teacher of 5А but
    teaches Russian: he may read his class's math journal (as he reads each pupil's marks),
    never write in it."""
    browser = await browser_as(engine, getattr(world, who), clock)
    page = await browser.get(grid_url(base, world))
    if who == "ct_5b":
        assert page.status == 403
        assert "Смирнов" not in await page.text()
    else:
        assert page.status == 200
        assert 'name="c_' not in await page.text()  # read-only: no cells to type into
    own_class = world.class_5a if who == "ct_5a" else world.class_5b
    token = await browser.csrf(f"{base}/console/class/{own_class}")
    forged = await browser.post(
        base + "/console/gradebook",
        grid_form(
            world,
            token,
            **{
                f"c_{world.pupil_a1}_{lesson_id}": "2",
                f"wt_{lesson_id}": str(world.a.work_type_ids["Ответ на уроке"]),
                f"pm_{world.pupil_a1}": "2",
            },
        ),
    )
    assert forged.status == 403
    lesson_page = await browser.get(f"{base}/console/lessons/{lesson_id}")
    assert lesson_page.status == 403
    assert await count(engine, Mark) == 0
    assert await count(engine, PeriodMark) == 0
    await browser.close()


async def test_teacher_of_another_school_gets_not_found(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, lesson_id: int
) -> None:
    browser = await browser_as(engine, world.teacher_b, clock)
    page = await browser.get(grid_url(base, world))
    assert page.status == 404 and "Смирнов" not in await page.text()
    assert (await browser.get(f"{base}/console/lessons/{lesson_id}")).status == 404
    await browser.close()


async def test_correcting_a_mark_keeps_its_history(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, lesson_id: int
) -> None:
    browser = await browser_as(engine, world.teacher_math, clock)
    cell = f"c_{world.pupil_a1}_{lesson_id}"
    wt = {f"wt_{lesson_id}": str(world.a.work_type_ids["Ответ на уроке"])}
    token = await browser.csrf(grid_url(base, world))
    first = await browser.post(
        base + "/console/gradebook", grid_form(world, token, **{cell: "3"}, **wt)
    )
    assert first.status == 303
    second = await browser.post(  # the page now shows the 3: its hidden field says so
        base + "/console/gradebook", grid_form(world, token, **{cell: "4", f"s{cell}": "3"}, **wt)
    )
    assert second.status == 303
    async with engine.connect() as conn:
        mark = (await conn.execute(select(Mark))).one()
        log = (await conn.execute(select(ChangeLogEntry).order_by(ChangeLogEntry.id))).all()
    assert mark.value == "4"
    assert [(e.action, (e.old or {}).get("value"), (e.new or {}).get("value")) for e in log] == [
        ("create", None, "3"),
        ("update", "3", "4"),
    ]
    history = await browser.get(f"{base}/console/marks/{mark.id}")
    text = await history.text()
    assert history.status == 200
    assert "исправлена" in text and "Числова Мария" in text
    assert re.search(r"<td>3</td><td>4</td>", text)
    grid = await (await browser.get(grid_url(base, world))).text()
    assert f'href="/console/marks/{mark.id}"' in grid
    await browser.close()
    parent = await browser_as(engine, world.parent_a1, clock)
    refused = await parent.get(f"{base}/console/marks/{mark.id}")
    assert refused.status == 303 and refused.headers["Location"] == "/diary"
    other = await browser_as(engine, world.teacher_b, clock)
    assert (await other.get(f"{base}/console/marks/{mark.id}")).status == 404
    await parent.close()
    await other.close()


async def test_clearing_a_cell_deletes_the_mark_with_a_tombstone(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, lesson_id: int
) -> None:
    ctx = await world.ctx(world.teacher_math)
    await marks.record_mark(
        ctx,
        pupil_id=world.pupil_a1,
        subject_id=world.math_a,
        day=MONDAY,
        value="2",
        work_type_id=world.a.work_type_ids["Ответ на уроке"],
        lesson_id=lesson_id,
    )
    await world.session.commit()
    browser = await browser_as(engine, world.teacher_math, clock)
    token = await browser.csrf(grid_url(base, world))
    resp = await browser.post(
        base + "/console/gradebook",
        grid_form(
            world,
            token,
            **{f"c_{world.pupil_a1}_{lesson_id}": "", f"sc_{world.pupil_a1}_{lesson_id}": "2"},
        ),
    )
    assert resp.status == 303
    assert await count(engine, Mark) == 0
    async with engine.connect() as conn:
        actions = list(
            await conn.scalars(select(ChangeLogEntry.action).order_by(ChangeLogEntry.id))
        )
    assert actions == ["create", "delete"]
    await browser.close()


async def test_lesson_topic_and_homework_are_saved(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, lesson_id: int
) -> None:
    browser = await browser_as(engine, world.teacher_math, clock)
    url = f"{base}/console/lessons/{lesson_id}"
    token = await browser.csrf(url)
    resp = await browser.post(url, {"csrf_token": token, "topic": "Дроби", "homework": "№ 12, 14"})
    assert resp.status == 303
    assert resp.headers["Location"].startswith("/console/gradebook?")
    created = await browser.post(
        base + "/console/lessons",
        grid_form(
            world, token, date="14.10.2025", lesson_number="3", topic="Проценты", homework=""
        ),
    )
    assert created.status == 303
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(Lesson.date, Lesson.topic, Lesson.homework).order_by(Lesson.date)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (MONDAY, "Дроби", "№ 12, 14"),
        (date(2025, 10, 14), "Проценты", ""),
    ]
    bad = await browser.post(
        base + "/console/lessons",
        grid_form(world, token, date="завтра", lesson_number="3", topic="Уравнения"),
    )
    text = await bad.text()
    assert bad.status == 400 and "неверная дата «завтра»" in text and 'value="Уравнения"' in text
    await browser.close()


async def test_period_marks_are_set_and_locked_ones_cannot_change(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, lesson_id: int
) -> None:
    browser = await browser_as(engine, world.teacher_math, clock)
    token = await browser.csrf(grid_url(base, world))
    resp = await browser.post(
        base + "/console/gradebook", grid_form(world, token, **{f"pm_{world.pupil_a1}": "5"})
    )
    assert resp.status == 303
    admin = await world.ctx(world.admin_a)
    await period_marks.lock_period_marks(admin, world.a.id, world.a.quarter_ids[0])
    await world.session.commit()
    page = await (await browser.get(grid_url(base, world))).text()
    assert "5 · закрыта" in page and f'name="pm_{world.pupil_a1}"' not in page
    forged = await browser.post(
        base + "/console/gradebook", grid_form(world, token, **{f"pm_{world.pupil_a1}": "4"})
    )
    assert forged.status == 400
    assert "строка Смирнов Артём, итоговая отметка: итоговая отметка закрыта" in await forged.text()
    async with engine.connect() as conn:
        assert list(await conn.scalars(select(PeriodMark.value))) == ["5"]
    await browser.close()


async def test_grid_post_without_csrf_is_refused(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, lesson_id: int
) -> None:
    browser = await browser_as(engine, world.teacher_math, clock)
    form = grid_form(world, "", **{f"c_{world.pupil_a1}_{lesson_id}": "5"})
    del form["csrf_token"]
    resp = await browser.post(base + "/console/gradebook", form)
    assert resp.status == 403
    assert await count(engine, Mark) == 0
    await browser.close()


async def test_index_shows_teaching_missing_entries_and_overdue_threads(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock, lesson_id: int
) -> None:
    week_ago = FixedClock(clock.now() - timedelta(days=8))
    parent = Ctx(world.session, await world.actor(world.parent_a1), week_ago)
    await messaging.start_conversation(
        parent, [world.teacher_math], "Контрольная", "Когда пересдача?", world.pupil_a1
    )
    await world.session.commit()
    browser = await browser_as(engine, world.teacher_math, clock)
    text = await (await browser.get(base + "/console")).text()
    period = world.a.quarter_ids[0]
    assert (
        f"/console/gradebook?class={world.class_5a}&amp;subject={world.math_a}&amp;period={period}"
        in text
    )
    assert "5Б — Математика" in text
    assert f'href="/console/lessons/{lesson_id}"' in text and "темы урока" in text
    assert "Контрольная" in text and "просрочено" in text
    assert "/console/admin/staff" not in text
    await browser.close()
    admin = await browser_as(engine, world.admin_a, clock)
    admin_text = await (await admin.get(base + "/console")).text()
    for path in ("staff", "classes", "timetable", "import", "replies", "audit", "periods"):
        assert f'href="/console/admin/{path}"' in admin_text
    await admin.close()
    family = await browser_as(engine, world.parent_a1, clock)
    resp = await family.get(base + "/console")
    assert resp.status == 303 and resp.headers["Location"] == "/diary"
    await family.close()
