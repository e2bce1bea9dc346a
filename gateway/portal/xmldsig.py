"""Enveloped XML-DSig signatures (W3C XML Signature 1.1) over documents that are already
canonical (:mod:`gateway.portal.xml` writes them so).

The signature is the one ``xmlsec1 --verify`` and every XML-DSig verifier expect (docs/portal.md):
one ``Reference`` with ``URI=""`` (the whole document), the enveloped-signature transform, then
Exclusive C14N 1.0; ``SignedInfo`` canonicalised with Exclusive C14N 1.0; the certificate in
``KeyInfo/X509Data``. What makes it cheap is what the input already is:

- the enveloped transform removes the ``Signature`` element again, and Exclusive C14N of what
  is left is the document as written: its digest is the digest of the given bytes;
- ``SignedInfo`` is written here in its canonical form (its own ``xmlns:ds``, its one
  attribute per element, start and end tags), so the bytes signed are the bytes sent.

Only the algorithms are the signer's own (:class:`Algorithms`): an RSA-SHA256 signer and a
GOST R 34.10-2012 one differ in the URIs, the digest and the signing function, not here.
What this writes is verified in the tests by ``xmlsec1`` (the served documents) and by
signxml's verifier (tests/unit/test_portal_xml_documents.py).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


@dataclass(frozen=True)
class Algorithms:
    """A signer's algorithms: their URIs, the digest function and the signing function (the
    signature value of the canonical ``SignedInfo`` bytes)."""

    signature: str
    digest: str
    hash: Callable[[bytes], bytes]
    sign: Callable[[bytes], bytes]


def signed_info(
    alg: Algorithms,
    digest: bytes,
    uri: str = "",
    transforms: tuple[str, ...] = (ENVELOPED, EXC_C14N),
) -> bytes:
    """The ``SignedInfo`` of one reference (by default the whole document, enveloped), in its
    canonical form. ``uri`` and ``transforms`` are written as given: callers pass constants."""
    value = base64.b64encode(digest).decode()
    steps = "".join(f'<ds:Transform Algorithm="{t}"></ds:Transform>' for t in transforms)
    return (
        f'<ds:SignedInfo xmlns:ds="{DS}">'
        f'<ds:CanonicalizationMethod Algorithm="{EXC_C14N}"></ds:CanonicalizationMethod>'
        f'<ds:SignatureMethod Algorithm="{alg.signature}"></ds:SignatureMethod>'
        f'<ds:Reference URI="{uri}">'
        f"<ds:Transforms>{steps}</ds:Transforms>"
        f'<ds:DigestMethod Algorithm="{alg.digest}"></ds:DigestMethod>'
        f"<ds:DigestValue>{value}</ds:DigestValue>"
        "</ds:Reference>"
        "</ds:SignedInfo>"
    ).encode()


def key_info(certificate_der: bytes) -> bytes:
    """``KeyInfo`` carrying the signer's certificate."""
    cert = base64.b64encode(certificate_der).decode()
    return (
        f"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate>"
        "</ds:X509Data></ds:KeyInfo>"
    ).encode()


def sign_enveloped(document: bytes, alg: Algorithms, info: bytes) -> bytes:
    """``document`` (canonical: Exclusive C14N 1.0 of itself, no XML declaration) with a
    ``Signature`` as the last child of its root; ``info`` is its ``KeyInfo`` (:func:`key_info`).
    """
    close = document.rfind(b"</")
    if close <= 0 or not document.startswith(b"<") or not document.endswith(b">"):
        raise ValueError("not a canonical XML document: it must be one element, no declaration")
    si = signed_info(alg, alg.hash(document))
    value = base64.b64encode(alg.sign(si)).decode()
    signature = b"".join(
        (
            f'<ds:Signature xmlns:ds="{DS}">'.encode(),
            si,
            f"<ds:SignatureValue>{value}</ds:SignatureValue>".encode(),
            info,
            b"</ds:Signature>",
        )
    )
    return document[:close] + signature + document[close:]
