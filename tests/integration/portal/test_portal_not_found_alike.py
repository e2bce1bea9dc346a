"""The portal's rule that an unknown pupil (or guardian) and one the client may not see
answer alike, whole body and headers that tell them apart, for a client that serves only
some schools: the answer is the same 404 problem whether the object is missing or out of
the client's reach."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric import rsa

from diary_core.clock import FixedClock
from diary_core.models import ExternalIdentity
from diary_core.snils import make_snils
from tests.integration.portal.conftest import Portal, pupil_snils, register
from tests.support.world import World

RANGE = "from=2025-09-01&to=2025-12-31"
UNKNOWN_SNILS = make_snils(998_877_665)


async def _answer(resp: Any) -> tuple[object, ...]:
    return (
        resp.status,
        resp.headers.get("Content-Type"),
        resp.headers.get("Cache-Control"),
        resp.headers.get("ETag"),
        await resp.read(),
    )


async def _school_a_client(
    http: Any, world: World, clock: FixedClock, key: rsa.RSAPrivateKey
) -> Portal:
    client_id, kid = await register(world, key, schools=[world.a.id], name="Школа А")
    return Portal(http, clock, key, client_id, kid)


async def test_guardian_of_other_schools_pupil_and_unknown_oid_answer_alike(
    http: Any, world: World, clock: FixedClock, stranger_key: rsa.RSAPrivateKey
) -> None:
    world.session.add(
        ExternalIdentity(
            user_id=world.parent_z1, provider="esia", subject="2000001", linked_at=world.clock.now()
        )
    )
    await world.session.commit()
    portal = await _school_a_client(http, world, clock, stranger_key)
    other = await _answer(await portal.get("/portal/v1/guardians/2000001/pupils"))
    unknown = await _answer(await portal.get("/portal/v1/guardians/2000999/pupils"))
    assert other == unknown
    assert other[0] == 404


async def test_other_schools_pupil_and_unknown_snils_answer_alike_in_every_format(
    http: Any, world: World, clock: FixedClock, stranger_key: rsa.RSAPrivateKey
) -> None:
    portal = await _school_a_client(http, world, clock, stranger_key)
    theirs = quote(await pupil_snils(world, world.pupil_z1))
    for accept in ("application/json", "application/xml", "application/jose"):
        other = await _answer(
            await portal.get(f"/portal/v1/pupils/{theirs}/progress?{RANGE}", accept=accept)
        )
        unknown = await _answer(
            await portal.get(
                f"/portal/v1/pupils/{quote(UNKNOWN_SNILS)}/progress?{RANGE}", accept=accept
            )
        )
        assert other == unknown, accept
        assert other[0] == 404
