"""Loading keys and certificates from the PEM (or DER) files OpenSSL writes.

Two key families: RSA (through ``cryptography``) and GOST R 34.10-2012, 256- or 512-bit
(through :mod:`gosuslugi_adapter.gost`). Both sides expose the same two verbs, ``sign(data)`` and
``verify(data, signature)``, so the signers, the CMS code and the token checks never branch on
the library.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import pem, x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from gosuslugi_adapter.gost import (
    KEY_BITS,
    PARAMSETS,
    GostKeyError,
    GostPrivateKey,
    GostPublicKey,
    spki_algorithm,
    streebog256,
)

OID_RSA = "1.2.840.113549.1.1.1"
RSA_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class KeyLoadError(ValueError):
    """A key or certificate file is missing, malformed, of an unsupported kind, or mismatched."""


@dataclass(frozen=True)
class RsaPublicKey:
    """An RSA public key; signatures are PKCS#1 v1.5 (what CMS and RS256 use)."""

    key: rsa.RSAPublicKey
    algorithm = "rsa"

    def verify(self, data: bytes, signature: bytes, digest: str = "sha256") -> bool:
        """True when ``signature`` is a PKCS#1 v1.5 signature of ``data`` under ``digest``."""
        algorithm = RSA_DIGESTS.get(digest)
        if algorithm is None:
            return False
        try:
            self.key.verify(signature, data, padding.PKCS1v15(), algorithm())
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class RsaPrivateKey:
    """An RSA private key; ``repr`` never shows it."""

    key: rsa.RSAPrivateKey = field(repr=False)
    algorithm = "rsa"

    def sign(self, data: bytes, digest: str = "sha256") -> bytes:
        """PKCS#1 v1.5 signature of ``data``."""
        return self.key.sign(data, padding.PKCS1v15(), RSA_DIGESTS[digest]())

    def public_key(self) -> RsaPublicKey:
        return RsaPublicKey(self.key.public_key())


PublicKey = RsaPublicKey | GostPublicKey
PrivateKey = RsaPrivateKey | GostPrivateKey


@dataclass(frozen=True)
class Certificate:
    """An X.509 certificate with its public key, parsed once."""

    der: bytes
    public_key: PublicKey
    parsed: x509.Certificate = field(repr=False, compare=False)

    @property
    def streebog_hex(self) -> str:
        """GOST R 34.11-2012-256 of the DER certificate, hex: ESIA's ``client_certificate_hash``."""
        return streebog256(self.der).hex()

    @property
    def issuer_and_serial(self) -> tuple[bytes, int]:
        """(issuer Name DER, serial number): how a CMS SignerInfo names its certificate."""
        tbs = self.parsed["tbs_certificate"]
        return bytes(tbs["issuer"].dump()), int(tbs["serial_number"].native)

    def pem(self) -> bytes:
        return bytes(pem.armor("CERTIFICATE", self.der))


def _read(source: str | os.PathLike[str] | bytes) -> bytes:
    if isinstance(source, bytes):
        return source
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise KeyLoadError(f"cannot read {source}: {exc.strerror}") from None


def _der(data: bytes, expected: tuple[str, ...]) -> tuple[str, bytes]:
    if not pem.detect(data):
        return "", data
    try:
        kind, _headers, der = pem.unarmor(data)
    except ValueError as exc:
        raise KeyLoadError(f"malformed PEM: {exc}") from None
    if kind not in expected:
        raise KeyLoadError(f"expected PEM {' or '.join(expected)}, found {kind}")
    return kind, der


def certificate_from_der(der: bytes) -> Certificate:
    """Parse a DER certificate; only RSA and GOST R 34.10-2012 keys are accepted."""
    try:
        parsed = x509.Certificate.load(der)
        spki_der = bytes(parsed["tbs_certificate"]["subject_public_key_info"].dump())
        oid = spki_algorithm(spki_der)
    except (ValueError, TypeError, KeyError) as exc:
        raise KeyLoadError(f"malformed certificate: {exc}") from None
    return Certificate(bytes(der), _public_key(oid, spki_der), parsed)


def _public_key(oid: str, spki_der: bytes) -> PublicKey:
    if oid == OID_RSA:
        key = serialization.load_der_public_key(spki_der)
        assert isinstance(key, rsa.RSAPublicKey)
        return RsaPublicKey(key)
    if oid in KEY_BITS:
        try:
            return GostPublicKey.from_spki_der(spki_der)
        except GostKeyError as exc:
            raise KeyLoadError(str(exc)) from None
    raise KeyLoadError(f"unsupported certificate key algorithm {oid}")


def load_certificate(source: str | os.PathLike[str] | bytes) -> Certificate:
    """A certificate from a PEM or DER file (or its bytes)."""
    _kind, der = _der(_read(source), ("CERTIFICATE",))
    return certificate_from_der(der)


def load_private_key(
    source: str | os.PathLike[str] | bytes, password: bytes | None = None
) -> PrivateKey:
    """A private key from PEM/DER: PKCS#8 (RSA or GOST as the GOST engine writes it) or PKCS#1.

    Encrypted GOST keys (GOST PBES2) are refused: keep such keys in a certified provider and use
    the command signer.
    """
    kind, der = _der(_read(source), ("PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"))
    try:
        return GostPrivateKey.from_pkcs8_der(der)
    except GostKeyError as exc:
        gost_problem = str(exc)
    try:
        key = serialization.load_der_private_key(der, password=password)
    except (ValueError, TypeError) as exc:
        raise KeyLoadError(
            f"unsupported or malformed private key ({kind or 'DER'}): {exc}; "
            f"as GOST: {gost_problem}"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyLoadError("only RSA and GOST R 34.10-2012 private keys are supported")
    return RsaPrivateKey(key)


def key_matches_certificate(key: PrivateKey, certificate: Certificate) -> bool:
    """True when ``certificate`` carries the public half of ``key``."""
    if isinstance(key, RsaPrivateKey) and isinstance(certificate.public_key, RsaPublicKey):
        return key.key.public_key().public_numbers() == certificate.public_key.key.public_numbers()
    if isinstance(key, GostPrivateKey) and isinstance(certificate.public_key, GostPublicKey):
        mine, theirs = key.public_key(), certificate.public_key
        same_curve = PARAMSETS[mine.paramset] == PARAMSETS[theirs.paramset]
        return same_curve and (mine.x, mine.y) == (theirs.x, theirs.y)
    return False
