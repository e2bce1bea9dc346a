"""Group commit of the portal requests' writes (gateway/portal/commits.py): requests handed in
together share one transaction; a request whose writes fail fails alone, with none of its
writes kept; rows two processes may both write are written in one order; and the endpoint
answers only what was committed. (The service uses it on PostgreSQL, where a batch is one
statement over arrays (its ``Bulk`` forms); without them it is plain SQLAlchemy, so that
form is held to the same on both databases.)"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core import audit
from diary_core.models import AuditEvent
from gateway import keys
from gateway.keys import PORTAL
from gateway.portal import bearer_tokens as tokens
from gateway.portal import handlers
from gateway.portal.cache import STORE_BULK
from gateway.portal.clients import client_from
from gateway.portal.commits import GroupCommit, _lock_order
from gateway.portal.endpoint import BULKS
from gateway.storage import PortalClient, PortalDocument, PortalRateCounter
from tests.integration.portal.conftest import Marks, Portal, pupil_snils
from tests.support.statements import statements_sent
from tests.support.world import World

NOW = datetime(2025, 10, 15, 10, 0, tzinfo=UTC)


async def a_client(world: World) -> Any:
    row = PortalClient(
        client_id="group-commit", name="Тест", jwks={"keys": []}, scopes="progress.read",
        school_ids=None, active=True, created_at=NOW,
    )  # fmt: skip
    world.session.add(row)
    await world.session.commit()
    return client_from(row.id, row.client_id, row.name, row.scopes, None)


def writes_of(
    dialect: str, client: Any, label: str, *, broken: bool = False
) -> tuple[list[Any], list[Any]]:
    """One request's writes: its rate count (on a client that does not exist when
    ``broken``: a foreign-key violation) and its audit event."""
    stmt, params = tokens.count_request(dialect, client, NOW)
    if broken:
        params = {**params, "rate_client": -1}
    event = audit.portal_event(label, "portal.progress.read", NOW, status=200, result="ok")
    return [(stmt, params)], [event]


async def audited(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(AuditEvent.actor_label)
            .where(AuditEvent.action == "portal.progress.read")
            .order_by(AuditEvent.id)
        )
        return [r[0] for r in rows]


async def counted(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.coalesce(func.sum(PortalRateCounter.count), 0))))


def group_of(engine: AsyncEngine, bulk: bool) -> GroupCommit:
    """The group commit as the service makes it (``bulk``: PostgreSQL only), or its plain
    form, which any write may take."""
    if bulk and engine.dialect.name != "postgresql":
        pytest.skip("a batch is one statement over arrays on PostgreSQL only")
    return GroupCommit(engine, bulks=BULKS if bulk else ())


def store(pupil_id: int, etag: str, *, end: int = 15) -> tuple[Any, dict[str, Any]]:
    """A kept document's write, as :meth:`DocumentCache.put` hands it in."""
    return STORE_BULK.one, {
        "doc_pupil": pupil_id, "doc_from": NOW.date().replace(day=1),
        "doc_to": NOW.date().replace(day=end), "doc_format": "jose", "doc_etag": etag,
        "doc_body": etag.encode(), "doc_at": NOW,
    }  # fmt: skip


