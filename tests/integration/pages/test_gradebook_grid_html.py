"""The journal grid page over real HTTP: one form (its token, its cells), each cell named by its
row's and its column's headers, marks without a lesson in their own column, and what people
typed (a topic) escaped (docs/regulation.md, clause 1.4)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from html.parser import HTMLParser

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import lessons, marks
from diary_core.clock import FixedClock
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


class Tags(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


async def grid_page(base: str, engine: AsyncEngine, world: World, clock: FixedClock) -> str:
    browser = Browser()
    await sign_in_as(browser, engine, world.teacher_math, clock.now())
    resp = await browser.get(
        f"{base}/console/gradebook?class={world.class_5a}&subject={world.math_a}"
        f"&period={world.a.quarter_ids[0]}"
    )
    text = await resp.text()
    await browser.close()
    assert resp.status == 200, text
    return text


async def test_grid_cells_are_named_by_their_headers_in_one_form(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> None:
    ctx = await world.ctx(world.teacher_math)
    lesson = await lessons.record_lesson(
        ctx,
        class_id=world.class_5a,
        subject_id=world.math_a,
        day=date(2025, 10, 13),
        lesson_number=2,
        topic="Дроби <script>alert(1)</script>",
    )
    day_without_lesson = date(2025, 10, 10)
    unplaced = await marks.record_mark(
        ctx,
        pupil_id=world.pupil_a2,
        subject_id=world.math_a,
        day=day_without_lesson,
        value="5",
        work_type_id=world.a.work_type_ids["Ответ на уроке"],
    )
    await world.session.commit()
    page = await grid_page(base, engine, world, clock)
    tags = Tags(page).tags
    form = next(a for tag, a in tags if tag == "form" and a.get("id") == "grid")
    assert form["autocomplete"] == "off" and form["method"] == "post"
    assert re.search(
        r'<form method="post" action="/console/gradebook"[^>]*>\s*'
        r'<input type="hidden" name="csrf_token" value="[^"]+">',
        page,
    )
    headers = {a["id"] for tag, a in tags if tag == "th" and "id" in a}
    cells = {a["name"]: a for tag, a in tags if tag == "input" and a["name"].startswith("c_")}
    assert set(cells) == {f"c_{p}_{lesson.id}" for p in (world.pupil_a1, world.pupil_a2)}
    for name, attrs in cells.items():
        labels = attrs["aria-labelledby"].split()
        assert labels == [f"p{name.split('_')[1]}", f"l{lesson.id}"]
        assert set(labels) <= headers
    assert "<th>Без урока</th>" in page
    assert f'<a href="/console/marks/{unplaced.id}" title="10.10, Ответ на уроке">5</a>' in page
    assert "<script>alert(1)</script>" not in page
    assert 'title="Дроби &lt;script&gt;alert(1)&lt;/script&gt;"' in page
