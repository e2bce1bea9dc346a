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

The signature value is made by the adapter's one signer interface
(:class:`~gosuslugi_adapter.signers.KeySigner`, its bare signature): an RSA-SHA256 signer and
a GOST R 34.10-2012 one differ in the URIs (:data:`URIS`) and the digest, not here.
What this writes is verified in the tests by ``xmlsec1`` (the served documents) and by
signxml's verifier (tests/unit/test_portal_xml_documents.py).
"""

from __future__ import annotations

import base64

from gosuslugi_adapter.signers import Algorithm, KeySigner, SignatureForm

DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
_CPXMLSEC = "urn:ietf:params:xml:ns:cpxmlsec:algorithms:"
#: A signer's algorithm → (DigestMethod, SignatureMethod); the GOST ones are those of
#: CryptoPro and SMEV 3.
URIS: dict[Algorithm, tuple[str, str]] = {
    Algorithm.RSA_SHA256: (SHA256, RSA_SHA256),
    Algorithm.GOST_256: (
        _CPXMLSEC + "gostr34112012-256",
        _CPXMLSEC + "gostr34102012-gostr34112012-256",
    ),
    Algorithm.GOST_512: (
        _CPXMLSEC + "gostr34112012-512",
        _CPXMLSEC + "gostr34102012-gostr34112012-512",
    ),
}


def signed_info(
    alg: Algorithm,
    digest: bytes,
    uri: str = "",
    transforms: tuple[str, ...] = (ENVELOPED, EXC_C14N),
) -> bytes:
    """The ``SignedInfo`` of one reference (by default the whole document, enveloped), in its
    canonical form. ``uri`` and ``transforms`` are written as given: callers pass constants."""
    digest_uri, signature_uri = URIS[alg]
    value = base64.b64encode(digest).decode()
    steps = "".join(f'<ds:Transform Algorithm="{t}"></ds:Transform>' for t in transforms)
    return (
        f'<ds:SignedInfo xmlns:ds="{DS}">'
        f'<ds:CanonicalizationMethod Algorithm="{EXC_C14N}"></ds:CanonicalizationMethod>'
        f'<ds:SignatureMethod Algorithm="{signature_uri}"></ds:SignatureMethod>'
        f'<ds:Reference URI="{uri}">'
        f"<ds:Transforms>{steps}</ds:Transforms>"
        f'<ds:DigestMethod Algorithm="{digest_uri}"></ds:DigestMethod>'
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


def sign_enveloped(document: bytes, signer: KeySigner, info: bytes) -> bytes:
    """``document`` (canonical: Exclusive C14N 1.0 of itself, no XML declaration) with a
    ``Signature`` by ``signer`` as the last child of its root; ``info`` is its ``KeyInfo``
    (:func:`key_info`)."""
    close = document.rfind(b"</")
    if close <= 0 or not document.startswith(b"<") or not document.endswith(b">"):
        raise ValueError("not a canonical XML document: it must be one element, no declaration")
    si = signed_info(signer.algorithm, signer.algorithm.digest(document))
    value = base64.b64encode(signer.sign_now(si, SignatureForm.RAW)).decode()
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
