"""A progress request in few round trips, and what that must not change: a malformed request
is refused only after its token is found good; every request is counted and audited, even
many at once; a document is kept only together with the audit event of the request that
signed it; an unchanged document costs one read, and its writes are shared (PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from diary_core.models import AuditEvent
from gateway import keys
from gateway.portal import bearer_tokens as tokens
from gateway.portal.clients import Client
from gateway.storage import PortalDocument, PortalRateCounter
from tests.integration.portal.conftest import Marks, Portal, pupil_snils
from tests.support.statements import statements_sent
from tests.support.world import World

RANGE = "from=2025-09-01&to=2025-10-15"


async def path(world: World, query: str = RANGE, snils: str | None = None) -> str:
    snils = snils or await pupil_snils(world, world.pupil_a1)
    return f"/portal/v1/pupils/{quote(snils)}/progress?{query}"


async def codes(resp: Any) -> tuple[int, str]:
    return resp.status, (await resp.json())["code"]


async def test_a_malformed_request_without_a_token_is_refused_for_the_token(
    portal: Portal, world: World
) -> None:
    bad_snils = await path(world, snils="112-233-000 00")
    bad_date = await path(world, query="from=2025-13-01&to=2025-10-15")
    assert await codes(await portal.http.get(bad_snils)) == (401, "token_missing")
    invalid = {"Authorization": "Bearer not-a-token"}
    assert await codes(await portal.http.get(bad_date, headers=invalid)) == (401, "token_invalid")
    narrow = await portal.token(scope="changes.read")
    refused = await portal.get(bad_snils, token=narrow)
    assert await codes(refused) == (403, "insufficient_scope")
    assert await codes(await portal.get(bad_snils)) == (400, "invalid_snils")


async def test_many_requests_at_once_are_each_counted_and_audited(
    portal: Portal, world: World, marks: Marks
) -> None:
    token = await portal.token()  # counted too
    ranges = [f"from=2025-09-01&to=2025-10-{day:02d}" for day in range(1, 11)]
    paths = [await path(world, q) for q in ranges] * 2  # each document cold, then warm
    answers = await asyncio.gather(*(portal.get(p, token=token) for p in paths))
    assert [a.status for a in answers] == [200] * len(paths)
    world.session.expire_all()
    counted = await world.session.scalar(select(func.sum(PortalRateCounter.count)))
    audited = await world.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "portal.progress.read", AuditEvent.pupil_id == world.pupil_a1)
    )
    kept = await world.session.scalar(select(func.count()).select_from(PortalDocument))
    assert (counted, audited, kept) == (len(paths) + 1, len(paths), len(ranges))


async def test_a_document_is_kept_only_with_its_audit_event(
    portal: Portal, world: World, marks: Marks, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await portal.token()
    real = tokens.count_request
    failures = []

    def failing_once(dialect: str, client: Client, now: Any) -> Any:
        stmt, params = real(dialect, client, now)
        if not failures:
            failures.append(1)
            params = {**params, "rate_client": -1}  # no such client: the write fails
        return stmt, params

    monkeypatch.setattr(tokens, "count_request", failing_once)
    resp = await portal.get(await path(world), accept="application/jose", token=token)
    assert await codes(resp) == (500, "internal_error")
    world.session.expire_all()
    events = list(
        await world.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "portal.progress.read")
        )
    )
    assert [(e.pupil_id, e.details["status"], e.details["result"]) for e in events] == [
        (world.pupil_a1, 500, "internal_error")
    ]
    assert await world.session.scalar(select(func.count()).select_from(PortalDocument)) == 0


async def test_an_unchanged_document_costs_one_read_and_its_writes(
    portal: Portal, world: World, marks: Marks, db_url: str
) -> None:
    """Round trips are the feed's cost. A warm request reads the token, the pupil, his
    data's fingerprint and the kept document's ETag in one statement, then writes the rate
    count and the audit event; a cold one adds the row query and its document's store. On
    PostgreSQL the writes go to the group commit: a request alone or many at once write
    them in one statement (data-modifying CTEs over arrays). SQLite writes one statement at
    a time."""
    engine = portal.http.app[keys.ENGINE]
    token = await portal.token()
    progress = await path(world)
    with statements_sent(engine) as cold:
        assert (await portal.get(progress, token=token)).status == 200
    with statements_sent(engine) as warm:
        assert (await portal.get(progress, token=token)).status == 200
    postgresql = db_url.startswith("postgresql")
    assert len(warm) == (2 if postgresql else 3)
    assert len(cold) == (3 if postgresql else 5)
    if not postgresql:
        return
    with statements_sent(engine) as many:
        answers = await asyncio.gather(*(portal.get(progress, token=token) for _ in range(10)))
    assert [a.status for a in answers] == [200] * 10
    inserts = [s for s in many if "INSERT INTO audit_events" in s]  # one per transaction
    assert 1 <= len(inserts) < 10  # batched: fewer transactions than requests
    # Each batch is one statement, with the rate counts in it; beside them, one read each.
    assert all("INSERT INTO portal_rate_counters" in s for s in inserts)
    assert len(many) == 10 + len(inserts)
