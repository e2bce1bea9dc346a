"""A teacher with the journal open in two tabs, over real HTTP on both databases: a save writes
only the cells typed in its own tab, a cell someone else changed since the page was made is a
conflict (409, both values shown, nothing written), and re-submitting the returned page
applies the typed values deliberately. On a running server, two concurrent saves of one empty
cell never both succeed.

The tabs submit the form as a browser would: every input and select of the page as it was
rendered, with the typed cells changed (:func:`form_of`)."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import lessons, marks
from diary_core.clock import FixedClock
from diary_core.models import ChangeLogEntry, Mark, PeriodMark
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
    ctx = await world.ctx(world.teacher_math)
    lesson = await lessons.record_lesson(
        ctx, class_id=world.class_5a, subject_id=world.math_a, day=MONDAY, lesson_number=2
    )
    await world.session.commit()
    return lesson.id


@pytest.fixture
async def tabs(
    engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[tuple[Browser, Browser]]:
    """Two tabs of the maths teacher (two sessions: the same holds for two browsers)."""
    first, second = Browser(), Browser()
    for tab in (first, second):
        await sign_in_as(tab, engine, world.teacher_math, clock.now())
    yield first, second
    await first.close()
    await second.close()


def grid_url(base: str, world: World) -> str:
    return (
        f"{base}/console/gradebook?class={world.class_5a}&subject={world.math_a}"
        f"&period={world.a.quarter_ids[0]}"
    )


_INPUT = re.compile(r"<input\b([^>]*)>")
_SELECT = re.compile(r'<select name="([^"]+)"[^>]*>(.*?)</select>', re.S)
_ATTR = re.compile(r'([a-z-]+)="([^"]*)"')


def form_of(page: str) -> dict[str, str]:
    """What a browser submits for the journal form of ``page``: every named input with its
    value, every select with its selected (else first) option."""
    start = page.index('id="grid"')
    part = page[start : page.index("</form>", start)]
    form: dict[str, str] = {}
    for attrs in _INPUT.findall(part):
        found = dict(_ATTR.findall(attrs))
        if "name" in found:
            form[found["name"]] = html.unescape(found.get("value", ""))
    for name, options in _SELECT.findall(part):
        chosen = re.search(r'<option value="([^"]+)" selected>', options) or re.search(
            r'<option value="([^"]+)"', options
        )
        assert chosen is not None
        form[name] = chosen.group(1)
    return form


async def open_grid(tab: Browser, base: str, world: World) -> dict[str, str]:
    page = await tab.get(grid_url(base, world))
    assert page.status == 200
    return form_of(await page.text())


async def save(tab: Browser, base: str, form: dict[str, str], **typed: str) -> tuple[int, str]:
    resp = await tab.post(base + "/console/gradebook", {**form, **typed})
    return resp.status, await resp.text()


async def cell_marks(engine: AsyncEngine, pupil_id: int, lesson_id: int) -> list[str]:
    async with engine.connect() as conn:
        found = await conn.scalars(
            select(Mark.value)
            .where(Mark.pupil_id == pupil_id, Mark.lesson_id == lesson_id)
            .order_by(Mark.id)
        )
        return list(found)


async def count(engine: AsyncEngine, model: type) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(model)) or 0)


def cell(pupil_id: int, lesson_id: int) -> str:
    return f"c_{pupil_id}_{lesson_id}"


async def test_a_tab_opened_earlier_saves_its_cell_and_leaves_the_others_mark(
    base: str, engine: AsyncEngine, world: World, tabs: tuple[Browser, Browser], lesson_id: int
) -> None:
    """(a) Tab B was opened before tab A saved a 5 (and a period mark); B saves another cell:
    A's mark and period mark stay, recorded under A's save, and B's cell is saved."""
    a, b = tabs
    form_a = await open_grid(a, base, world)
    form_b = await open_grid(b, base, world)  # before A's save: every cell empty
    x, y = cell(world.pupil_a1, lesson_id), cell(world.pupil_a2, lesson_id)
    pm = f"pm_{world.pupil_a1}"
    assert (await save(a, base, form_a, **{x: "5", pm: "5"}))[0] == 303
    status, text = await save(b, base, form_b, **{y: "4"})
    assert status == 303, text
    assert await cell_marks(engine, world.pupil_a1, lesson_id) == ["5"]
    assert await cell_marks(engine, world.pupil_a2, lesson_id) == ["4"]
    async with engine.connect() as conn:
        assert list(await conn.scalars(select(PeriodMark.value))) == ["5"]
        log = list(await conn.scalars(select(ChangeLogEntry.action).order_by(ChangeLogEntry.id)))
    assert log == ["create", "create", "create"]  # A's mark and period mark, B's mark: no delete


