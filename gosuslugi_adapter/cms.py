"""Detached CMS (PKCS#7) signatures: building them (v1 client_secret) and verifying them.

What we build matches ``openssl smime -sign -binary -noattr -outform DER`` (one SignerInfo named by
issuer and serial, the signer's certificate included, no content, no signed attributes).
What we verify is what ESIA clients send: with or without signed attributes, RSA or GOST.
"""

from __future__ import annotations

import hashlib
import os

from asn1crypto import cms, core, x509

from gosuslugi_adapter.gost import OIDS_BY_BITS, GostPublicKey, streebog
from gosuslugi_adapter.key_files import Certificate, PrivateKey, RsaPrivateKey

_RSA_DIGESTS = {
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
_RSA_SIGNATURES = {
    "1.2.840.113549.1.1.1": None,  # rsaEncryption: digest named by digestAlgorithm
    "1.2.840.113549.1.1.11": "sha256",
    "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512",
}
#: GOST digest OID → (Streebog size, the signature OIDs a SignerInfo may name with it: the key
#: algorithm, as OpenSSL writes it, or the signature-with-digest algorithm).
_GOST_DIGESTS = {digest: (bits, (key, sign)) for bits, (key, digest, sign) in OIDS_BY_BITS.items()}


class CmsError(ValueError):
    """The CMS signature is malformed, not detached, not by the expected certificate, or bad."""


def sign_detached(content: bytes, key: PrivateKey, certificate: Certificate) -> bytes:
    """A detached CMS SignedData over ``content`` (DER), without signed attributes."""
    return _signed_data(key.sign(content), key, certificate)


class DetachedCmsTemplate:
    """The DER of :func:`sign_detached` with a hole where the signature goes.

    Without signed attributes only the signature bytes change from one message to the next, and
    their length is fixed by the key; building the ASN.1 once makes a v1 client_secret cost
    little more than the RSA or GOST operation itself.
    """

    def __init__(self, key: PrivateKey, certificate: Certificate) -> None:
        size = (key.key.key_size + 7) // 8 if isinstance(key, RsaPrivateKey) else key.signature_size
        placeholder = os.urandom(size)
        der = _signed_data(placeholder, key, certificate)
        start = der.index(placeholder)
        self._key = key
        self._prefix, self._suffix = der[:start], der[start + size :]

    def sign(self, content: bytes) -> bytes:
        return self._prefix + self._key.sign(content) + self._suffix


def _signed_data(signature: bytes, key: PrivateKey, certificate: Certificate) -> bytes:
    if isinstance(key, RsaPrivateKey):
        digest_oid, signature_oid = "2.16.840.1.101.3.4.2.1", "1.2.840.113549.1.1.1"
    else:
        signature_oid, digest_oid, _ = OIDS_BY_BITS[key.bits]
    issuer, serial = certificate.issuer_and_serial
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value=cms.IssuerAndSerialNumber(
                    {"issuer": x509.Name.load(issuer), "serial_number": serial}
                ),
            ),
            "digest_algorithm": _algorithm(digest_oid),
            "signature_algorithm": _algorithm(signature_oid),
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [_algorithm(digest_oid)],
            "encap_content_info": {"content_type": "data"},
            "certificates": [cms.CertificateChoices(name="certificate", value=certificate.parsed)],
            "signer_infos": [signer],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())


def _algorithm(oid: str) -> dict[str, object]:
    return {"algorithm": oid, "parameters": core.Null()}


