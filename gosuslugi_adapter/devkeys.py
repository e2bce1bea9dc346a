"""Throwaway keys and self-signed certificates for the demo, the emulator and the tests.

Never for production: production keys come from a certification authority (and GOST keys
usually stay inside a certified provider, see :class:`~gosuslugi_adapter.signers.CommandSigner`).
The GOST certificate is built in pure Python and OpenSSL's GOST engine accepts it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import core, keys, pem, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gosuslugi_adapter.gost import OIDS_BY_BITS, GostPrivateKey


@dataclass(frozen=True)
class Credentials:
    """A private key and its self-signed certificate, both PEM (OpenSSL's formats)."""

    key_pem: bytes = field(repr=False)
    cert_pem: bytes

    def write(self, directory: str | Path, stem: str) -> tuple[Path, Path]:
        """Write ``stem.key`` (mode 0600) and ``stem.pem``; return their paths."""
        base = Path(directory)
        key_path, cert_path = base / f"{stem}.key", base / f"{stem}.pem"
        key_path.touch(mode=0o600)
        key_path.write_bytes(self.key_pem)
        cert_path.write_bytes(self.cert_pem)
        return key_path, cert_path


def _validity(days: int) -> tuple[datetime, datetime]:
    now = datetime.now(UTC).replace(microsecond=0)
    return now - timedelta(hours=1), now + timedelta(days=days)


def generate_rsa_credentials(
    common_name: str = "ediary test client", days: int = 365
) -> Credentials:
    """A 2048-bit RSA key and a self-signed certificate for it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start, end = _validity(days)
    cert = (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return Credentials(key_pem, cert.public_bytes(serialization.Encoding.PEM))


def generate_gost_credentials(
    common_name: str = "ediary test client",
    days: int = 365,
    paramset: str | None = None,
    bits: int = 256,
) -> Credentials:
    """A GOST R 34.10-2012 key (256- or 512-bit; TC26 set A unless ``paramset`` says otherwise)
    and a self-signed certificate signed with it."""
    key = GostPrivateKey.generate(paramset, bits)
    name = x509.Name.build({"common_name": common_name})
    start, end = _validity(days)
    algorithm = x509.SignedDigestAlgorithm({"algorithm": OIDS_BY_BITS[key.bits][2]})
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": secrets.randbits(63) + 1,
            "signature": algorithm,
            "issuer": name,
            "validity": {
                "not_before": x509.Time(name="utc_time", value=start),
                "not_after": x509.Time(name="utc_time", value=end),
            },
            "subject": name,
            "subject_public_key_info": keys.PublicKeyInfo.load(key.public_key().spki_der()),
        }
    )
    signature = key.sign(bytes(tbs.dump()))
    cert = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": algorithm,
            "signature_value": core.OctetBitString(signature),
        }
    )
    return Credentials(
        bytes(pem.armor("PRIVATE KEY", key.pkcs8_der())),
        bytes(pem.armor("CERTIFICATE", cert.dump())),
    )