async def kept(engine: AsyncEngine) -> list[tuple[int, int, str]]:
    """The kept documents in the order they were inserted: pupil, range end day, ETag."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(PortalDocument.pupil_id, PortalDocument.range_to, PortalDocument.etag).order_by(
                PortalDocument.id
            )
        )
        return [(r[0], r[1].day, r[2]) for r in rows]


async def test_a_batch_is_one_statement_whatever_its_size(
    engine: AsyncEngine, world: World
) -> None:
    group = group_of(engine, bulk=True)
    client = await a_client(world)
    labels = [f"r{i}" for i in range(20)]
    with statements_sent(engine) as sent:
        await asyncio.gather(
            *(group.commit(*writes_of(engine.dialect.name, client, label)) for label in labels)
        )
    assert group.batches == 1 and len(sent) == 1
    assert await audited(engine) == labels  # events in the order the requests came
    assert await counted(engine) == len(labels)  # a counter's requests added up
    async with engine.connect() as conn:
        counters = (await conn.execute(select(PortalRateCounter.shard))).all()
    assert len(counters) == len({r[0] for r in counters})  # one row per shard used
    with statements_sent(engine) as sent:
        await group.commit(*writes_of(engine.dialect.name, client, "alone"))
    assert group.batches == 2 and len(sent) == 1
    assert await counted(engine) == len(labels) + 1


async def test_a_document_stored_twice_in_a_batch_keeps_the_later(
    engine: AsyncEngine, world: World
) -> None:
    """One statement may not write a row twice: of two stores of one pupil's document for one
    range, the one handed in later is kept; the others are written in key order (the lock
    order of every batch), whatever order they came in."""
    group = group_of(engine, bulk=True)
    client = await a_client(world)
    pupils = sorted([world.pupil_a1, world.pupil_a2, world.pupil_b1])
    order = [pupils[2], pupils[0], pupils[1]]
    dialect = engine.dialect.name
    requests = [([store(p, f'"{p}-first"')], []) for p in order]
    requests.append(([store(pupils[0], '"again"'), store(pupils[0], '"other range"', end=14)], []))
    rows, events = writes_of(dialect, client, "last")
    requests.append((rows, events))
    await asyncio.gather(*(group.commit(r, e) for r, e in requests))
    assert group.batches == 1
    assert await kept(engine) == [
        (pupils[0], 14, '"other range"'),
        (pupils[0], 15, '"again"'),
        (pupils[1], 15, f'"{pupils[1]}-first"'),
        (pupils[2], 15, f'"{pupils[2]}-first"'),
    ]
    assert await audited(engine) == ["last"]


@pytest.mark.parametrize("bulk", [False, True], ids=["plain", "bulk"])
async def test_a_request_whose_writes_fail_fails_alone_and_keeps_nothing_either_way(
    engine: AsyncEngine, world: World, bulk: bool
) -> None:
    group = group_of(engine, bulk)
    client = await a_client(world)
    dialect = engine.dialect.name
    results = await asyncio.gather(
        group.commit(*writes_of(dialect, client, "before")),
        group.commit(
            [store(world.pupil_a1, '"doc"'), *writes_of(dialect, client, "broken", broken=True)[0]],
            writes_of(dialect, client, "broken")[1],
        ),
        group.commit(*writes_of(dialect, client, "after")),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], Exception)
    assert await audited(engine) == ["before", "after"]  # not the broken request's event
    assert await counted(engine) == 2
    assert await kept(engine) == []  # nor its document
    # One batch that failed, then each request alone.
    assert group.batches == 4


async def test_requests_handed_in_together_share_one_transaction(
    engine: AsyncEngine, world: World
) -> None:
    client = await a_client(world)
    group = GroupCommit(engine)
    labels = [f"r{i}" for i in range(20)]
    shards: list[list[int]] = []

    def seen(_conn: Any, _stmt: Any, multiparams: Any, *_: Any) -> None:
        if isinstance(multiparams, list) and "rate_shard" in multiparams[0]:
            shards.append([p["rate_shard"] for p in multiparams])

    event.listen(engine.sync_engine, "before_execute", seen)
    try:
        await asyncio.gather(
            *(group.commit(*writes_of(engine.dialect.name, client, label)) for label in labels)
        )
    finally:
        event.remove(engine.sync_engine, "before_execute", seen)
    assert group.batches == 1
    # One statement for all the rate counts, in lock order (the shards are random).
    assert len(shards) == 1 and shards[0] == sorted(shards[0]) and len(shards[0]) == 20
    assert await audited(engine) == labels  # events in the order the requests came
    assert await counted(engine) == len(labels)


async def test_requests_arriving_during_a_commit_go_together_in_the_next(
    engine: AsyncEngine, world: World
) -> None:
    client = await a_client(world)
    group = GroupCommit(engine)
    dialect = engine.dialect.name
    first = asyncio.ensure_future(group.commit(*writes_of(dialect, client, "first")))
    await asyncio.sleep(0)  # the first commit is now under way
    rest = [group.commit(*writes_of(dialect, client, f"next{i}")) for i in range(5)]
    await asyncio.gather(first, *rest)
    assert group.batches == 2
    assert await audited(engine) == ["first", *(f"next{i}" for i in range(5))]
    await group.drain()


def test_rows_are_ordered_the_same_whatever_order_they_came_in() -> None:
    """Two processes' batches lock shared rows (rate counters, kept documents) in one order."""
    window = datetime(2025, 10, 15, 10, 0, tzinfo=UTC)
    rows = [
        {"rate_client": c, "rate_window": window, "rate_shard": s}
        for c in (1, 2, 3)
        for s in (0, 5, 11)
    ]
    docs = [
        {"doc_pupil": p, "doc_from": NOW.date(), "doc_to": NOW.date(), "doc_format": f,
         "doc_etag": '"x"', "doc_body": b"<a/>", "doc_at": NOW, "other": None}
        for p in (3, 1, 2)
        for f in ("xml", "jose")
    ]  # fmt: skip
    for group in (rows, docs):
        shuffled = list(group)
        random.Random(7).shuffle(shuffled)
        assert sorted(shuffled, key=_lock_order) == sorted(group, key=_lock_order)
    assert [r["rate_client"] for r in sorted(rows, key=_lock_order)] == [1, 1, 1, 2, 2, 2, 3, 3, 3]