async def test_two_tabs_typing_into_one_empty_cell_the_second_gets_the_conflict(
    base: str, engine: AsyncEngine, world: World, tabs: tuple[Browser, Browser], lesson_id: int
) -> None:
    """(b) Both tabs type into the same empty cell; the second save is refused with 409, the
    page shows what is stored now and what was typed; the cell holds the first mark only.
    (c) Submitting the returned page applies the typed value deliberately."""
    a, b = tabs
    form_a = await open_grid(a, base, world)
    form_b = await open_grid(b, base, world)
    x = cell(world.pupil_a1, lesson_id)
    assert (await save(a, base, form_a, **{x: "5"}))[0] == 303
    status, text = await save(b, base, form_b, **{x: "3"})
    assert status == 409
    assert (
        "строка Смирнов Артём, 13.10: пока вы редактировали, отметку изменил(а) Числова Мария "
        "(это вы — в другой вкладке или окне): сейчас «5», вы ввели «3»"
    ) in text
    assert f'<td class="conflict"><input name="{x}" value="3"' in text
    assert f'<input type="hidden" name="s{x}" value="5">' in text
    assert await cell_marks(engine, world.pupil_a1, lesson_id) == ["5"]
    assert await count(engine, ChangeLogEntry) == 1

    again = form_of(text)  # (c) the teacher looked and saves his value on purpose
    assert again[x] == "3" and again[f"s{x}"] == "5"
    assert (await save(b, base, again))[0] == 303
    assert await cell_marks(engine, world.pupil_a1, lesson_id) == ["3"]
    async with engine.connect() as conn:
        log = list(await conn.scalars(select(ChangeLogEntry.action).order_by(ChangeLogEntry.id)))
    assert log == ["create", "update"]


async def test_one_conflict_and_one_clean_cell_write_nothing(
    base: str, engine: AsyncEngine, world: World, tabs: tuple[Browser, Browser], lesson_id: int
) -> None:
    """(d) All or nothing: a conflicting cell holds back a clean one typed with it; the clean
    one comes back as typed, the conflicting one too, both to re-apply."""
    a, b = tabs
    form_a = await open_grid(a, base, world)
    form_b = await open_grid(b, base, world)
    x, y = cell(world.pupil_a1, lesson_id), cell(world.pupil_a2, lesson_id)
    assert (await save(a, base, form_a, **{x: "5"}))[0] == 303
    status, text = await save(b, base, form_b, **{x: "4", y: "3 н"})
    assert status == 409
    assert "сейчас «5», вы ввели «4»" in text
    assert await cell_marks(engine, world.pupil_a1, lesson_id) == ["5"]
    assert await cell_marks(engine, world.pupil_a2, lesson_id) == []
    assert await count(engine, ChangeLogEntry) == 1
    again = form_of(text)
    assert again[y] == "3 н" and f'<td><input name="{y}" value="3 н"' in text  # kept, no mark
    assert (await save(b, base, again))[0] == 303
    assert await cell_marks(engine, world.pupil_a1, lesson_id) == ["4"]
    assert await cell_marks(engine, world.pupil_a2, lesson_id) == ["3"]


async def test_a_cell_changed_elsewhere_and_cleared_here_is_a_conflict(
    base: str, engine: AsyncEngine, world: World, tabs: tuple[Browser, Browser], lesson_id: int
) -> None:
    """Tab B showed a 2 and clears it; meanwhile tab A corrected it to 4: B's clearing would
    delete A's correction, so it is refused."""
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
    a, b = tabs
    form_a = await open_grid(a, base, world)
    form_b = await open_grid(b, base, world)
    x = cell(world.pupil_a1, lesson_id)
    assert form_b[x] == "2" and form_b[f"s{x}"] == "2"
    assert (await save(a, base, form_a, **{x: "4"}))[0] == 303
    status, text = await save(b, base, form_b, **{x: ""})
    assert status == 409 and "сейчас «4», вы ввели «пусто»" in text
    assert await cell_marks(engine, world.pupil_a1, lesson_id) == ["4"]


