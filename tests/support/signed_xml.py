"""How a consumer of the portal feed reads only what was signed (docs/portal.md, "Reading only
what was signed"): the two ways the documentation shows, as code the tests run.

A valid signature says nothing about content the signature does not cover: a ``ds:Object``
added inside ``ds:Signature`` is not referenced, so verifiers pass it, and comments are
dropped by Exclusive C14N before digesting, so they pass too. A reader that searches the
whole received tree (``//Subject``) then reads forged data. Both ways below read from the
signed content only, which has neither.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from signxml import SignatureConfiguration, SignatureMethod, XMLVerifier
from signxml.algorithms import DigestAlgorithm

DS = "http://www.w3.org/2000/09/xmldsig#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

#: Untrusted input: no entities, no DTD, no network, and no comments or processing
#: instructions in the tree (they are outside what Exclusive C14N signs).
PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    remove_comments=True,
    remove_pis=True,
)


def signed_content(document: bytes, certificate_pem: str) -> etree._Element:
    """With signxml: verify against the diary's certificate (not the one the document
    carries) and return ``signed_xml``, which holds only what the signature covers."""
    result = XMLVerifier().verify(
        document,
        x509_cert=certificate_pem,
        expect_config=SignatureConfiguration(
            require_x509=True,
            signature_methods=frozenset({SignatureMethod.RSA_SHA256}),
            digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
        ),
    )
    assert not isinstance(result, list)  # one Reference expected (signxml's default)
    signed: etree._Element = result.signed_xml
    return signed


def signed_content_after_xmlsec1(document: bytes) -> etree._Element:
    """With lxml, once ``xmlsec1 --verify --trusted-pem feed.crt`` accepted these very bytes
    (and the document is valid against progress.xsd): the document element parsed without
    comments, its one ``Reference`` checked to cover the whole document (``URI=""``,
    enveloped-signature then Exclusive C14N), and its ``ds:Signature`` removed."""
    root = etree.fromstring(document, PARSER)
    signatures = root.findall(f"{{{DS}}}Signature")
    if len(signatures) != 1 or root[-1] is not signatures[0]:
        raise ValueError("expected one ds:Signature, the document element's last child")
    signature = signatures[0]
    references = signature.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    if len(references) != 1 or references[0].get("URI") != "":
        raise ValueError('expected one Reference with URI="" (the whole document)')
    transforms = [
        t.get("Algorithm") for t in references[0].iterfind(f"{{{DS}}}Transforms/{{{DS}}}Transform")
    ]
    if transforms != [ENVELOPED, EXC_C14N]:
        raise ValueError(f"unexpected transforms {transforms}")
    root.remove(signature)
    return root


async def served_schema(http: Any, folder: Path) -> etree.XMLSchema:
    """The feed's schema as a consumer gets it: ``progress.xsd`` from the gateway, and each
    schema it imports fetched from its ``schemaLocation`` relative to that address; all
    saved side by side in ``folder`` and loaded from there. ``http`` is an aiohttp test
    client of the gateway (``await http.get(path)``)."""
    main_path = "/portal/v1/schema/progress.xsd"
    main = await _fetch(http, main_path)
    (folder / "progress.xsd").write_bytes(main)
    xs = "http://www.w3.org/2001/XMLSchema"
    for imported in etree.fromstring(main, PARSER).iterfind(f"{{{xs}}}import"):
        location = imported.get("schemaLocation") or ""
        path = urljoin(main_path, location)
        (folder / PurePosixPath(path).name).write_bytes(await _fetch(http, path))
    return etree.XMLSchema(etree.parse(str(folder / "progress.xsd"), PARSER))


async def _fetch(http: Any, path: str) -> bytes:
    resp = await http.get(path)
    assert resp.status == 200, path
    assert resp.content_type == "application/xml", path
    body: bytes = await resp.read()
    return body
