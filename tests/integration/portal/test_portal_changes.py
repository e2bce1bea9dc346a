"""The changes feed: creations, corrections and deletions (tombstones) in commit order after
the cursor; a consumer that follows it from the start holds exactly the current marks; an
expired cursor is 410. And the guardians endpoint: a parent's confirmed children."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from diary_core.marks import correct_mark, delete_mark, record_mark
from diary_core.models import Attendance, AuditEvent, ExternalIdentity, Mark, PeriodMark
from tests.integration.portal.conftest import Marks, Portal, pupil_snils, register, xmlsec_verify
from tests.support.signed_xml import served_schema
from tests.support.world import World


async def feed(portal: Portal, cursor: str = "0", limit: int = 100) -> dict[str, Any]:
    resp = await portal.get(f"/portal/v1/changes?cursor={cursor}&limit={limit}")
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def test_correction_and_deletion_appear_after_the_cursor_in_order(
    portal: Portal, world: World, marks: Marks
) -> None:
    cursor = (await feed(portal))["nextCursor"]
    teacher = await world.ctx(world.teacher_math)
    await correct_mark(teacher, marks.four, value="3", reason="ошибка")
    await delete_mark(teacher, marks.five, reason="не та работа")
    await world.session.commit()
    page = await feed(portal, cursor)
    assert [(c["entity"], c["id"], c["action"]) for c in page["changes"]] == [
        ("mark", marks.four, "update"),
        ("mark", marks.five, "delete"),
    ]
    correction, tombstone = page["changes"]
    assert correction["mark"]["value"] == "3"
    assert correction["mark"]["subject"] == "Математика"
    assert correction["pupilSnils"] == await pupil_snils(world, world.pupil_a1)
    assert "mark" not in tombstone  # a tombstone carries no state
    assert int(correction["cursor"]) < int(tombstone["cursor"]) == int(page["nextCursor"])
    assert (await feed(portal, page["nextCursor"]))["changes"] == []


def apply(state: dict[tuple[str, int], dict[str, Any]], change: dict[str, Any]) -> None:
    key = (change["entity"], change["id"])
    if change["action"] == "delete":
        state.pop(key, None)
        return
    body = change.get("mark") or change.get("absence") or change.get("periodMark")
    assert body is not None
    state[key] = body


async def follow(portal: Portal, limit: int) -> dict[tuple[str, int], dict[str, Any]]:
    state: dict[tuple[str, int], dict[str, Any]] = {}
    cursor, more = "0", True
    while more:
        page = await feed(portal, cursor, limit)
        for change in page["changes"]:
            apply(state, change)
        cursor, more = page["nextCursor"], page["hasMore"]
    return state


async def test_consumer_following_the_cursor_rebuilds_exactly_the_current_marks(
    portal: Portal, world: World, marks: Marks
) -> None:
    teacher = await world.ctx(world.teacher_math)
    await correct_mark(teacher, marks.four, value="2", weight=2)
    await delete_mark(teacher, marks.five)
    extra = await record_mark(
        teacher, pupil_id=world.pupil_b1, subject_id=world.math_a, day=date(2025, 10, 3),
        value="зач", work_type_id=world.a.work_type_ids["Домашняя работа"],
    )  # fmt: skip
    await correct_mark(teacher, extra.id, counts=False)
    await world.session.commit()
    rebuilt = await follow(portal, limit=2)
    current = {
        ("mark", m.id): (m.date.isoformat(), m.value, m.weight, m.counts)
        for m in await world.session.scalars(select(Mark))
    }
    assert {
        k: (v["date"], v["value"], v["weight"], v["countsInAverage"])
        for k, v in rebuilt.items()
        if k[0] == "mark"
    } == current
    absences = {
        ("attendance", a.id): a.kind for a in await world.session.scalars(select(Attendance))
    }
    assert {k: v["kind"] for k, v in rebuilt.items() if k[0] == "attendance"} == absences
    finals = {
        ("period_mark", p.id): p.value for p in await world.session.scalars(select(PeriodMark))
    }
    assert {k: v["value"] for k, v in rebuilt.items() if k[0] == "period_mark"} == finals


async def test_feed_is_limited_to_the_clients_schools(
    http: Any, world: World, clock: Any, stranger_key: Any, marks: Marks
) -> None:
    teacher_b = await world.ctx(world.teacher_b)
    await record_mark(
        teacher_b, pupil_id=world.pupil_z1, subject_id=world.math_b, day=date(2025, 10, 2),
        value="4", work_type_id=world.b.work_type_ids["Ответ на уроке"],
    )  # fmt: skip
    await world.session.commit()
    client_id, kid = await register(world, stranger_key, schools=[world.b.id], name="Школа Б")
    portal = Portal(http, clock, stranger_key, client_id, kid)
    page = await feed(portal)
    assert {c["schoolId"] for c in page["changes"]} == {world.b.id}
    assert len(page["changes"]) == 1


async def test_expired_cursor_is_410(portal: Portal, world: World, marks: Marks) -> None:
    cursor = (await feed(portal, limit=1))["nextCursor"]
    portal.clock.advance(timedelta(days=91))
    portal.tokens.clear()
    resp = await portal.get(f"/portal/v1/changes?cursor={cursor}")
    assert resp.status == 410
    assert (await resp.json())["code"] == "cursor_expired"
    assert (await portal.get("/portal/v1/changes?cursor=0")).status == 200


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("cursor=abc", "invalid_cursor"),
        ("cursor=-1", "invalid_cursor"),
        ("cursor=999999", "invalid_cursor"),  # never issued
        ("limit=0", "invalid_limit"),
        ("limit=1001", "invalid_limit"),
        ("limit=ten", "invalid_limit"),
    ],
)
async def test_malformed_cursor_and_limit_are_400(
    portal: Portal, marks: Marks, query: str, code: str
) -> None:
    resp = await portal.get(f"/portal/v1/changes?{query}")
    assert resp.status == 400
    assert (await resp.json())["code"] == code


async def test_changes_xml_is_signed_and_valid_against_the_schema(
    portal: Portal, world: World, marks: Marks, feed_keys: tuple[Path, Path], tmp_path: Path
) -> None:
    await delete_mark(await world.ctx(world.teacher_math), marks.five)
    await world.session.commit()
    body = await (await portal.get("/portal/v1/changes", accept="application/xml")).read()
    assert xmlsec_verify(body, feed_keys[1], tmp_path).returncode == 0
    schema = await served_schema(portal.http, tmp_path)  # with the ds:Signature it imports
    assert schema.validate(etree.fromstring(body)), schema.error_log


async def test_changes_reads_are_audited(portal: Portal, world: World, marks: Marks) -> None:
    await feed(portal)
    world.session.expire_all()
    event = await world.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "portal.changes.read")
    )
    assert event is not None
    assert event.details["pupil_ids"] == [world.pupil_a1]
    assert event.details["result"] == "ok"


async def link_esia(world: World, user_id: int, oid: str) -> None:
    world.session.add(
        ExternalIdentity(user_id=user_id, provider="esia", subject=oid, linked_at=world.clock.now())
    )
    await world.session.commit()


async def test_guardian_gets_confirmed_children_signed(
    portal: Portal, world: World, feed_keys: tuple[Path, Path], tmp_path: Path
) -> None:
    await link_esia(world, world.parent_a1, "1000001")
    resp = await portal.get("/portal/v1/guardians/1000001/pupils")
    doc = await resp.json()
    assert doc["guardian"] == {"esiaOid": "1000001"}
    assert [p["snils"] for p in doc["pupils"]] == [await pupil_snils(world, world.pupil_a1)]
    assert doc["pupils"][0]["school"]["name"] == "Школа А"
    xml = await (
        await portal.get("/portal/v1/guardians/1000001/pupils", accept="application/xml")
    ).read()
    assert xmlsec_verify(xml, feed_keys[1], tmp_path).returncode == 0


async def test_pending_guardian_and_unknown_oid_answer_alike(portal: Portal, world: World) -> None:
    await link_esia(world, world.parent_pending, "1000002")
    pending = await portal.get("/portal/v1/guardians/1000002/pupils")
    unknown = await portal.get("/portal/v1/guardians/1000999/pupils")
    assert pending.status == unknown.status == 404
    assert await pending.read() == await unknown.read()
    bad = await portal.get("/portal/v1/guardians/not-an-oid/pupils")
    assert bad.status == 400 and (await bad.json())["code"] == "invalid_oid"
