"""The journal page returns where the teacher was, over real HTTP on both databases: after a
save the redirect points at the first cell saved (a fragment, and that input carries the id and
``autofocus``); a refused save (400) or a conflict (409) opens at the first flagged cell; a saved
lesson topic is confirmed at its column. The page starts with a skip link to the grid, names
work types readably and tells the keys, Ctrl+Enter included."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import attendance, lessons
from diary_core.clock import FixedClock
from tests.integration.pages.test_gradebook_conflicts import form_of
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
async def lesson_ids(world: World) -> tuple[int, int]:
    ctx = await world.ctx(world.teacher_math)
    found = []
    for number in (2, 3):
        lesson = await lessons.record_lesson(
            ctx, class_id=world.class_5a, subject_id=world.math_a, day=MONDAY, lesson_number=number
        )
        found.append(lesson.id)
    await world.session.commit()
    return found[0], found[1]


@pytest.fixture
async def teacher(engine: AsyncEngine, world: World, clock: FixedClock) -> AsyncIterator[Browser]:
    browser = Browser()
    await sign_in_as(browser, engine, world.teacher_math, clock.now())
    yield browser
    await browser.close()


def grid_url(base: str, world: World) -> str:
    return (
        f"{base}/console/gradebook?class={world.class_5a}&subject={world.math_a}"
        f"&period={world.a.quarter_ids[0]}"
    )


async def page_form(teacher: Browser, url: str) -> tuple[str, dict[str, str]]:
    resp = await teacher.get(url)
    text = await resp.text()
    assert resp.status == 200, text
    return text, form_of(text)


def anchored(page: str) -> list[str]:
    """The names of the inputs that carry an id and autofocus (the page's anchor)."""
    return re.findall(r'<input name="([^"]+)"[^>]* id="cell-\1" autofocus', page)


def cells_in_order(form: dict[str, str]) -> list[str]:
    return [name for name in form if name.startswith("c_")]


async def test_after_a_save_the_page_opens_at_the_first_cell_saved(
    base: str, teacher: Browser, world: World, lesson_ids: tuple[int, int]
) -> None:
    page, form = await page_form(teacher, grid_url(base, world))
    assert anchored(page) == []  # a plain visit is about no cell
    cells = cells_in_order(form)
    # Typed in the first row's second lesson and the last row's first: the page's order
    # (row by row) decides, not the column's nor the order typed.
    first_row = next(c for c in cells if c.endswith(f"_{lesson_ids[1]}"))
    last_row = [c for c in cells if c.endswith(f"_{lesson_ids[0]}")][-1]
    assert cells.index(first_row) < cells.index(last_row)
    resp = await teacher.post(base + "/console/gradebook", {**form, last_row: "н", first_row: "б"})
    assert resp.status == 303, await resp.text()
    location = resp.headers["Location"]
    assert location.endswith(f"&at={first_row}#cell-{first_row}"), location
    back = await teacher.get(base + location.split("#")[0])
    text = await back.text()
    assert anchored(text) == [first_row]
    assert "Сохранено. Изменено клеток: 2." in text


async def test_a_cleared_cell_is_still_the_anchor(
    base: str, teacher: Browser, world: World, lesson_ids: tuple[int, int], clock: FixedClock
) -> None:
    ctx = await world.ctx(world.teacher_math)
    await attendance.set_attendance(ctx, pupil_id=world.pupil_a1, lesson_id=lesson_ids[0], kind="н")
    await world.session.commit()
    _, form = await page_form(teacher, grid_url(base, world))
    name = f"c_{world.pupil_a1}_{lesson_ids[0]}"
    resp = await teacher.post(base + "/console/gradebook", {**form, name: ""})
    assert resp.status == 303
    back = await teacher.get(base + resp.headers["Location"].split("#")[0])
    assert anchored(await back.text()) == [name]  # empty now, and still found


async def test_a_refused_save_opens_at_the_first_flagged_cell(
    base: str, teacher: Browser, world: World, lesson_ids: tuple[int, int]
) -> None:
    _, form = await page_form(teacher, grid_url(base, world))
    cells = cells_in_order(form)
    first_bad, second_bad = cells[1], cells[-1]
    resp = await teacher.post(
        base + "/console/gradebook", {**form, second_bad: "7", first_bad: "6", cells[0]: "н"}
    )
    text = await resp.text()
    assert resp.status == 400, text
    assert anchored(text) == [first_bad]
    assert text.count(" autofocus") == 1


async def test_a_conflict_opens_at_the_conflicting_cell(
    base: str, teacher: Browser, world: World, lesson_ids: tuple[int, int]
) -> None:
    _, form = await page_form(teacher, grid_url(base, world))
    name = f"c_{world.pupil_a2}_{lesson_ids[1]}"
    ctx = await world.ctx(world.teacher_math)  # another tab writes the cell meanwhile
    await attendance.set_attendance(ctx, pupil_id=world.pupil_a2, lesson_id=lesson_ids[1], kind="б")
    await world.session.commit()
    resp = await teacher.post(base + "/console/gradebook", {**form, name: "н"})
    text = await resp.text()
    assert resp.status == 409, text
    assert anchored(text) == [name]
    assert f'<td class="conflict"><input name="{name}" value="н" id="cell-{name}"' in text


async def test_a_foreign_anchor_in_the_address_is_ignored(
    base: str, teacher: Browser, world: World, lesson_ids: tuple[int, int]
) -> None:
    for at in ('"><script>x</script>', "wt_1", "c_1", "pm_x"):
        resp = await teacher.get(grid_url(base, world), params={"at": at})
        text = await resp.text()
        assert resp.status == 200 and anchored(text) == [] and "<script>x" not in text


async def test_a_saved_lesson_topic_is_confirmed_at_its_column(
    base: str, teacher: Browser, world: World, lesson_ids: tuple[int, int]
) -> None:
    url = f"{base}/console/lessons/{lesson_ids[1]}"
    token = await teacher.csrf(url)
    resp = await teacher.post(url, {"csrf_token": token, "topic": "Дроби", "homework": ""})
    assert resp.status == 303
    location = resp.headers["Location"]
    assert location.endswith(f"&lesson_saved={lesson_ids[1]}#l{lesson_ids[1]}"), location
    text = await (await teacher.get(base + location.split("#")[0])).text()
    assert '<p class="notice" role="status">Тема урока сохранена.</p>' in text
    assert f'id="l{lesson_ids[1]}"' in text
    plain = await (await teacher.get(grid_url(base, world))).text()
    assert "Тема урока сохранена" not in plain
    # A lesson added with its topic from the form under the grid: confirmed the same way.
    created = await teacher.post(
        base + "/console/lessons",
        {
            "csrf_token": token,
            "class": str(world.class_5a),
            "subject": str(world.math_a),
            "period": str(world.a.quarter_ids[0]),
            "date": "14.10.2025",
            "lesson_number": "1",
            "topic": "Проценты",
            "homework": "",
        },
    )
    assert created.status == 303 and "&lesson_saved=" in created.headers["Location"]
    text = await (await teacher.get(base + created.headers["Location"].split("#")[0])).text()
    assert "Тема урока сохранена." in text


async def test_skip_link_keys_and_readable_work_types(
    base: str, teacher: Browser, world: World, lesson_ids: tuple[int, int]
) -> None:
    page, _ = await page_form(teacher, grid_url(base, world))
    body = page[page.index("<body>") :]
    first_focusable = re.search(r"<(a|input|select|button|textarea)\b[^>]*>", body)
    assert first_focusable is not None
    assert first_focusable.group(0) == '<a class="skip" href="#journal">'
    assert re.search(r'<div class="[^"]*" id="journal" tabindex="0" role="region"', page)
    assert "Ctrl+Enter — сохранить" in page
    # The long work types by a readable short name, the full one in the column's title.
    assert "Контр. раб. (3)</option>" in page and "Самост. раб. (2)</option>" in page
    assert "Ответ на ур. (1)</option>" in page and "Диктант (2)</option>" in page
    assert '<th title="Ответ на уроке, вес 1"><select name="wt_' in page
    assert '<th class="avg">Средний</th><th class="final">Итог</th>' in page
