"""The portal's access decision is the core's own: every progress read takes the reading
portal client and asks the policy before it fetches a row. A client that does not serve the
pupil's school is refused as if the pupil did not exist (NotFound); a request without the
scope is refused (Forbidden); a client that serves the school gets the rows.

The world of :mod:`tests.integration.core.test_progress_reads`: pupil_a1 (school A) has
marks, absences and period marks; pupil_z1 (school B) has a mark and a period mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from diary_core.errors import Forbidden, NotFound
from diary_core.models import ExternalIdentity, Pupil, User
from diary_core.policy import PortalReader, PortalScope
from diary_core.progress.changes import changes_after
from diary_core.progress.guardians import guardian_pupils
from diary_core.progress.model import PupilInfo
from diary_core.progress.reading import (
    execute_all,
    load_progress,
    load_progress_batch,
    load_progress_rows,
    load_pupil_rows,
)
from diary_core.progress.versions import PUPIL_VERSION, readable_version
from tests.integration.core.test_progress_reads import READER, YEAR, records
from tests.support.statements import statements_sent
from tests.support.world import World

__all__ = ["records"]  # the fixture, from the core's tests of these reads

PROGRESS = frozenset({PortalScope.READ_PROGRESS})


def school_a_reader(world: World, scopes: frozenset[str] = PROGRESS) -> PortalReader:
    return PortalReader("school-a", frozenset({world.a.id}), scopes)


async def _pupil_info(world: World, pupil_id: int) -> PupilInfo:
    progress = await load_progress(world.session, READER, pupil_id, *YEAR)
    return progress.pupil


async def _version_row(world: World, pupil_id: int) -> Sequence[Any]:
    snils = await world.session.scalar(
        select(User.snils).join(Pupil, Pupil.user_id == User.id).where(Pupil.id == pupil_id)
    )
    row = (await world.session.execute(PUPIL_VERSION, {"snils": snils})).first()
    assert row is not None
    return tuple(row)


class CountingFetch:
    """The core's default fetch, counting its calls (as the gateway's fast path is called)."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(
        self, conn: AsyncConnection, stmt: Any, params: dict[str, Any]
    ) -> Sequence[Sequence[Any]]:
        self.calls += 1
        return await execute_all(conn, stmt, params)


async def test_client_of_the_pupils_school_reads_his_rows(records: World) -> None:
    w = records
    reader = school_a_reader(w)
    pupil = await _pupil_info(w, w.pupil_a1)
    fetch = CountingFetch()
    rows = await load_pupil_rows(w.session, reader, pupil, *YEAR, fetch=fetch)
    assert fetch.calls == 1
    assert (len(rows.marks), len(rows.attendance), len(rows.period_marks)) == (10, 5, 5)
    progress = await load_progress(w.session, reader, w.pupil_a1, *YEAR)
    assert len(progress.marks) == 10
    version = readable_version(reader, await _version_row(w, w.pupil_a1))
    assert version.pupil == pupil


async def test_client_of_another_school_is_refused_before_any_row_is_fetched(
    records: World, engine: AsyncEngine
) -> None:
    w = records
    reader = school_a_reader(w)
    pupil = await _pupil_info(w, w.pupil_z1)  # school B
    fetch = CountingFetch()
    with statements_sent(engine) as statements, pytest.raises(NotFound):
        await load_pupil_rows(w.session, reader, pupil, *YEAR, fetch=fetch)
    assert statements == [] and fetch.calls == 0
    with pytest.raises(NotFound):
        await load_progress(w.session, reader, w.pupil_z1, *YEAR)
    with pytest.raises(NotFound):
        await load_progress(w.session, reader, w.pupil_z1, *YEAR, pupil=pupil)


