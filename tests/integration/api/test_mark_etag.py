"""Optimistic concurrency on a mark through the JSON API, over real HTTP on both databases: a
mark is read with an ``ETag``; correcting or deleting it needs ``If-Match`` with that ETag
(missing: 428, stale: 412, nothing written either way)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import marks
from diary_core.clock import FixedClock
from diary_core.models import ChangeLogEntry, Mark
from gateway.api import ENDPOINTS
from tests.integration.api import Api
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway, sign_in_as
from tests.support.world import World

SignIn = Callable[[int], Awaitable[Api]]


@pytest.fixture
async def base(
    db_url: str, engine: AsyncEngine, world: World, clock: FixedClock
) -> AsyncIterator[str]:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as url:
        yield url


@pytest.fixture
async def api_as(base: str, engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[SignIn]:
    browsers: list[Browser] = []

    async def make(user_id: int) -> Api:
        browser = Browser()
        browsers.append(browser)
        api = Api(base, browser)
        await sign_in_as(browser, engine, user_id, clock.now())
        await api.sign_csrf()
        return api

    yield make
    for browser in browsers:
        await browser.close()


async def _mark(world: World, value: str = "3") -> int:
    ctx = await world.ctx(world.teacher_math)
    mark = await marks.record_mark(
        ctx,
        pupil_id=world.pupil_a1,
        subject_id=world.math_a,
        day=date(2025, 10, 1),
        value=value,
        work_type_id=world.a.work_type_ids["Ответ на уроке"],
    )
    await world.session.commit()
    return mark.id


async def _stored(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list(await conn.scalars(select(Mark.value).order_by(Mark.id)))


async def _log(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list(await conn.scalars(select(ChangeLogEntry.action).order_by(ChangeLogEntry.id)))


async def test_get_carries_a_strong_etag_that_patch_changes(
    api_as: SignIn, world: World, engine: AsyncEngine
) -> None:
    mark_id = await _mark(world)
    teacher = await api_as(world.teacher_math)
    read = await teacher.get(f"/marks/{mark_id}")
    assert read.status == 200 and read.body["value"] == "3"
    tag = read.headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"') and len(tag) > 10  # strong: no W/
    assert (await teacher.get(f"/marks/{mark_id}")).headers["ETag"] == tag  # stable
    patched = await teacher.call(
        "PATCH", f"/marks/{mark_id}", body={"value": "4"}, headers={"If-Match": tag}
    )
    assert patched.status == 200 and patched.body["value"] == "4"
    assert patched.headers["ETag"] != tag
    again = await teacher.get(f"/marks/{mark_id}")
    assert again.headers["ETag"] == patched.headers["ETag"]  # what PATCH says is what GET says
    current = again.headers["ETag"]
    weight_only = await teacher.call(
        "PATCH", f"/marks/{mark_id}", body={"weight": 5}, headers={"If-Match": current}
    )
    assert weight_only.status == 200 and weight_only.headers["ETag"] != again.headers["ETag"]


async def test_patch_and_delete_without_if_match_are_428_and_write_nothing(
    api_as: SignIn, world: World, engine: AsyncEngine
) -> None:
    mark_id = await _mark(world)
    teacher = await api_as(world.teacher_math)
    patch = await teacher.call("PATCH", f"/marks/{mark_id}", body={"value": "5"})
    assert patch.status == 428
    assert patch.body["code"] == "precondition_required"
    assert patch.body["title"] == "Нужен заголовок If-Match" and "If-Match" in patch.body["detail"]
    delete = await teacher.call("DELETE", f"/marks/{mark_id}")
    assert delete.status == 428 and delete.body["code"] == "precondition_required"
    assert await _stored(engine) == ["3"]
    assert await _log(engine) == ["create"]


async def test_stale_etag_is_412_and_writes_nothing(
    api_as: SignIn, world: World, engine: AsyncEngine
) -> None:
    """Two clients read the mark; the first corrects it; the second's correction and deletion,
    made against what it read, are refused instead of overwriting the first's."""
    mark_id = await _mark(world)
    first, second = await api_as(world.teacher_math), await api_as(world.teacher_math)
    seen = (await second.get(f"/marks/{mark_id}")).headers["ETag"]
    tag = (await first.get(f"/marks/{mark_id}")).headers["ETag"]
    assert seen == tag
    done = await first.call(
        "PATCH", f"/marks/{mark_id}", body={"value": "5"}, headers={"If-Match": tag}
    )
    assert done.status == 200
    late = await second.call(
        "PATCH", f"/marks/{mark_id}", body={"value": "2"}, headers={"If-Match": seen}
    )
    assert late.status == 412, late.text
    assert late.body["code"] == "precondition_failed"
    assert late.body["title"] == "Отметка изменилась" and "«5»" in late.body["detail"]
    gone = await second.call("DELETE", f"/marks/{mark_id}", headers={"If-Match": seen})
    assert gone.status == 412 and gone.body["code"] == "precondition_failed"
    weak = await second.call(
        "PATCH",
        f"/marks/{mark_id}",
        body={"value": "2"},
        headers={"If-Match": "W/" + done.headers["ETag"]},
    )
    assert weak.status == 412  # If-Match compares strongly: a weak validator never matches
    assert await _stored(engine) == ["5"]
    assert await _log(engine) == ["create", "update"]
    fresh = (await second.get(f"/marks/{mark_id}")).headers["ETag"]
    deleted = await second.call(
        "DELETE", f"/marks/{mark_id}", headers={"If-Match": f'"nope", {fresh}'}
    )
    assert deleted.status == 204  # one of the listed ETags is current
    assert await _stored(engine) == []