async def test_a_conflict_names_who_changed_the_cell(
    base: str, engine: AsyncEngine, world: World, tabs: tuple[Browser, Browser], lesson_id: int
) -> None:
    """The mark came from elsewhere than this teacher's other tab (here the system, as an
    import writes): the message names it, not "you"."""
    _, b = tabs
    form_b = await open_grid(b, base, world)
    ctx = await world.ctx()
    await marks.record_mark(
        ctx,
        pupil_id=world.pupil_a1,
        subject_id=world.math_a,
        day=MONDAY,
        value="4",
        work_type_id=world.a.work_type_ids["Ответ на уроке"],
        lesson_id=lesson_id,
    )
    await world.session.commit()
    status, text = await save(b, base, form_b, **{cell(world.pupil_a1, lesson_id): "5"})
    assert status == 409
    assert "отметку изменил(а) система: сейчас «4», вы ввели «5»" in text
    assert "это вы" not in text
    assert await cell_marks(engine, world.pupil_a1, lesson_id) == ["4"]


async def test_a_period_mark_set_elsewhere_is_a_conflict_not_overwritten(
    base: str, engine: AsyncEngine, world: World, tabs: tuple[Browser, Browser], lesson_id: int
) -> None:
    a, b = tabs
    form_a = await open_grid(a, base, world)
    form_b = await open_grid(b, base, world)
    pm = f"pm_{world.pupil_a1}"
    assert (await save(a, base, form_a, **{pm: "5"}))[0] == 303
    status, text = await save(b, base, form_b, **{pm: "4"})
    assert status == 409
    assert "строка Смирнов Артём, итоговая отметка: пока вы редактировали" in text
    assert "сейчас «5», вы ввели «4»" in text
    async with engine.connect() as conn:
        assert list(await conn.scalars(select(PeriodMark.value))) == ["5"]


async def test_a_refused_form_shows_what_others_saved_in_the_cells_it_did_not_touch(
    base: str, engine: AsyncEngine, world: World, tabs: tuple[Browser, Browser], lesson_id: int
) -> None:
    """A bad cell sends the form back (400); the cells this tab did not touch show what is
    stored now, not what the tab showed before: re-submitting cannot undo the other tab."""
    a, b = tabs
    form_a = await open_grid(a, base, world)
    form_b = await open_grid(b, base, world)
    x, y = cell(world.pupil_a1, lesson_id), cell(world.pupil_a2, lesson_id)
    assert (await save(a, base, form_a, **{x: "5"}))[0] == 303
    status, text = await save(b, base, form_b, **{y: "6"})
    assert status == 400 and "неизвестная отметка «6»" in text
    again = form_of(text)
    assert again[x] == "5" and again[y] == "6"
    assert (await save(b, base, again, **{y: "4"}))[0] == 303
    assert await cell_marks(engine, world.pupil_a1, lesson_id) == ["5"]
    assert await cell_marks(engine, world.pupil_a2, lesson_id) == ["4"]


ROUNDS = 20


async def test_concurrent_saves_of_one_empty_cell_never_both_succeed(
    base: str, engine: AsyncEngine, world: World, tabs: tuple[Browser, Browser]
) -> None:
    """(e) Two clients post the same empty cell at the same moment to the running server,
    round after round on fresh cells: exactly one save wins, the other is a conflict, and the
    cell holds one mark."""
    ctx = await world.ctx(world.teacher_math)
    lesson_ids = []
    for i in range(ROUNDS):
        given = await lessons.record_lesson(
            ctx,
            class_id=world.class_5a,
            subject_id=world.math_a,
            day=date(2025, 10, 1) + timedelta(days=i // 2),
            lesson_number=1 + i % 2,
        )
        lesson_ids.append(given.id)
    await world.session.commit()
    a, b = tabs
    form_a = await open_grid(a, base, world)
    form_b = await open_grid(b, base, world)
    for lesson in lesson_ids:
        x = cell(world.pupil_a1, lesson)
        assert form_a[x] == form_b[x] == ""
        answers = await asyncio.gather(
            save(a, base, form_a, **{x: "5"}), save(b, base, form_b, **{x: "4"})
        )
        statuses = sorted(status for status, _ in answers)
        assert statuses == [303, 409], (lesson, statuses)
        stored = await cell_marks(engine, world.pupil_a1, lesson)
        assert len(stored) == 1, (lesson, stored)
        loser = next(text for status, text in answers if status == 409)
        assert f"сейчас «{stored[0]}»" in loser
    assert await count(engine, Mark) == ROUNDS
