"""The portal's documents signed as enveloped XML-DSig and as JWS, by the adapter's one signer.

The signer is a :class:`~gosuslugi_adapter.signers.KeySigner` (RSA-SHA256: the key in
``[feed] key_file``, its certificate in ``cert_file``); both formats are built here on its bare
signature, the feed code sees only :class:`DocumentSignatures`. The SMEV 3 profile
(:mod:`gateway.portal.smev`) is built on the same signer interface.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc.jwk import RSAKey
from joserfc.util import urlsafe_b64encode

from config.settings import ConfigError, FeedSettings
from gateway.portal import xmldsig
from gosuslugi_adapter.errors import SignerError
from gosuslugi_adapter.key_files import RsaPublicKey, certificate_from_der, load_private_key
from gosuslugi_adapter.signers import Algorithm, KeySigner, RsaSigner, SignatureForm, load_signer

log = logging.getLogger("ediary.portal")

#: What a served XML document starts with (``sign_xml`` output has no declaration).
DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"
#: The JWS ``alg`` of each signer algorithm that JOSE names.
JWS_ALGORITHMS = {Algorithm.RSA_SHA256: "RS256"}


class DocumentSignatures:
    """Signs the portal's documents with ``signer``; verifiers find its key in :meth:`jwks`
    (JOSE) or in the certificate the XML signature carries."""

    def __init__(self, signer: KeySigner) -> None:
        public = signer.certificate.public_key
        if signer.algorithm not in JWS_ALGORITHMS or not isinstance(public, RsaPublicKey):
            raise ValueError("the feed key must be an RSA key (RS256 and RSA-SHA256)")
        self.signer = signer
        self._alg = JWS_ALGORITHMS[signer.algorithm]
        self._jwk = RSAKey.import_key(public.key)
        #: Names the key: the JWS ``kid``; part of every ETag, so a new key re-signs.
        self.key_id = self._jwk.thumbprint()
        self._key_info = xmldsig.key_info(signer.certificate.der)

    @classmethod
    def from_files(cls, key_file: str, cert_file: str) -> DocumentSignatures:
        signer = load_signer("rsa", key_file=key_file, cert_file=cert_file)
        assert isinstance(signer, KeySigner)  # "rsa" is always a key in memory
        return cls(signer)

    @classmethod
    def ephemeral(cls, common_name: str) -> DocumentSignatures:
        """A throwaway key and self-signed certificate (the demo; never for production)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = self_signed_certificate(key, common_name).public_bytes(serialization.Encoding.DER)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(RsaSigner(load_private_key(pem), certificate_from_der(der)))

    def sign_xml(self, document: bytes) -> bytes:
        """``document`` (canonical, as :mod:`gateway.portal.xml` writes it) with an enveloped
        XML-DSig signature appended to its root (:func:`xmldsig.sign_enveloped`); no XML
        declaration."""
        return xmldsig.sign_enveloped(document, self.signer, self._key_info)

    def sign_jws(self, payload: bytes) -> str:
        """A compact JWS (RFC 7515 §7.1) of ``payload`` whose header names :attr:`key_id`."""
        header = {"alg": self._alg, "kid": self.key_id, "typ": "JOSE", "cty": "json"}
        protected = urlsafe_b64encode(json.dumps(header, separators=(",", ":")).encode())
        signing_input = protected + b"." + urlsafe_b64encode(payload)
        signature = self.signer.sign_now(signing_input, SignatureForm.RAW)
        return (signing_input + b"." + urlsafe_b64encode(signature)).decode("ascii")

    def jwks(self) -> dict[str, Any]:
        """The public keys, as served at ``/.well-known/jwks.json``."""
        public = dict(self._jwk.as_dict(private=False))
        x5c = [base64.b64encode(self.signer.certificate.der).decode()]
        public.update(kid=self.key_id, use="sig", alg=self._alg, x5c=x5c)
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


def signer_from_settings(feed: FeedSettings) -> DocumentSignatures:
    """The configured signer; without ``[feed] key_file``/``cert_file``, a throwaway key
    (warned about: documents signed with it cannot be verified after a restart)."""
    if feed.key_file and feed.cert_file:
        try:
            return DocumentSignatures.from_files(feed.key_file, feed.cert_file)
        except (SignerError, ValueError) as exc:
            raise ConfigError(f"feed.key_file / feed.cert_file: {exc}") from None
    if feed.key_file or feed.cert_file:
        raise ConfigError("feed.key_file and feed.cert_file must be set together")
    log.warning(
        "[feed] key_file/cert_file are not set: portal documents are signed with a throwaway "
        "key generated now (fine for the demo, not for production)"
    )
    return DocumentSignatures.ephemeral(feed.issuer)
