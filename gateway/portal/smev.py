"""The SMEV 3 signature profile: a document signed as state information systems sign data.

The signed document is a wrapper with two children, as SMEV 3 messages carry their signed
content (``SenderProvidedRequestData`` and its sibling ``CallerInformationSystemSignature``)::

    <s:SignedDocument xmlns:s="urn:ediary-gateway:smev3:1">
      <p:Progress xmlns:p="urn:ediary-gateway:progress:1" Id="SIGNED_BY_EDIARY" …>…</p:Progress>
      <s:Signature><ds:Signature xmlns:ds="…">…</ds:Signature></s:Signature>
    </s:SignedDocument>

- the payload is the document as :mod:`gateway.portal.xml` writes it, with an ``Id``;
- its ``ds:Signature`` references ``#Id`` with the transforms Exclusive C14N and then the SMEV
  transform (:mod:`gateway.portal.smev_transform`), in this order;
- DigestMethod and SignatureMethod are the GOST R 34.11-2012 / 34.10-2012 URIs of the key's
  size; ``SignedInfo`` is canonicalised with Exclusive C14N; ``KeyInfo`` has the certificate;
- DigestValue and SignatureValue are base64 of the bytes exactly as OpenSSL's GOST engine
  makes them: the Streebog digest as ``openssl dgst`` prints it, the signature in ``s || r``
  order, each half big-endian. Neither is reversed: CryptoPro-based verifiers (SMEV itself)
  expect that, as published signed SMEV messages show (docs/smev3.md).

What makes it cheap: the payload is already canonical and declares its own namespace, so its
Exclusive C14N inside the wrapper is its bytes as written; the digest is Streebog of the SMEV
transform of those bytes.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

from gateway.portal import xmldsig
from gateway.portal.smev_transform import smev_transform
from gosuslugi_adapter.gost import streebog

SMEV_TRANSFORM = "urn://smev-gov-ru/xmldsig/transform"
_CPXMLSEC = "urn:ietf:params:xml:ns:cpxmlsec:algorithms:"
#: Key size → (DigestMethod, SignatureMethod).
GOST_URIS = {
    256: (_CPXMLSEC + "gostr34112012-256", _CPXMLSEC + "gostr34102012-gostr34112012-256"),
    512: (_CPXMLSEC + "gostr34112012-512", _CPXMLSEC + "gostr34102012-gostr34112012-512"),
}
TRANSFORMS = (xmldsig.EXC_C14N, SMEV_TRANSFORM)
NS = "urn:ediary-gateway:smev3:1"
PAYLOAD_ID = "SIGNED_BY_EDIARY"

#: The root start tag our writer makes: its prefix, namespace and the attributes after it.
_ROOT = re.compile(rb'^<(p:[A-Za-z]+) xmlns:p="[^"]+"((?: [a-z][A-Za-z]*="[^"]*")*)>')


def gost_algorithms(bits: int, sign: Callable[[bytes], bytes]) -> xmldsig.Algorithms:
    """The SMEV profile's algorithms for a GOST key of ``bits`` that signs with ``sign``."""
    if bits not in GOST_URIS:
        raise ValueError(f"GOST R 34.10-2012 keys are 256 or 512 bits, not {bits}")
    digest_uri, signature_uri = GOST_URIS[bits]
    return xmldsig.Algorithms(
        signature=signature_uri, digest=digest_uri, hash=lambda d: streebog(d, bits), sign=sign
    )


def with_id(document: bytes, ident: str = PAYLOAD_ID) -> bytes:
    """``document`` (canonical, from :mod:`gateway.portal.xml`) with ``Id`` on its root.

    Canonical order puts ``Id`` right after the namespace declaration: an upper-case ``I``
    sorts before the writer's attributes, which all start with a lower-case letter."""
    found = _ROOT.match(document)
    if found is None or b" Id=" in found.group(0):
        raise ValueError("not a document of this feed: its root start tag is not as written")
    at = found.start(2)
    return document[:at] + f' Id="{ident}"'.encode() + document[at:]


def digest_input(payload: bytes) -> bytes:
    """What the reference digests: Exclusive C14N of the payload (its bytes as written,
    canonical already), then the SMEV transform."""
    return smev_transform(payload)


def sign_smev(document: bytes, alg: xmldsig.Algorithms, info: bytes) -> bytes:
    """``document`` signed in the SMEV 3 profile; ``info`` is its ``KeyInfo``."""
    payload = with_id(document)
    si = xmldsig.signed_info(
        alg, alg.hash(digest_input(payload)), uri=f"#{PAYLOAD_ID}", transforms=TRANSFORMS
    )
    value = base64.b64encode(alg.sign(si)).decode()
    return b"".join(
        (
            f'<s:SignedDocument xmlns:s="{NS}">'.encode(),
            payload,
            f'<s:Signature><ds:Signature xmlns:ds="{xmldsig.DS}">'.encode(),
            si,
            f"<ds:SignatureValue>{value}</ds:SignatureValue>".encode(),
            info,
            b"</ds:Signature></s:Signature></s:SignedDocument>",
        )
    )
