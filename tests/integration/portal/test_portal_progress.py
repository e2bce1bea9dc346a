"""A pupil's progress as the portal receives it: signed XML that xmlsec1 accepts and that is
valid against the served schema, a JWS that PyJWT verifies with the served keys, ETags,
reuse of signatures, and refusals that give nothing away."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from sqlalchemy import select

from diary_core.marks import correct_mark, delete_mark
from diary_core.models import AuditEvent
from diary_core.snils import make_snils
from gateway.keys import PORTAL
from gateway.portal.xml import NS, parse_safely
from tests.integration.portal.conftest import Marks, Portal, pupil_snils, register, xmlsec_verify
from tests.support.signed_xml import served_schema
from tests.support.world import World

RANGE = "from=2025-09-01&to=2025-10-15"
UNKNOWN_SNILS = make_snils(998_877_665)


async def progress_path(world: World, pupil_id: int, query: str = RANGE) -> str:
    return f"/portal/v1/pupils/{quote(await pupil_snils(world, pupil_id))}/progress?{query}"


async def test_xmlsec1_accepts_the_signed_progress_document(
    portal: Portal, world: World, marks: Marks, feed_keys: tuple[Path, Path], tmp_path: Path
) -> None:
    resp = await portal.get(await progress_path(world, world.pupil_a1), accept="application/xml")
    assert resp.status == 200
    assert resp.content_type == "application/xml"
    body = await resp.read()
    result = xmlsec_verify(body, feed_keys[1], tmp_path)
    assert result.returncode == 0, result.stderr
    root = parse_safely(body)
    algorithms = {e.get("Algorithm") for e in root.iter() if e.get("Algorithm")}
    assert "http://www.w3.org/2001/10/xml-exc-c14n#" in algorithms
    assert "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" in algorithms
    assert root.find(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate") is not None


async def test_xmlsec1_rejects_the_document_after_one_mark_is_changed(
    portal: Portal, world: World, marks: Marks, feed_keys: tuple[Path, Path], tmp_path: Path
) -> None:
    resp = await portal.get(await progress_path(world, world.pupil_a1), accept="application/xml")
    body = await resp.read()
    tampered = body.replace(b'value="2"', b'value="5"', 1)
    assert tampered != body
    result = xmlsec_verify(tampered, feed_keys[1], tmp_path)
    assert result.returncode != 0


async def test_served_xml_is_valid_against_the_served_schema(
    portal: Portal, world: World, marks: Marks, tmp_path: Path
) -> None:
    schema = await served_schema(portal.http, tmp_path)  # with the ds:Signature it imports
    resp = await portal.get(await progress_path(world, world.pupil_a1), accept="application/xml")
    doc = parse_safely(await resp.read())
    assert schema.validate(doc), schema.error_log
    marks_in_xml = doc.findall(f".//{{{NS}}}Subject/{{{NS}}}Mark")
    assert len(marks_in_xml) == 3


async def served_jwks(portal: Portal) -> jwt.PyJWKSet:
    resp = await portal.http.get("/.well-known/jwks.json")
    assert resp.status == 200
    return jwt.PyJWKSet.from_dict(await resp.json())


async def test_pyjwt_verifies_the_jws_with_the_served_keys(
    portal: Portal, world: World, marks: Marks
) -> None:
    resp = await portal.get(await progress_path(world, world.pupil_a1), accept="application/jose")
    assert resp.status == 200
    assert resp.content_type == "application/jose"
    token = (await resp.read()).decode()
    header = jwt.get_unverified_header(token)
    key = (await served_jwks(portal))[header["kid"]]
    payload = jwt.api_jws.decode(token, key.key, algorithms=["RS256"])
    doc = json.loads(payload)
    assert doc["pupil"]["snils"] == await pupil_snils(world, world.pupil_a1)
    assert doc["issuer"] == "ediary-gateway"


async def test_pyjwt_rejects_a_tampered_jws(portal: Portal, world: World, marks: Marks) -> None:
    resp = await portal.get(await progress_path(world, world.pupil_a1), accept="application/jose")
    original = (await resp.read()).decode()
    header, payload, signature = original.split(".")
    doc = json.loads(jwt.utils.base64url_decode(payload))
    doc["subjects"][0]["marks"][0]["value"] = "5"
    forged = jwt.utils.base64url_encode(json.dumps(doc).encode()).decode()
    key = (await served_jwks(portal))[jwt.get_unverified_header(original)["kid"]]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.api_jws.decode(f"{header}.{forged}.{signature}", key.key, algorithms=["RS256"])


async def test_document_states_issuer_times_school_pupil_marks_averages_attendance(
    portal: Portal, world: World, marks: Marks
) -> None:
    resp = await portal.get(await progress_path(world, world.pupil_a1))
    doc: dict[str, Any] = await resp.json()
    assert doc["issuer"] == "ediary-gateway"
    assert doc["issuedAt"] == doc["asOf"] == "2025-10-15T10:00:00Z"
    assert doc["range"] == {"from": "2025-09-01", "to": "2025-10-15"}
    assert doc["school"]["name"] == "Школа А"
    assert doc["pupil"]["lastName"] == "Смирнов" and doc["pupil"]["class"] == "5А"
    by_name = {s["name"]: s for s in doc["subjects"]}
    math = by_name["Математика"]
    # (5 × 3 + 4 × 1) / 4 = 4.75
    assert math["average"] == "4.75"
    assert [(m["date"], m["value"], m["workType"], m["weight"]) for m in math["marks"]] == [
        ("2025-10-01", "5", "Контрольная работа", 3),
        ("2025-10-02", "4", "Ответ на уроке", 1),
    ]
    assert by_name["Русский язык"]["average"] == "2.00"
    assert [(a["date"], a["kind"], a["subject"]) for a in doc["attendance"]] == [
        ("2025-10-01", "н", "Математика")
    ]
    [period_mark] = doc["periodMarks"]
    assert period_mark["value"] == "5" and period_mark["period"]["kind"] == "quarter"


async def test_period_marks_only_of_periods_overlapping_the_range(
    portal: Portal, world: World, marks: Marks
) -> None:
    query = "from=2026-01-12&to=2026-01-20"
    doc = await (await portal.get(await progress_path(world, world.pupil_a1, query))).json()
    assert doc["periodMarks"] == [] and doc["subjects"] == []


async def test_unacceptable_representation_is_406(
    portal: Portal, world: World, marks: Marks
) -> None:
    resp = await portal.get(await progress_path(world, world.pupil_a1), accept="text/html")
    assert resp.status == 406
    assert (await resp.json())["code"] == "not_acceptable"


@pytest.mark.parametrize(
    ("snils", "query", "code", "says"),
    [
        ("112-233-000 00", RANGE, "invalid_snils", "контрольная сумма"),
        ("12345", RANGE, "invalid_snils", "11 цифр"),
        (None, "from=2025-13-01&to=2025-10-15", "invalid_date", "from"),
        (None, "from=01.09.2025&to=2025-10-15", "invalid_date", "ГГГГ-ММ-ДД"),
        (None, "to=2025-10-15", "invalid_date", "нужен параметр from"),
        (None, "from=2025-10-15&to=2025-09-01", "invalid_range", "позже"),
    ],
)
async def test_malformed_snils_and_dates_are_400_saying_what_is_wrong(
    portal: Portal, world: World, snils: str | None, query: str, code: str, says: str
) -> None:
    snils = snils or await pupil_snils(world, world.pupil_a1)
    resp = await portal.get(f"/portal/v1/pupils/{quote(snils)}/progress?{query}")
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"
    problem = await resp.json()
    assert problem["code"] == code
    assert says in problem["detail"]


async def test_unknown_pupil_and_other_schools_pupil_answer_alike(
    http: Any, world: World, clock: Any, stranger_key: Any
) -> None:
    client_id, kid = await register(world, stranger_key, schools=[world.a.id], name="Школа А")
    portal = Portal(http, clock, stranger_key, client_id, kid)
    other = await portal.get(await progress_path(world, world.pupil_z1))  # school B
    unknown = await portal.get(f"/portal/v1/pupils/{quote(UNKNOWN_SNILS)}/progress?{RANGE}")
    assert unknown.status == other.status == 404
    assert await unknown.read() == await other.read()
    own = await portal.get(await progress_path(world, world.pupil_a1))
    assert own.status == 200


async def test_if_none_match_gives_304(portal: Portal, world: World, marks: Marks) -> None:
    path = await progress_path(world, world.pupil_a1)
    first = await portal.get(path, accept="application/xml")
    etag = first.headers["ETag"]
    again = await portal.get(path, accept="application/xml", **{"If-None-Match": etag})
    assert again.status == 304
    assert again.headers["ETag"] == etag
    other_format = await portal.get(path, accept="application/jose", **{"If-None-Match": etag})
    assert other_format.status == 200


class CountingSigner:
    """The real signer, counting its signatures."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, 0
        self.key_id = inner.key_id

    def sign_xml(self, document: bytes) -> bytes:
        self.calls += 1
        return bytes(self.inner.sign_xml(document))

    def sign_jws(self, payload: bytes) -> str:
        self.calls += 1
        return str(self.inner.sign_jws(payload))

    def jwks(self) -> dict[str, Any]:
        return dict(self.inner.jwks())


