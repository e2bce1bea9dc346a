"""GOST R 34.10-2012 (256-bit) keys and signatures, GOST R 34.11-2012 (Streebog-256) digests.

The arithmetic is ``gostcrypto``'s; this module owns the byte orders, which are where GOST
implementations disagree. Every order below was checked against OpenSSL's GOST engine
(``libengine-gost-openssl``) and is pinned by the interoperability tests:

- the digest is fed to the signature as a *little-endian* number (the Streebog output reversed);
- a signature is 64 bytes ``s || r``, each big-endian ("OpenSSL layout"; also what CMS and X.509
  carry, RFC 4491 §2.2.2), while ``gostcrypto`` speaks ``r || s``;
- the PKCS#8 private key is 32 bytes, little-endian;
- the certificate's public key is an OCTET STRING ``X || Y``, each little-endian.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from asn1crypto import core
from gostcrypto import gosthash, gostsignature

OID_GOST2012_256 = "1.2.643.7.1.1.1.1"
OID_STREEBOG256 = "1.2.643.7.1.1.2.2"
OID_SIGN_GOST2012_256 = "1.2.643.7.1.1.3.2"
OID_TC26_PARAMSET_A = "1.2.643.7.1.2.1.1.1"

SIZE = 32
SIGNATURE_SIZE = 64

#: Parameter-set OIDs (TC26 names and their CryptoPro aliases) → gostcrypto curve names.
CURVE_NAMES: dict[str, str] = {
    "1.2.643.7.1.2.1.1.1": "id-tc26-gost-3410-2012-256-paramSetA",
    "1.2.643.7.1.2.1.1.2": "id-tc26-gost-3410-2012-256-paramSetB",
    "1.2.643.7.1.2.1.1.3": "id-tc26-gost-3410-2012-256-paramSetC",
    "1.2.643.7.1.2.1.1.4": "id-tc26-gost-3410-2012-256-paramSetD",
    "1.2.643.2.2.35.1": "id-tc26-gost-3410-2012-256-paramSetB",  # CryptoPro-A
    "1.2.643.2.2.35.2": "id-tc26-gost-3410-2012-256-paramSetC",  # CryptoPro-B
    "1.2.643.2.2.35.3": "id-tc26-gost-3410-2012-256-paramSetD",  # CryptoPro-C
    "1.2.643.2.2.36.0": "id-tc26-gost-3410-2012-256-paramSetB",  # CryptoPro-XchA
    "1.2.643.2.2.36.1": "id-tc26-gost-3410-2012-256-paramSetD",  # CryptoPro-XchB
}


class GostKeyError(ValueError):
    """A GOST key or certificate structure is malformed or uses an unsupported parameter set."""


def streebog256(data: bytes) -> bytes:
    """GOST R 34.11-2012 256-bit digest, in the byte order OpenSSL prints and CMS carries."""
    return bytes(gosthash.new("streebog256", data=data).digest())


def _engine(paramset: str) -> gostsignature.GOST34102012:
    name = CURVE_NAMES.get(paramset)
    if name is None:
        raise GostKeyError(f"unsupported GOST R 34.10-2012 parameter set {paramset}")
    curve = gostsignature.CURVES_R_1323565_1_024_2019[name]
    return gostsignature.new(gostsignature.MODE_256, curve)


def _digest_for_signature(data: bytes) -> bytearray:
    """The Streebog digest as the little-endian number GOST R 34.10 signs (RFC 4491)."""
    return bytearray(streebog256(data)[::-1])


class _AlgorithmIdentifier(core.Sequence):
    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class _GostParameters(core.Sequence):
    _fields = [  # noqa: RUF012
        ("public_key_paramset", core.ObjectIdentifier),
        ("digest_paramset", core.ObjectIdentifier, {"optional": True}),
    ]


class _PrivateKeyInfo(core.Sequence):
    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("algorithm", _AlgorithmIdentifier),
        ("private_key", core.OctetString),
        ("attributes", core.Any, {"implicit": 0, "optional": True}),
    ]


class _SubjectPublicKeyInfo(core.Sequence):
    _fields = [  # noqa: RUF012
        ("algorithm", _AlgorithmIdentifier),
        ("public_key", core.OctetBitString),
    ]


def _algorithm(paramset: str) -> _AlgorithmIdentifier:
    params = _GostParameters({"public_key_paramset": paramset, "digest_paramset": OID_STREEBOG256})
    return _AlgorithmIdentifier({"algorithm": OID_GOST2012_256, "parameters": params})


def _paramset_of(algorithm: _AlgorithmIdentifier) -> str:
    if algorithm["algorithm"].dotted != OID_GOST2012_256:
        raise GostKeyError(f"not a GOST R 34.10-2012 256-bit key: {algorithm['algorithm'].dotted}")
    params = _GostParameters.load(algorithm["parameters"].dump())
    return str(params["public_key_paramset"].dotted)


def spki_algorithm(der: bytes) -> str:
    """The algorithm OID of any SubjectPublicKeyInfo (asn1crypto's own class rejects GOST's)."""
    return str(_SubjectPublicKeyInfo.load(der)["algorithm"]["algorithm"].dotted)


@dataclass(frozen=True)
class GostPublicKey:
    """A GOST R 34.10-2012 256-bit public key: curve parameter set and point (x, y)."""

    paramset: str
    x: int
    y: int
    algorithm = "gost2012_256"

    def verify(self, data: bytes, signature: bytes) -> bool:
        """True when ``signature`` (64 bytes, OpenSSL layout) signs Streebog-256 of ``data``."""
        if len(signature) != SIGNATURE_SIZE:
            return False
        r_s = bytearray(signature[SIZE:] + signature[:SIZE])
        point = bytearray(self.x.to_bytes(SIZE, "big") + self.y.to_bytes(SIZE, "big"))
        try:
            return bool(_engine(self.paramset).verify(point, _digest_for_signature(data), r_s))
        except gostsignature.GOSTSignatureError:
            return False

    def spki_der(self) -> bytes:
        """SubjectPublicKeyInfo DER as OpenSSL writes it (OCTET STRING of X‖Y little-endian)."""
        point = self.x.to_bytes(SIZE, "little") + self.y.to_bytes(SIZE, "little")
        inner = core.OctetString(point).dump()
        info = _SubjectPublicKeyInfo({"algorithm": _algorithm(self.paramset), "public_key": inner})
        return bytes(info.dump())

    @classmethod
    def from_spki_der(cls, der: bytes) -> GostPublicKey:
        """Parse a SubjectPublicKeyInfo holding a GOST R 34.10-2012 256-bit key."""
        try:
            info = _SubjectPublicKeyInfo.load(der)
            paramset = _paramset_of(info["algorithm"])
            point = core.OctetString.load(info["public_key"].native).native
        except (ValueError, TypeError) as exc:
            raise GostKeyError(f"malformed GOST public key: {exc}") from None
        if len(point) != 2 * SIZE:
            raise GostKeyError("GOST public key must be 64 bytes")
        _engine(paramset)
        x = int.from_bytes(point[:SIZE], "little")
        y = int.from_bytes(point[SIZE:], "little")
        return cls(paramset, x, y)


@dataclass(frozen=True)
class GostPrivateKey:
    """A GOST R 34.10-2012 256-bit private key. ``repr`` never shows the secret."""

    paramset: str
    secret: int = field(repr=False)
    algorithm = "gost2012_256"

    def _secret_bytes(self) -> bytearray:
        return bytearray(self.secret.to_bytes(SIZE, "big"))

    def sign(self, data: bytes) -> bytes:
        """Sign Streebog-256 of ``data``; 64 bytes in OpenSSL's ``s || r`` layout."""
        r_s = _engine(self.paramset).sign(self._secret_bytes(), _digest_for_signature(data))
        return bytes(r_s[SIZE:] + r_s[:SIZE])

    def public_key(self) -> GostPublicKey:
        """The matching public key (one scalar multiplication, a few tens of ms)."""
        point = _engine(self.paramset).public_key_generate(self._secret_bytes())
        x = int.from_bytes(point[:SIZE], "big")
        y = int.from_bytes(point[SIZE:], "big")
        return GostPublicKey(self.paramset, x, y)

    def pkcs8_der(self) -> bytes:
        """PKCS#8 DER exactly as OpenSSL's GOST engine writes it (32 bytes, little-endian)."""
        info = _PrivateKeyInfo(
            {
                "version": 0,
                "algorithm": _algorithm(self.paramset),
                "private_key": self.secret.to_bytes(SIZE, "little"),
            }
        )
        return bytes(info.dump())

    @classmethod
    def from_pkcs8_der(cls, der: bytes) -> GostPrivateKey:
        """Parse PKCS#8 as the GOST engine writes it; also the INTEGER and wrapped forms."""
        try:
            info = _PrivateKeyInfo.load(der)
            paramset = _paramset_of(info["algorithm"])
            secret = _secret_from(info["private_key"].native)
        except (ValueError, TypeError) as exc:
            raise GostKeyError(f"malformed GOST private key: {exc}") from None
        _engine(paramset)
        if not 0 < secret:
            raise GostKeyError("GOST private key is zero")
        return cls(paramset, secret)

    @classmethod
    def generate(cls, paramset: str = OID_TC26_PARAMSET_A) -> GostPrivateKey:
        """A fresh random key on ``paramset`` (the secret is drawn below the group order)."""
        _engine(paramset)
        order = int(gostsignature.CURVES_R_1323565_1_024_2019[CURVE_NAMES[paramset]]["q"])
        return cls(paramset, secrets.randbelow(order - 1) + 1)


def _secret_from(raw: bytes) -> int:
    """Private key bytes: bare 32 bytes LE (engine), OCTET STRING of them, or an INTEGER."""
    if len(raw) == SIZE:
        return int.from_bytes(raw, "little")
    if raw[:1] == b"\x04":
        inner = core.OctetString.load(raw).native
        if len(inner) == SIZE:
            return int.from_bytes(inner, "little")
    if raw[:1] == b"\x02":
        return int(core.Integer.load(raw).native)
    raise GostKeyError("unsupported GOST private key encoding (masked or 512-bit keys are not)")
