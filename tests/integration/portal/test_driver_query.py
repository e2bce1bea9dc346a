"""The portal's lookup read through the driver (gateway/portal/driver.py) gives exactly the row
SQLAlchemy gives, on both databases, found or not; a connection that dies under it is
invalidated, not handed to the next request."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.portal import bearer_tokens as tokens
from gateway.portal import handlers
from gateway.storage import PortalClient, PortalToken
from gateway.storage.driver import DriverQuery
from tests.integration.portal.conftest import pupil_snils
from tests.support.world import World

NOW = datetime(2025, 10, 15, 10, 0, tzinfo=UTC)


async def a_token(world: World) -> str:
    client = PortalClient(
        client_id="driver", name="Тест", jwks={"keys": []}, scopes="progress.read",
        school_ids=[world.a.id], active=True, created_at=NOW,
    )  # fmt: skip
    world.session.add(client)
    await world.session.flush()
    world.session.add(
        PortalToken(token_hash=tokens.token_hash("secret"), client_id=client.id,
                    scopes="progress.read", created_at=NOW, expires_at=NOW + timedelta(minutes=5))
    )  # fmt: skip
    await world.session.commit()
    return "secret"


def lookup_params(token: str, snils: str) -> dict[str, Any]:
    return {
        "token_hash": tokens.token_hash(token),
        "now": NOW,
        "window": tokens.window_of(NOW),
        "snils": snils,
        "doc_from": date(2025, 9, 1),
        "doc_to": date(2025, 10, 15),
        "doc_format": "jose",
    }


@pytest.mark.parametrize("who", ["pupil", "nobody", "bad token"])
async def test_the_driver_reads_the_row_sqlalchemy_reads(
    who: str, engine: AsyncEngine, world: World
) -> None:
    token = await a_token(world)
    snils = await pupil_snils(world, world.pupil_a1) if who != "nobody" else "112-233-445 95"
    params = lookup_params("wrong" if who == "bad token" else token, snils)
    query = DriverQuery(handlers._PROGRESS_LOOKUP)
    async with engine.connect() as conn:
        expected = (await conn.execute(handlers._PROGRESS_LOOKUP, params)).first()
        got = await query.first(conn, params)
    if who == "bad token":
        assert expected is None and got is None
        return
    assert expected is not None and got is not None
    assert tuple(got) == tuple(expected)
    assert [type(v) for v in got] == [type(v) for v in expected]
    assert (got[-2], got[-1]) == (None, None)  # no document kept
    if who == "nobody":
        assert got[len(tokens._BEARER_COLUMNS)] is None


async def test_a_connection_that_dies_under_the_driver_is_invalidated(
    engine: AsyncEngine, world: World
) -> None:
    if engine.dialect.driver != "asyncpg":
        pytest.skip("the driver path is asyncpg's")
    token = await a_token(world)
    params = lookup_params(token, await pupil_snils(world, world.pupil_a1))
    query = DriverQuery(handlers._PROGRESS_LOOKUP)
    async with engine.connect() as conn:
        pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        async with engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(Exception):  # noqa: B017 - whichever error asyncpg raises for it
            await query.first(conn, params)
        assert conn.invalidated
    async with engine.connect() as fresh:  # the pool hands out a working connection
        assert await fresh.scalar(select(PortalClient.client_id)) == "driver"