async def test_unchanged_document_is_not_signed_again(
    portal: Portal, world: World, marks: Marks
) -> None:
    state = portal.http.app[PORTAL]
    signer = state.signer = CountingSigner(state.signer)
    path = await progress_path(world, world.pupil_a1)
    first = await (await portal.get(path, accept="application/xml")).read()
    second = await (await portal.get(path, accept="application/xml")).read()
    state.cache.memory.clear()  # another instance: only the database remembers
    third = await (await portal.get(path, accept="application/xml")).read()
    assert signer.calls == 1
    assert first == second == third


async def test_a_correction_produces_a_new_document(
    portal: Portal, world: World, marks: Marks, feed_keys: tuple[Path, Path], tmp_path: Path
) -> None:
    state = portal.http.app[PORTAL]
    signer = state.signer = CountingSigner(state.signer)
    path = await progress_path(world, world.pupil_a1)
    before = await portal.get(path, accept="application/xml")
    await correct_mark(await world.ctx(world.ct_5a), marks.two, value="3", reason="пересдача")
    await world.session.commit()
    after = await portal.get(
        path, accept="application/xml", **{"If-None-Match": before.headers["ETag"]}
    )
    assert after.status == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert signer.calls == 2
    body = await after.read()
    assert xmlsec_verify(body, feed_keys[1], tmp_path).returncode == 0
    russian = [
        s for s in parse_safely(body).iter(f"{{{NS}}}Subject") if s.get("name") == "Русский язык"
    ]
    assert [m.get("value") for m in russian[0]] == ["3"]