def verify_detached(signature_der: bytes, content: bytes, certificate: Certificate) -> None:
    """Verify a detached CMS signature over ``content`` against ``certificate`` only.

    Security: the certificates carried inside the CMS are ignored — only the certificate
    registered for the client counts, so a valid signature by another key is refused. Exactly one
    SignerInfo, naming that certificate, is required; embedded content is refused (detached only).
    """
    signer = _single_signer(signature_der)
    _check_signer_names(signer, certificate)
    digest_name = _digest_name(signer, certificate)
    signed_bytes = _signed_bytes(signer, content, digest_name)
    signature = bytes(signer["signature"].native)
    if isinstance(certificate.public_key, GostPublicKey):
        ok = certificate.public_key.verify(signed_bytes, signature)
    else:
        ok = certificate.public_key.verify(signed_bytes, signature, digest_name)
    if not ok:
        raise CmsError("signature does not verify against the registered certificate")


def _single_signer(signature_der: bytes) -> cms.SignerInfo:
    try:
        info = cms.ContentInfo.load(signature_der, strict=True)
        if info["content_type"].native != "signed_data":
            raise CmsError("not a SignedData")
        signed = info["content"]
        if signed["encap_content_info"]["content"].native is not None:
            raise CmsError("content is embedded; a detached signature is required")
        signers = signed["signer_infos"]
        if len(signers) != 1:
            raise CmsError("exactly one SignerInfo is required")
        signer = signers[0]
        signer.native  # noqa: B018 - parse everything now, inside the try
    except (ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, CmsError):
            raise
        raise CmsError(f"malformed CMS: {exc}") from None
    return signer


def _check_signer_names(signer: cms.SignerInfo, certificate: Certificate) -> None:
    sid = signer["sid"]
    if sid.name == "issuer_and_serial_number":
        issuer, serial = certificate.issuer_and_serial
        named = sid.chosen
        if named["issuer"].dump() != issuer or named["serial_number"].native != serial:
            raise CmsError("SignerInfo names another certificate")
        return
    key_id = certificate.parsed.key_identifier
    if key_id is None or sid.chosen.native != key_id:
        raise CmsError("SignerInfo names another certificate")


def _digest_name(signer: cms.SignerInfo, certificate: Certificate) -> str:
    digest_oid = signer["digest_algorithm"]["algorithm"].dotted
    signature_oid = signer["signature_algorithm"]["algorithm"].dotted
    key = certificate.public_key
    if isinstance(key, GostPublicKey):
        bits, signatures = _GOST_DIGESTS.get(digest_oid, (0, ()))
        if bits != key.bits or signature_oid not in signatures:
            raise CmsError(
                f"a {key.bits}-bit GOST certificate needs Streebog-{key.bits} and GOST R 34.10-2012"
            )
        return f"streebog{bits}"
    digest = _RSA_DIGESTS.get(digest_oid)
    if digest is None or signature_oid not in _RSA_SIGNATURES:
        raise CmsError("an RSA certificate needs SHA-256/384/512 with PKCS#1 v1.5")
    if _RSA_SIGNATURES[signature_oid] not in (None, digest):
        raise CmsError("signature algorithm and digest algorithm disagree")
    return digest


def _content_digest(content: bytes, digest_name: str) -> bytes:
    if digest_name.startswith("streebog"):
        return streebog(content, int(digest_name.removeprefix("streebog")))
    return hashlib.new(digest_name, content).digest()


def _signed_bytes(signer: cms.SignerInfo, content: bytes, digest_name: str) -> bytes:
    """The bytes the signature covers: the content, or the DER SET OF signed attributes.

    With signed attributes, the message-digest attribute must equal the content's digest and the
    content-type attribute must say ``data`` (RFC 5652 §5.4), else the signature proves nothing.
    """
    attrs = signer["signed_attrs"]
    if isinstance(attrs, core.Void):
        return content
    values: dict[str, list[object]] = {}
    for attr in attrs:
        values.setdefault(attr["type"].native, []).extend(attr["values"].native)
    if values.get("content_type") != ["data"]:
        raise CmsError("signed content-type attribute must be 'data'")
    if values.get("message_digest") != [_content_digest(content, digest_name)]:
        raise CmsError("signed message-digest does not match the content")
    return b"\x31" + bytes(attrs.dump())[1:]