async def test_if_match_star_writes_whatever_is_current(
    api_as: SignIn, world: World, engine: AsyncEngine
) -> None:
    mark_id = await _mark(world)
    teacher = await api_as(world.teacher_math)
    answer = await teacher.call(
        "PATCH", f"/marks/{mark_id}", body={"value": "4"}, headers={"If-Match": "*"}
    )
    assert answer.status == 200 and answer.body["value"] == "4"
    assert await _stored(engine) == ["4"]


async def test_new_mark_answer_carries_the_etag_that_get_gives(
    api_as: SignIn, world: World
) -> None:
    teacher = await api_as(world.teacher_math)
    created = await teacher.call(
        "POST",
        "/marks",
        body={
            "pupil_id": world.pupil_a1,
            "subject_id": world.math_a,
            "date": "2025-10-15",
            "value": "5",
            "work_type_id": world.a.work_type_ids["Ответ на уроке"],
        },
    )
    assert created.status == 201
    read = await teacher.get(f"/marks/{created.body['id']}")
    assert read.headers["ETag"] == created.headers["ETag"]


async def test_a_parent_reads_his_childs_mark_but_not_anothers(
    api_as: SignIn, world: World
) -> None:
    mark_id = await _mark(world)
    own = await (await api_as(world.parent_a1)).get(f"/marks/{mark_id}")
    assert own.status == 200 and own.body["value"] == "3" and own.headers["ETag"]
    other = await (await api_as(world.parent_a2)).get(f"/marks/{mark_id}")
    assert other.status == 404 and "ETag" not in other.headers


def test_the_description_declares_if_match_and_its_refusals() -> None:
    from gateway.api.openapi import operation

    by_id = {ep.operation_id: ep for ep in ENDPOINTS}
    for op_id in ("correctMark", "deleteMark"):
        op = operation(by_id[op_id])
        header = [p for p in op["parameters"] if p["in"] == "header"]
        assert [(p["name"], p["required"]) for p in header] == [("If-Match", True)]
        assert {"412", "428"} <= set(op["responses"])
    for op_id in ("getMark", "correctMark", "recordMark"):
        op = operation(by_id[op_id])
        success = next(v for k, v in op["responses"].items() if k.startswith("2"))
        assert "ETag" in success["headers"]