async def test_a_deletion_produces_a_new_document(
    portal: Portal, world: World, marks: Marks
) -> None:
    path = await progress_path(world, world.pupil_a1)
    before = await portal.get(path)
    await delete_mark(await world.ctx(world.teacher_math), marks.four, reason="ошибка")
    await world.session.commit()
    after = await portal.get(path)
    assert after.headers["ETag"] != before.headers["ETag"]
    math = next(s for s in (await after.json())["subjects"] if s["name"] == "Математика")
    assert [m["value"] for m in math["marks"]] == ["5"]


async def test_portal_requests_are_audited_with_client_pupil_and_result(
    portal: Portal, world: World, marks: Marks
) -> None:
    await portal.get(await progress_path(world, world.pupil_a1))
    await portal.get(f"/portal/v1/pupils/{quote(UNKNOWN_SNILS)}/progress?{RANGE}")
    await portal.http.get(await progress_path(world, world.pupil_a1))  # no token
    world.session.expire_all()
    events = list(
        await world.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "portal.progress.read")
            .order_by(AuditEvent.id)
        )
    )
    assert [(e.actor_kind, e.pupil_id, e.details["result"]) for e in events] == [
        ("portal", world.pupil_a1, "ok"),
        ("portal", None, "pupil_not_found"),
        ("portal", None, "token_missing"),
    ]
    assert portal.client_id in events[0].actor_label
    assert events[2].actor_label == "anonymous"
    assert all(e.at == world.clock.now() for e in events)