async def test_another_schools_pupil_and_a_missing_one_are_refused_alike(
    records: World,
) -> None:
    w = records
    reader = school_a_reader(w)
    theirs = await _version_row(w, w.pupil_z1)
    nobody = (None,) * len(theirs)  # the lookup's outer join when no pupil has the SNILS
    refusals = []
    for row in (theirs, nobody):
        with pytest.raises(NotFound) as refused:
            readable_version(reader, row)
        refusals.append(str(refused.value))
    assert refusals[0] == refusals[1]
    with pytest.raises(NotFound) as other:
        await load_progress(w.session, reader, w.pupil_z1, *YEAR)
    with pytest.raises(NotFound) as missing:
        await load_progress(w.session, reader, 10_000, *YEAR)
    assert str(other.value) == str(missing.value)


async def test_a_batch_leaves_out_pupils_of_other_schools_as_it_leaves_out_missing_ones(
    records: World,
) -> None:
    w = records
    reader = school_a_reader(w)
    rows = await load_progress_rows(w.session, reader, [w.pupil_a1, w.pupil_z1, 10_000], *YEAR)
    assert [r[0] for r in rows.pupils] == [w.pupil_a1]
    assert {r[0] for part in (rows.marks, rows.attendance, rows.period_marks) for r in part} == {
        w.pupil_a1
    }
    batch = await load_progress_batch(w.session, reader, [w.pupil_z1], *YEAR)
    assert batch == {}


@pytest.mark.parametrize("scopes", [frozenset(), frozenset({PortalScope.READ_CHANGES})])
async def test_a_request_without_progress_read_is_refused(
    records: World, engine: AsyncEngine, scopes: frozenset[str]
) -> None:
    w = records
    reader = school_a_reader(w, scopes)
    pupil = await _pupil_info(w, w.pupil_a1)  # his own school: only the scope is missing
    with statements_sent(engine) as statements:
        with pytest.raises(Forbidden):
            await load_pupil_rows(w.session, reader, pupil, *YEAR)
        with pytest.raises(Forbidden):
            await load_progress_rows(w.session, reader, [w.pupil_a1], *YEAR)
        with pytest.raises(Forbidden):
            await load_progress(w.session, reader, w.pupil_a1, *YEAR)
        with pytest.raises(Forbidden):
            await guardian_pupils(w.session, reader, "1000001")
    assert statements == []
    with pytest.raises(Forbidden):
        readable_version(reader, await _version_row(w, w.pupil_a1))


async def test_guardian_children_are_only_those_of_the_clients_schools(records: World) -> None:
    w = records
    now = w.clock.now()
    for user_id, oid in ((w.parent_a1, "1000001"), (w.parent_z1, "2000001")):
        identity = ExternalIdentity(user_id=user_id, provider="esia", subject=oid, linked_at=now)
        w.session.add(identity)
    await w.session.commit()
    reader = school_a_reader(w)
    found = await guardian_pupils(w.session, reader, "1000001")
    assert [p.id for p in found.pupils] == [w.pupil_a1]
    with pytest.raises(NotFound) as theirs:
        await guardian_pupils(w.session, reader, "2000001")  # his child is in school B
    with pytest.raises(NotFound) as unknown:
        await guardian_pupils(w.session, reader, "2000999")
    assert str(theirs.value) == str(unknown.value)
    everywhere = await guardian_pupils(w.session, READER, "2000001")
    assert [p.id for p in everywhere.pupils] == [w.pupil_z1]


async def test_the_change_feed_needs_its_scope_and_keeps_to_the_clients_schools(
    records: World,
) -> None:
    w = records
    with pytest.raises(Forbidden):
        await changes_after(w.session, school_a_reader(w), 0, 100)  # progress.read only
    await w.session.rollback()
    feed = school_a_reader(w, frozenset({PortalScope.READ_CHANGES}))
    page = await changes_after(w.session, feed, 0, 1000)
    await w.session.rollback()
    assert page.changes and {c.school_id for c in page.changes} == {w.a.id}
    every = PortalReader("all", None, frozenset({PortalScope.READ_CHANGES}))
    everything = await changes_after(w.session, every, 0, 1000)
    await w.session.rollback()
    assert {c.school_id for c in everything.changes} == {w.a.id, w.b.id}
