"""The SMEV 3 profile over HTTP, on both databases: asked for by ``Accept`` or made the
default by ``[feed] xml_profile``; ETags, 304, the document cache, the guardian document and
the changes feed as in the other representations; every answer verified by
:func:`gateway.portal.verify.verify_document` with the served certificate pinned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric import rsa

from diary_core.clock import FixedClock
from diary_core.marks import correct_mark
from gateway.keys import PORTAL
from gateway.portal.verify import verify_document
from gateway.portal.xml import NS
from tests.integration.portal.conftest import (
    Client,
    Marks,
    Portal,
    make_app,
    register,
)
from tests.integration.portal.test_portal_progress import progress_path
from tests.support.world import World

SMEV = 'application/xml; profile="smev3"'


def _verified(portal: Portal, body: bytes) -> Any:
    certificate = portal.http.app[PORTAL].smev.certificate.der
    verified = verify_document(body, trusted=[certificate])
    assert verified.profile == "smev3"
    return verified


async def test_progress_in_the_smev_profile_verifies_and_names_its_profile(
    portal: Portal, world: World, marks: Marks
) -> None:
    resp = await portal.get(await progress_path(world, world.pupil_a1), accept=SMEV)
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"] == 'application/xml; profile="smev3"; charset=utf-8'
    verified = _verified(portal, await resp.read())
    assert verified.element.tag == f"{{{NS}}}Progress"
    values = [m.get("value") for m in verified.element.iter(f"{{{NS}}}Mark")]
    assert sorted(values) == ["2", "4", "5"]


async def test_each_profile_has_its_own_etag_and_304(
    portal: Portal, world: World, marks: Marks
) -> None:
    path = await progress_path(world, world.pupil_a1)
    smev = await portal.get(path, accept=SMEV)
    plain = await portal.get(path, accept="application/xml")
    assert smev.headers["ETag"] != plain.headers["ETag"]
    again = await portal.get(path, accept=SMEV, **{"If-None-Match": smev.headers["ETag"]})
    assert (again.status, again.headers["ETag"]) == (304, smev.headers["ETag"])
    crossed = await portal.get(path, accept=SMEV, **{"If-None-Match": plain.headers["ETag"]})
    assert crossed.status == 200


class CountingSmev:
    def __init__(self, inner: Any) -> None:
        self.inner, self.calls, self.key_id = inner, 0, inner.key_id
        self.certificate = inner.certificate

    async def sign(self, document: bytes) -> bytes:
        self.calls += 1
        return bytes(await self.inner.sign(document))


async def test_an_unchanged_document_is_not_signed_again_and_a_correction_is(
    portal: Portal, world: World, marks: Marks
) -> None:
    state = portal.http.app[PORTAL]
    counting = state.smev = CountingSmev(state.smev)
    path = await progress_path(world, world.pupil_a1)
    first = await (await portal.get(path, accept=SMEV)).read()
    second = await (await portal.get(path, accept=SMEV)).read()
    state.cache.memory.clear()  # another instance: only the database remembers
    third = await (await portal.get(path, accept=SMEV)).read()
    assert counting.calls == 1 and first == second == third
    teacher = await world.ctx(world.teacher_math)
    await correct_mark(teacher, marks.four, value="3")
    await world.session.commit()
    changed = await (await portal.get(path, accept=SMEV)).read()
    assert counting.calls == 2
    values = sorted(
        m.get("value") for m in _verified(portal, changed).element.iter(f"{{{NS}}}Mark")
    )
    assert values == ["2", "3", "5"]


async def test_guardian_document_and_changes_feed_in_the_smev_profile(
    portal: Portal, world: World, marks: Marks
) -> None:
    changes = await portal.get("/portal/v1/changes?cursor=0&limit=10", accept=SMEV)
    assert changes.status == 200, await changes.text()
    assert _verified(portal, await changes.read()).element.tag == f"{{{NS}}}Changes"
    etag = changes.headers["ETag"]
    again = await portal.get(
        "/portal/v1/changes?cursor=0&limit=10", accept=SMEV, **{"If-None-Match": etag}
    )
    assert again.status == 304


async def test_an_unknown_profile_is_406(portal: Portal, world: World, marks: Marks) -> None:
    path = await progress_path(world, world.pupil_a1)
    resp = await portal.get(path, accept='application/xml; profile="cades"')
    assert resp.status == 406


@pytest.fixture
async def smev_default(
    aiohttp_client: Client,
    db_url: str,
    engine: Any,
    world: World,
    clock: FixedClock,
    feed_keys: tuple[Path, Path],
    client_key: rsa.RSAPrivateKey,
) -> Portal:
    app = await make_app(db_url, feed_keys, clock, EDIARY_FEED_XML_PROFILE="smev3")
    http: TestClient = await aiohttp_client(app)  # type: ignore[type-arg]
    client_id, kid = await register(world, client_key)
    return Portal(http, clock, client_key, client_id, kid)


async def test_the_deployment_can_make_smev_the_default_xml(
    smev_default: Portal, world: World, marks: Marks
) -> None:
    path = await progress_path(world, world.pupil_a1)
    for accept in ("application/xml", "*/*"):
        resp = await smev_default.get(path, accept=accept)
        assert resp.status == 200
        _verified(smev_default, await resp.read())
    plain = await smev_default.get(path, accept='application/xml; profile="xmldsig"')
    assert verify_document(await plain.read()).profile == "xmldsig"
