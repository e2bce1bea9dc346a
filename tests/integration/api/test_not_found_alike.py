"""No oracle in the JSON API: another family's (another class's, another school's) pupil,
class or mark answers exactly like one that does not exist, whole body and headers that
matter, on both databases. (tests/integration/test_route_access.py checks the same for every
route of the application; these name the cases the regulation is about.)"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import lessons, marks
from diary_core.clock import FixedClock
from diary_core.errors import NOT_FOUND_DETAIL
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

MISSING = 987_654
RANGE = "?from=2025-09-01&to=2025-12-31"
#: The one 404 every such request gets.
EXPECTED = {
    "type": "about:blank",
    "title": "Не найдено",
    "status": 404,
    "detail": NOT_FOUND_DETAIL,
    "code": "not_found",
}


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


@pytest.fixture
async def parent(
    base: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[Browser]:
    """``parent_a1``, whose only child is ``pupil_a1`` of 5А."""
    browser = Browser()
    await sign_in_as(browser, engine, world.parent_a1, clock.now())
    yield browser
    await browser.close()


async def _answer(browser: Browser, url: str) -> tuple[int, str, dict[str, object]]:
    resp = await browser.get(url)
    return resp.status, resp.headers["Content-Type"], json.loads(await resp.text())


async def _assert_alike(browser: Browser, base: str, theirs: str, missing: str) -> None:
    got_theirs = await _answer(browser, base + theirs)
    got_missing = await _answer(browser, base + missing)
    assert got_theirs == got_missing, f"{theirs} and {missing} answer differently"
    status, content_type, body = got_missing
    assert (status, body) == (404, EXPECTED)
    assert content_type.startswith("application/problem+json")


@pytest.mark.parametrize("who", ["pupil_a2", "pupil_b1", "pupil_z1"])
@pytest.mark.parametrize("what", ["marks", "attendance"])
async def test_another_familys_pupil_answers_like_a_missing_one(
    base: str, parent: Browser, world: World, who: str, what: str
) -> None:
    pupil = getattr(world, who)
    await _assert_alike(
        parent,
        base,
        f"/api/v1/pupils/{pupil}/{what}{RANGE}",
        f"/api/v1/pupils/{MISSING}/{what}{RANGE}",
    )


@pytest.mark.parametrize("which", ["class_5b", "class_7a"])
@pytest.mark.parametrize("what", ["lessons", "timetable"])
async def test_another_class_answers_like_a_missing_one(
    base: str, parent: Browser, world: World, which: str, what: str
) -> None:
    klass = getattr(world, which)
    query = "?week=2025-10-13" if what == "timetable" else RANGE
    await _assert_alike(
        parent,
        base,
        f"/api/v1/classes/{klass}/{what}{query}",
        f"/api/v1/classes/{MISSING}/{what}{query}",
    )


async def test_another_familys_mark_history_answers_like_a_missing_mark(
    base: str, parent: Browser, world: World
) -> None:
    ctx = await world.ctx(world.teacher_math)
    theirs = await marks.record_mark(
        ctx, pupil_id=world.pupil_a2, subject_id=world.math_a, day=date(2025, 10, 14),
        value="5", work_type_id=world.a.work_type_ids["Ответ на уроке"],
    )  # fmt: skip
    await world.session.commit()
    await _assert_alike(
        parent, base, f"/api/v1/marks/{theirs.id}/history", f"/api/v1/marks/{MISSING}/history"
    )


async def test_writing_another_familys_mark_answers_like_a_missing_mark(
    base: str, parent: Browser, world: World
) -> None:
    """A parent may write no mark at all; still, "not yours" is not "forbidden, but it exists"."""
    ctx = await world.ctx(world.teacher_math)
    theirs = await marks.record_mark(
        ctx, pupil_id=world.pupil_a2, subject_id=world.math_a, day=date(2025, 10, 14),
        value="5", work_type_id=world.a.work_type_ids["Ответ на уроке"],
    )  # fmt: skip
    await world.session.commit()
    token = await parent.csrf(base + "/account")
    answers = []
    for mark_id in (theirs.id, MISSING):
        resp = await parent.http.delete(
            f"{base}/api/v1/marks/{mark_id}", headers={"X-CSRF-Token": token, "If-Match": "*"}
        )
        answers.append((resp.status, json.loads(await resp.text())))
    assert answers[0] == answers[1] == (404, EXPECTED)


async def _write_answers(
    browser: Browser, base: str, method: str, path: str, bodies: list[dict[str, object]]
) -> list[tuple[int, object]]:
    token = await browser.csrf(base + "/account")
    answers = []
    for body in bodies:
        resp = await browser.http.request(
            method, base + path, json=body, headers={"X-CSRF-Token": token}
        )
        answers.append((resp.status, json.loads(await resp.text())))
    return answers


@pytest.mark.parametrize(
    ("who", "pupil", "subject"),
    [
        ("parent_a1", "pupil_a2", "math_a"),  # another family, his child's own class
        ("ct_5a", "pupil_b1", "russian_a"),  # a class the teacher does not teach
        ("teacher_math", "pupil_z1", "math_b"),  # another school
    ],
)
async def test_a_mark_for_someone_elses_pupil_answers_like_for_a_missing_one(
    base: str,
    engine: AsyncEngine,
    world: World,
    clock: FixedClock,
    who: str,
    pupil: str,
    subject: str,
) -> None:
    browser = Browser()
    await sign_in_as(browser, engine, getattr(world, who), clock.now())
    mark: dict[str, object] = {
        "subject_id": getattr(world, subject),
        "date": "2025-10-14",
        "value": "5",
        "work_type_id": world.a.work_type_ids["Ответ на уроке"],
    }
    answers = await _write_answers(
        browser,
        base,
        "POST",
        "/api/v1/marks",
        [{**mark, "pupil_id": getattr(world, pupil)}, {**mark, "pupil_id": MISSING}],
    )
    await browser.close()
    assert answers[0] == answers[1] == (404, EXPECTED)


async def test_attendance_of_another_familys_pupil_answers_like_a_missing_one(
    base: str, parent: Browser, world: World
) -> None:
    lesson = await lessons.record_lesson(
        await world.ctx(world.teacher_math),
        class_id=world.class_5a, subject_id=world.math_a, day=date(2025, 10, 14),
        lesson_number=1, topic="Дроби",
    )  # fmt: skip
    await world.session.commit()
    answers = await _write_answers(
        parent,
        base,
        "PUT",
        "/api/v1/attendance",
        [
            {"pupil_id": pupil, "lesson_id": lesson.id, "kind": "н"}
            for pupil in (world.pupil_a2, MISSING)
        ],
    )
    assert answers[0] == answers[1] == (404, EXPECTED)
