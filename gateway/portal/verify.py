"""Verifying a signed portal document, in either profile, and reading only what was signed.

This is what a consumer should run, and what ``ediary feed verify``, the tests and
docs/portal.md's example run. :func:`verify_document` checks, in order, failing closed with a
:class:`VerificationError` that names the check:

``parse``       well-formed, no DOCTYPE (so no entities), through the hardened parser;
``unsigned``    no comments or processing instructions anywhere: neither profile signs them,
                so they could only be unsigned content for a careless reader to trust;
``shape``       the profile's shape and nothing else: enveloped (one ``ds:Signature``, the root's
                last child) or SMEV 3 (a ``SignedDocument`` with exactly the payload and the
                ``Signature`` holder, no text between, the ``Id`` unique);
``signature``   the ``ds:Signature`` is exactly what this feed writes: one ``SignedInfo`` with
                Exclusive C14N, one allowed ``SignatureMethod``, one ``Reference`` to the right
                place with exactly the profile's transforms and the method's digest, the value,
                one certificate in ``KeyInfo``; no ``ds:Object``, no other child, no text;
``digest``      the reference's digest recomputed (enveloped: Exclusive C14N of the document
                without its signature; SMEV 3: Exclusive C14N of the payload, then the SMEV
                transform) equals ``DigestValue``;
``value``       ``SignatureValue`` verifies over the Exclusive C14N of ``SignedInfo`` with the
                certificate's key (RSA-SHA256, or GOST R 34.10-2012 of the key's size);
``certificate`` valid now, and one of ``trusted`` when the caller pins certificates.

It returns the signed element only, as canonical bytes and as a fresh tree parsed from them:
nothing outside the signature's reach can be read from it.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from gateway.portal import smev, xmldsig
from gateway.portal.xml import parse_safely
from gosuslugi_adapter.gost import GostPublicKey, streebog
from gosuslugi_adapter.key_files import Certificate, KeyLoadError, certificate_from_der

_DS = "{%s}" % xmldsig.DS  # noqa: UP031 - Clark notation
_RSA_SHA256 = (xmldsig.RSA_SHA256, xmldsig.SHA256)
#: SignatureMethod → (DigestMethod, GOST key bits or 0 for RSA).
_METHODS: dict[str, tuple[str, int]] = {
    xmldsig.RSA_SHA256: (xmldsig.SHA256, 0),
    **{sig: (dig, bits) for bits, (dig, sig) in smev.GOST_URIS.items()},
}


class VerificationError(ValueError):
    """The document is not a validly signed document of this feed; ``check`` names why."""

    def __init__(self, check: str, reason: str) -> None:
        self.check = check
        super().__init__(f"{check}: {reason}")


@dataclass(frozen=True)
class Verified:
    """What was signed, and by whom."""

    profile: str  # "xmldsig" | "smev3"
    signed: bytes  # the signed element, Exclusive C14N
    element: etree._Element  # parsed from ``signed``: the only tree to read
    signer: str  # the certificate's subject
    signature_method: str
    not_after: datetime


def verify_document(
    data: bytes, *, trusted: Sequence[bytes] = (), now: datetime | None = None
) -> Verified:
    """Every check above; the signed element when all pass."""
    root = _parse(data)
    _refuse_unsigned(root)
    if root.tag == f"{{{smev.NS}}}SignedDocument":
        profile, signed, signature = "smev3", *_smev_parts(root)
        uri, transforms = f"#{signed.get('Id')}", smev.TRANSFORMS
    else:
        profile, signed, signature = "xmldsig", root, _enveloped_signature(root)
        uri, transforms = "", (xmldsig.ENVELOPED, xmldsig.EXC_C14N)
    parts = _signature_parts(signature, uri, transforms)
    canonical = _signed_bytes(profile, signed, signature)
    _check_digest(parts, canonical if profile == "xmldsig" else smev.digest_input(canonical))
    certificate = _check_value(parts)
    not_after = _check_certificate(certificate, trusted, now or datetime.now(UTC))
    return Verified(
        profile=profile,
        signed=canonical,
        element=parse_safely(canonical),
        signer=certificate.parsed.subject.human_friendly,
        signature_method=parts.method,
        not_after=not_after,
    )


def _parse(data: bytes) -> etree._Element:
    try:
        root = parse_safely(data)
    except etree.XMLSyntaxError as exc:
        raise VerificationError("parse", f"not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise VerificationError("parse", "a DOCTYPE is not allowed")
    return root


def _refuse_unsigned(root: etree._Element) -> None:
    outside = [*root.itersiblings(preceding=True), *root.itersiblings()]
    inside = root.xpath("//comment() | //processing-instruction()")
    if outside or inside:
        raise VerificationError("unsigned", "comments or processing instructions are not signed")


def _enveloped_signature(root: etree._Element) -> etree._Element:
    found = list(root.iter(f"{_DS}Signature"))
    if len(found) != 1 or found[0].getparent() is not root or root[-1] is not found[0]:
        raise VerificationError("shape", "one ds:Signature, the root's last child, is expected")
    return found[0]


def _smev_parts(root: etree._Element) -> tuple[etree._Element, etree._Element]:
    holder_tag = f"{{{smev.NS}}}Signature"
    children = list(root)
    if len(children) != 2 or children[1].tag != holder_tag or root.attrib:
        raise VerificationError("shape", "SignedDocument holds exactly the payload and Signature")
    payload, holder = children
    if (root.text or "").strip() or any((c.tail or "").strip() for c in children):
        raise VerificationError("shape", "text outside the payload is not signed")
    ident = payload.get("Id")
    if not ident or len(root.xpath("//*[@Id=$id]", id=ident)) != 1:
        raise VerificationError("shape", "the payload needs an Id that no other element has")
    signatures = list(holder)
    if len(signatures) != 1 or signatures[0].tag != f"{_DS}Signature" or holder.attrib:
        raise VerificationError("shape", "Signature holds exactly one ds:Signature")
    if len(list(root.iter(f"{_DS}Signature"))) != 1:
        raise VerificationError("shape", "a ds:Signature inside the payload is not allowed")
    return payload, signatures[0]


@dataclass(frozen=True)
class _Parts:
    signed_info: etree._Element
    method: str
    digest_method: str
    digest_value: bytes
    value: bytes
    certificate: bytes


def _only(element: etree._Element, *tags: str) -> list[etree._Element]:
    """The children of ``element``, which must be exactly ``tags`` (ds names), no text."""
    children = list(element)
    if [c.tag for c in children] != [f"{_DS}{t}" for t in tags]:
        local = etree.QName(element).localname
        raise VerificationError("signature", f"{local} must hold exactly {', '.join(tags)}")
    if children and ((element.text or "").strip() or any((c.tail or "").strip() for c in children)):
        raise VerificationError("signature", "text between signature elements is not allowed")
    return children


def _algorithm(element: etree._Element) -> str:
    _only(element)
    if set(element.attrib) != {"Algorithm"}:
        raise VerificationError("signature", "an algorithm element carries only Algorithm")
    return str(element.get("Algorithm"))


def _base64(element: etree._Element) -> bytes:
    _only(element)
    try:
        return base64.b64decode("".join((element.text or "").split()), validate=True)
    except ValueError:
        raise VerificationError("signature", "a value is not base64") from None


def _signature_parts(signature: etree._Element, uri: str, transforms: tuple[str, ...]) -> _Parts:
    signed_info, value, key_info = _only(signature, "SignedInfo", "SignatureValue", "KeyInfo")
    c14n, method_el, reference = _only(
        signed_info, "CanonicalizationMethod", "SignatureMethod", "Reference"
    )
    if _algorithm(c14n) != xmldsig.EXC_C14N:
        raise VerificationError("signature", "SignedInfo must be canonicalised with exc-c14n")
    method = _algorithm(method_el)
    if method not in _METHODS:
        raise VerificationError("signature", f"signature method {method} is not allowed")
    if dict(reference.attrib) != {"URI": uri}:
        raise VerificationError("signature", f"the reference must be to {uri!r} and only that")
    steps, digest_method, digest_value = _only(
        reference, "Transforms", "DigestMethod", "DigestValue"
    )
    if tuple(_algorithm(t) for t in _only(steps, *("Transform",) * len(steps))) != transforms:
        raise VerificationError("signature", "the transforms are not the profile's")
    digest_uri = _algorithm(digest_method)
    if digest_uri != _METHODS[method][0]:
        raise VerificationError("signature", "digest method does not match the signature method")
    (x509_data,) = _only(key_info, "X509Data")
    (certificate,) = _only(x509_data, "X509Certificate")
    return _Parts(
        signed_info, method, digest_uri, _base64(digest_value), _base64(value), _base64(certificate)
    )


def _signed_bytes(profile: str, signed: etree._Element, signature: etree._Element) -> bytes:
    """Exclusive C14N (without comments) of what the reference covers."""
    if profile == "smev3":
        return etree.tostring(signed, method="c14n", exclusive=True, with_comments=False)
    copy = etree.fromstring(etree.tostring(signed))
    copy.remove(copy[-1])  # the enveloped-signature transform: the root's last child
    return etree.tostring(copy, method="c14n", exclusive=True, with_comments=False)


def _hash(digest_uri: str, data: bytes) -> bytes:
    if digest_uri == xmldsig.SHA256:
        import hashlib

        return hashlib.sha256(data).digest()
    bits = next(b for b, (d, _s) in smev.GOST_URIS.items() if d == digest_uri)
    return streebog(data, bits)


def _check_digest(parts: _Parts, digested: bytes) -> None:
    if not hmac.compare_digest(_hash(parts.digest_method, digested), parts.digest_value):
        raise VerificationError("digest", "the signed content has changed (digest mismatch)")


def _check_value(parts: _Parts) -> Certificate:
    try:
        certificate = certificate_from_der(parts.certificate)
    except KeyLoadError as exc:
        raise VerificationError("certificate", str(exc)) from None
    data = etree.tostring(parts.signed_info, method="c14n", exclusive=True, with_comments=False)
    key, bits = certificate.public_key, _METHODS[parts.method][1]
    if isinstance(key, GostPublicKey):
        ok = bits == key.bits and key.verify(data, parts.value)
    else:
        ok = bits == 0 and key.verify(data, parts.value, "sha256")
    if not ok:
        raise VerificationError("value", "the signature does not verify with the certificate")
    return certificate


def _check_certificate(
    certificate: Certificate, trusted: Sequence[bytes], now: datetime
) -> datetime:
    validity = certificate.parsed["tbs_certificate"]["validity"]
    not_before: datetime = validity["not_before"].native
    not_after: datetime = validity["not_after"].native
    if not not_before <= now <= not_after:
        raise VerificationError("certificate", f"not valid now (valid {not_before}–{not_after})")
    if trusted and certificate.der not in trusted:
        raise VerificationError("certificate", "signed by a certificate that is not trusted")
    return not_after