async def test_the_endpoint_answers_after_its_batch_and_audits_a_failed_one(
    portal: Portal, world: World, marks: Marks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the progress endpoint's writes go through the group commit; a request
    whose writes fail in it is answered 500 and audited as such, the others are served."""
    if portal.http.app[keys.ENGINE].dialect.name != "postgresql":
        pytest.skip("the service groups its commits on PostgreSQL only")
    group = portal.http.app[PORTAL].commits
    assert group is not None
    token = await portal.token()
    snils = await pupil_snils(world, world.pupil_a1)
    paths = [
        f"/portal/v1/pupils/{snils}/progress?from=2025-09-01&to=2025-10-{d:02d}" for d in (1, 2, 3)
    ]
    real = tokens.count_request
    broken: list[int] = []

    def failing_once(dialect: str, client: Any, now: Any) -> Any:
        stmt, params = real(dialect, client, now)
        if not broken:
            broken.append(1)
            params = {**params, "rate_client": -1}
        return stmt, params

    monkeypatch.setattr(tokens, "count_request", failing_once)
    before = group.batches
    answers = await asyncio.gather(
        *(portal.get(p, accept="application/jose", token=token) for p in paths)
    )
    assert sorted(a.status for a in answers) == [200, 200, 500]
    assert group.batches > before
    world.session.expire_all()
    results = sorted(
        (e.details["status"], e.details["result"])
        for e in await world.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "portal.progress.read")
        )
    )
    assert results == [(200, "ok"), (200, "ok"), (500, "internal_error")]


async def test_a_fault_in_the_work_is_answered_500_and_audited_and_the_next_request_served(
    portal: Portal, world: World, marks: Marks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads without a transaction (PostgreSQL) or in one (SQLite): a fault while building
    the answer leaves nothing half-done and is audited like any refusal."""
    token = await portal.token()
    snils = await pupil_snils(world, world.pupil_a1)
    path = f"/portal/v1/pupils/{snils}/progress?from=2025-09-01&to=2025-10-15"

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a fault while reading")

    with monkeypatch.context() as patch:
        patch.setattr(handlers, "load_pupil_rows", broken)
        failed = await portal.get(path, accept="application/jose", token=token)
    assert failed.status == 500 and (await failed.json())["code"] == "internal_error"
    served = await portal.get(path, accept="application/jose", token=token)
    assert served.status == 200
    world.session.expire_all()
    results = [
        (e.pupil_id, e.details["status"], e.details["result"])
        for e in await world.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "portal.progress.read")
            .order_by(AuditEvent.id)
        )
    ]
    assert results == [(world.pupil_a1, 500, "internal_error"), (world.pupil_a1, 200, "ok")]
