"""Unsigned content smuggled into a signed feed document, and how a consumer reads past it.

A real signed Progress document from the running feed gets a ``ds:Object`` holding a fake
``p:Subject`` inside its ``ds:Signature`` (plus comments, one inside a signed text). Then:

(a) the served schema (progress.xsd with the imported progress-signature.xsd) rejects it;
(b) ``xmlsec1 --verify`` still accepts it: the Object is not referenced and comments are not
    digested, which is why validation and reading only the signed content are both needed;
(c) a reader of the whole tree (``//Subject``) reads the forgery, while the consumer code of
    docs/portal.md (tests/support/signed_xml.py) reads the real subjects and the whole text.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from gateway.portal.xml import NS, parse_safely
from tests.integration.portal.conftest import Marks, Portal, xmlsec_verify
from tests.integration.portal.test_portal_progress import progress_path
from tests.support.signed_xml import (
    served_schema,
    signed_content,
    signed_content_after_xmlsec1,
)
from tests.support.world import World

FAKE = "Поддельный предмет"
OBJECT = (
    f'<ds:Object><p:Subject xmlns:p="{NS}" id="999" name="{FAKE}">'
    '<p:Mark id="999" date="2025-10-01" workType="Контрольная работа" weight="1" value="5" '
    'numeric="5" countsInAverage="true"></p:Mark></p:Subject></ds:Object>'
)


def subjects(root: etree._Element) -> list[str]:
    """Every p:Subject's name anywhere in the tree, as a careless reader finds them."""
    return [str(e.get("name")) for e in root.iter(f"{{{NS}}}Subject")]


def forge(body: bytes) -> bytes:
    """The document with a fake subject inside ds:Signature, a comment beside it, and a
    comment splitting the signed Issuer text in two."""
    forged = body.replace(
        b"</ds:Signature>", (OBJECT + "<!-- forged -->").encode() + b"</ds:Signature>"
    )
    issuer = parse_safely(body).findtext(f"{{{NS}}}Issuer") or ""
    assert len(issuer) > 2
    cut = len(issuer) // 2
    split = f"<p:Issuer>{issuer[:cut]}<!-- x -->{issuer[cut:]}</p:Issuer>".encode()
    forged = forged.replace(f"<p:Issuer>{issuer}</p:Issuer>".encode(), split, 1)
    assert forged.count(b"<!--") == 2 and FAKE.encode() in forged
    return forged


def certificate_pem(feed_keys: tuple[Path, Path]) -> str:
    return feed_keys[1].read_text()


async def test_unsigned_content_inside_the_signature_is_caught_by_schema_and_signed_reading(
    portal: Portal, world: World, marks: Marks, feed_keys: tuple[Path, Path], tmp_path: Path
) -> None:
    resp = await portal.get(await progress_path(world, world.pupil_a1), accept="application/xml")
    assert resp.status == 200
    body = await resp.read()
    forged = forge(body)
    schema = await served_schema(portal.http, tmp_path)
    real = subjects(parse_safely(body))
    assert real and FAKE not in real

    # The genuine document is valid against the tightened schema and verifies.
    assert schema.validate(parse_safely(body)), schema.error_log
    assert xmlsec_verify(body, feed_keys[1], tmp_path).returncode == 0

    # (a) The schema refuses the ds:Object.
    assert not schema.validate(parse_safely(forged))
    assert "Object" in str(schema.error_log)

    # (b) xmlsec1 still accepts the forged document: the signature covers none of it.
    result = xmlsec_verify(forged, feed_keys[1], tmp_path)
    assert result.returncode == 0, result.stderr

    # (c) Reading the whole tree finds the forgery and a cut Issuer ...
    naive = parse_safely(forged)
    assert FAKE in subjects(naive)
    issuer = parse_safely(body).findtext(f"{{{NS}}}Issuer")
    assert naive.findtext(f"{{{NS}}}Issuer") != issuer
    # ... reading only what was signed does not: with signxml,
    with_signxml = signed_content(forged, certificate_pem(feed_keys))
    assert subjects(with_signxml) == real
    assert with_signxml.findtext(f"{{{NS}}}Issuer") == issuer
    # and with lxml after xmlsec1 accepted the very same bytes.
    after_xmlsec1 = signed_content_after_xmlsec1(forged)
    assert subjects(after_xmlsec1) == real
    assert after_xmlsec1.findtext(f"{{{NS}}}Issuer") == issuer
    assert after_xmlsec1.find(".//{http://www.w3.org/2000/09/xmldsig#}Signature") is None


async def test_comments_alone_pass_schema_and_signature_so_the_reader_drops_them(
    portal: Portal, world: World, marks: Marks, feed_keys: tuple[Path, Path], tmp_path: Path
) -> None:
    """What XSD cannot forbid: a comment splitting a signed text. Valid, verified, and only
    harmless to a reader that parses without comments (or reads signxml's signed_xml)."""
    body = await (
        await portal.get(await progress_path(world, world.pupil_a1), accept="application/xml")
    ).read()
    issuer = parse_safely(body).findtext(f"{{{NS}}}Issuer") or ""
    cut = len(issuer) // 2
    commented = body.replace(
        f"<p:Issuer>{issuer}</p:Issuer>".encode(),
        f"<p:Issuer>{issuer[:cut]}<!-- x -->{issuer[cut:]}</p:Issuer>".encode(),
        1,
    )
    assert commented != body
    schema = await served_schema(portal.http, tmp_path)
    assert schema.validate(parse_safely(commented)), schema.error_log
    assert xmlsec_verify(commented, feed_keys[1], tmp_path).returncode == 0
    assert parse_safely(commented).findtext(f"{{{NS}}}Issuer") == issuer[:cut]
    assert signed_content_after_xmlsec1(commented).findtext(f"{{{NS}}}Issuer") == issuer
    signed = signed_content(commented, certificate_pem(feed_keys))
    assert signed.findtext(f"{{{NS}}}Issuer") == issuer


async def test_the_signature_schema_is_served_beside_the_main_one(portal: Portal) -> None:
    resp = await portal.http.get("/portal/v1/schema/progress-signature.xsd")
    assert resp.status == 200 and resp.content_type == "application/xml"
    root = etree.fromstring(await resp.read())
    assert root.get("targetNamespace") == "http://www.w3.org/2000/09/xmldsig#"
