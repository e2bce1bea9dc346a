"""The one signer interface for the portal's documents, and its RSA implementation.

The feed code sees only :class:`DocumentSigner`; a GOST R 34.10-2012 signer (or one that
calls a certified crypto provider) can be added beside :class:`RsaDocumentSigner` and chosen
in :func:`signer_from_settings` without touching the feed.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from joserfc import jws
from joserfc.jwk import RSAKey

from config.settings import ConfigError, FeedSettings
from gateway.portal import xmldsig

log = logging.getLogger("ediary.portal")

#: What a served XML document starts with (``sign_xml`` output has no declaration).
DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"


class DocumentSigner(Protocol):
    """Signs the portal's documents; verifiers find its keys in :meth:`jwks` (JOSE) or in the
    certificate the XML signature carries."""

    @property
    def key_id(self) -> str:
        """Names the key: the JWS ``kid``; part of every ETag, so a new key re-signs."""
        ...

    def sign_xml(self, document: bytes) -> bytes:
        """``document`` (canonical, as :mod:`gateway.portal.xml` writes it) with an enveloped
        XML-DSig signature appended to its root (:func:`xmldsig.sign_enveloped`); no XML
        declaration."""
        ...

    def sign_jws(self, payload: bytes) -> str:
        """A compact JWS of ``payload`` whose header names :attr:`key_id`."""
        ...

    def jwks(self) -> dict[str, Any]:
        """The public keys, as served at ``/.well-known/jwks.json``."""
        ...


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class RsaDocumentSigner:
    """RSA-SHA256: XML-DSig (enveloped, exclusive C14N, certificate in KeyInfo) and RS256."""

    def __init__(self, key: rsa.RSAPrivateKey, cert: x509.Certificate) -> None:
        public = cert.public_key()
        if not isinstance(public, rsa.RSAPublicKey) or (
            public.public_numbers() != key.public_key().public_numbers()
        ):
            raise ValueError("the feed certificate does not belong to the feed key")
        self._cert_der = cert.public_bytes(serialization.Encoding.DER)
        self._jwk = RSAKey.import_key(key)
        self._kid = self._jwk.thumbprint()
        self._xml = xmldsig.Algorithms(
            signature=xmldsig.RSA_SHA256,
            digest=xmldsig.SHA256,
            hash=_sha256,
            sign=lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256()),
        )
        self._key_info = xmldsig.key_info(self._cert_der)

    @classmethod
    def from_files(cls, key_file: str, cert_file: str) -> RsaDocumentSigner:
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{key_file}: not an RSA private key")
        cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
        return cls(key, cert)

    @classmethod
    def ephemeral(cls, common_name: str) -> RsaDocumentSigner:
        """A throwaway key and self-signed certificate (the demo; never for production)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(key, self_signed_certificate(key, common_name))

    @property
    def key_id(self) -> str:
        return self._kid

    def sign_xml(self, document: bytes) -> bytes:
        return xmldsig.sign_enveloped(document, self._xml, self._key_info)

    def sign_jws(self, payload: bytes) -> str:
        header = {"alg": "RS256", "kid": self._kid, "typ": "JOSE", "cty": "json"}
        return jws.serialize_compact(header, payload, self._jwk, algorithms=["RS256"])

    def jwks(self) -> dict[str, Any]:
        public = dict(self._jwk.as_dict(private=False))
        public.update(
            kid=self._kid, use="sig", alg="RS256", x5c=[base64.b64encode(self._cert_der).decode()]
        )
        return {"keys": [public]}


def self_signed_certificate(
    key: rsa.RSAPrivateKey, common_name: str, days: int = 365
) -> x509.Certificate:
    """A self-signed certificate for the feed key (demo and ``ediary keys generate``)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )


def signer_from_settings(feed: FeedSettings) -> DocumentSigner:
    """The configured signer; without ``[feed] key_file``/``cert_file``, a throwaway key
    (warned about: documents signed with it cannot be verified after a restart)."""
    if feed.key_file and feed.cert_file:
        try:
            return RsaDocumentSigner.from_files(feed.key_file, feed.cert_file)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"feed.key_file / feed.cert_file: {exc}") from None
    if feed.key_file or feed.cert_file:
        raise ConfigError("feed.key_file and feed.cert_file must be set together")
    log.warning(
        "[feed] key_file/cert_file are not set: portal documents are signed with a throwaway "
        "key generated now (fine for the demo, not for production)"
    )
    return RsaDocumentSigner.ephemeral(feed.issuer)
