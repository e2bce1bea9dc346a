"""GOST R 34.10-2012 keys (256- and 512-bit) and signatures, GOST R 34.11-2012 (Streebog) digests.

This module owns the *data*: key types, their ASN.1 forms and the byte orders, which are where
GOST implementations disagree. The arithmetic is done by a backend (:class:`GostBackend`):

- ``openssl`` — OpenSSL's own GOST engine (Debian's ``libengine-gost-openssl``) in-process,
  through the system's ``libcrypto`` (:mod:`gosuslugi_adapter.gost_native`); the production path;
- ``gostcrypto`` — pure Python (:mod:`gosuslugi_adapter.gost_pure`), used only where the engine
  cannot be loaded, some hundred times slower.

:func:`backend` chooses once, the first time it is asked: the engine when it loads, otherwise
gostcrypto with one warning in the log. Both produce and accept the same bytes:

- a signature is ``s || r``, each big-endian and as long as the key ("OpenSSL layout"; also what
  CMS and X.509 carry, RFC 4491 §2.2.2, RFC 9215): 64 bytes for 256-bit keys, 128 for 512-bit;
- the PKCS#8 private key is the bare secret, little-endian (32 or 64 bytes), as the engine
  writes it;
- the certificate's public key is an OCTET STRING ``X || Y``, each little-endian;
- a Streebog digest is returned in the order OpenSSL prints it and CMS carries it.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from asn1crypto import core

log = logging.getLogger("ediary.gost")

OID_GOST2012_256 = "1.2.643.7.1.1.1.1"
OID_GOST2012_512 = "1.2.643.7.1.1.1.2"
OID_STREEBOG256 = "1.2.643.7.1.1.2.2"
OID_STREEBOG512 = "1.2.643.7.1.1.2.3"
OID_SIGN_GOST2012_256 = "1.2.643.7.1.1.3.2"
OID_SIGN_GOST2012_512 = "1.2.643.7.1.1.3.3"
OID_TC26_PARAMSET_A = "1.2.643.7.1.2.1.1.1"
OID_TC26_512_PARAMSET_A = "1.2.643.7.1.2.1.2.1"

#: Key algorithm OID → key size in bits.
KEY_BITS: dict[str, int] = {OID_GOST2012_256: 256, OID_GOST2012_512: 512}
#: Key size → (key algorithm OID, Streebog OID, signature-with-digest OID).
OIDS_BY_BITS: dict[int, tuple[str, str, str]] = {
    256: (OID_GOST2012_256, OID_STREEBOG256, OID_SIGN_GOST2012_256),
    512: (OID_GOST2012_512, OID_STREEBOG512, OID_SIGN_GOST2012_512),
}
#: The parameter set a new key of each size gets by default.
DEFAULT_PARAMSET = {256: OID_TC26_PARAMSET_A, 512: OID_TC26_512_PARAMSET_A}

#: Parameter-set OIDs (TC26 names and their CryptoPro aliases) → (key bits, canonical TC26 name).
PARAMSETS: dict[str, tuple[int, str]] = {
    "1.2.643.7.1.2.1.1.1": (256, "id-tc26-gost-3410-2012-256-paramSetA"),
    "1.2.643.7.1.2.1.1.2": (256, "id-tc26-gost-3410-2012-256-paramSetB"),
    "1.2.643.7.1.2.1.1.3": (256, "id-tc26-gost-3410-2012-256-paramSetC"),
    "1.2.643.7.1.2.1.1.4": (256, "id-tc26-gost-3410-2012-256-paramSetD"),
    "1.2.643.2.2.35.1": (256, "id-tc26-gost-3410-2012-256-paramSetB"),  # CryptoPro-A
    "1.2.643.2.2.35.2": (256, "id-tc26-gost-3410-2012-256-paramSetC"),  # CryptoPro-B
    "1.2.643.2.2.35.3": (256, "id-tc26-gost-3410-2012-256-paramSetD"),  # CryptoPro-C
    "1.2.643.2.2.36.0": (256, "id-tc26-gost-3410-2012-256-paramSetB"),  # CryptoPro-XchA
    "1.2.643.2.2.36.1": (256, "id-tc26-gost-3410-2012-256-paramSetD"),  # CryptoPro-XchB
    "1.2.643.7.1.2.1.2.1": (512, "id-tc26-gost-3410-12-512-paramSetA"),
    "1.2.643.7.1.2.1.2.2": (512, "id-tc26-gost-3410-12-512-paramSetB"),
    "1.2.643.7.1.2.1.2.3": (512, "id-tc26-gost-3410-2012-512-paramSetC"),
}


class GostKeyError(ValueError):
    """A GOST key or certificate structure is malformed or uses an unsupported parameter set."""


class GostBackendError(RuntimeError):
    """A GOST backend cannot be loaded (library, engine) or failed inside."""


class GostBackend(Protocol):
    """The GOST arithmetic: what :class:`GostPrivateKey`, :class:`GostPublicKey` and
    :func:`streebog` delegate to. Implementations must be thread-safe."""

    name: str
    description: str

    def digest(self, data: bytes, bits: int) -> bytes:
        """Streebog-256 or -512 of ``data``, in the order OpenSSL prints it."""

    def sign(self, key: GostPrivateKey, data: bytes) -> bytes:
        """Signature of Streebog(``data``) in OpenSSL's ``s || r`` layout."""

    def verify(self, key: GostPublicKey, data: bytes, signature: bytes) -> bool:
        """True when ``signature`` (OpenSSL layout) signs Streebog(``data``) under ``key``."""

    def public_key(self, key: GostPrivateKey) -> GostPublicKey:
        """The public half of ``key``."""


def paramset_bits(paramset: str) -> int:
    """The key size of a parameter set; :class:`GostKeyError` for one we do not support."""
    known = PARAMSETS.get(paramset)
    if known is None:
        raise GostKeyError(f"unsupported GOST R 34.10-2012 parameter set {paramset}")
    return known[0]


def streebog(data: bytes, bits: int = 256) -> bytes:
    """GOST R 34.11-2012 digest of ``data`` (256 or 512 bits), by the active backend."""
    return backend().digest(data, bits)


def streebog256(data: bytes) -> bytes:
    """GOST R 34.11-2012 256-bit digest, in the byte order OpenSSL prints and CMS carries."""
    return backend().digest(data, 256)


def streebog512(data: bytes) -> bytes:
    """GOST R 34.11-2012 512-bit digest, in the byte order OpenSSL prints and CMS carries."""
    return backend().digest(data, 512)


class _AlgorithmIdentifier(core.Sequence):  # type: ignore[misc]  # asn1crypto ships no types
    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class _GostParameters(core.Sequence):  # type: ignore[misc]  # asn1crypto ships no types
    _fields = [  # noqa: RUF012
        ("public_key_paramset", core.ObjectIdentifier),
        ("digest_paramset", core.ObjectIdentifier, {"optional": True}),
    ]


class _PrivateKeyInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto ships no types
    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("algorithm", _AlgorithmIdentifier),
        ("private_key", core.OctetString),
        ("attributes", core.Any, {"implicit": 0, "optional": True}),
    ]


class _SubjectPublicKeyInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto ships no types
    _fields = [  # noqa: RUF012
        ("algorithm", _AlgorithmIdentifier),
        ("public_key", core.OctetBitString),
    ]


def _algorithm(paramset: str) -> _AlgorithmIdentifier:
    key_oid, digest_oid, _ = OIDS_BY_BITS[paramset_bits(paramset)]
    params = _GostParameters({"public_key_paramset": paramset, "digest_paramset": digest_oid})
    return _AlgorithmIdentifier({"algorithm": key_oid, "parameters": params})


def _paramset_of(algorithm: _AlgorithmIdentifier) -> str:
    oid = algorithm["algorithm"].dotted
    if oid not in KEY_BITS:
        raise GostKeyError(f"not a GOST R 34.10-2012 key: {oid}")
    params = _GostParameters.load(algorithm["parameters"].dump())
    paramset = str(params["public_key_paramset"].dotted)
    if paramset_bits(paramset) != KEY_BITS[oid]:
        raise GostKeyError(f"parameter set {paramset} does not fit a {KEY_BITS[oid]}-bit key")
    return paramset


def spki_algorithm(der: bytes) -> str:
    """The algorithm OID of any SubjectPublicKeyInfo (asn1crypto's own class rejects GOST's)."""
    return str(_SubjectPublicKeyInfo.load(der)["algorithm"]["algorithm"].dotted)


def _handles() -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class GostPublicKey:
    """A GOST R 34.10-2012 public key: curve parameter set and point (x, y)."""

    paramset: str
    x: int
    y: int
    #: Backend-specific forms of this key, made once (e.g. OpenSSL's EVP_PKEY).
    handles: dict[str, Any] = field(
        default_factory=_handles, init=False, repr=False, compare=False, hash=False
    )

    @property
    def bits(self) -> int:
        return paramset_bits(self.paramset)

    @property
    def size(self) -> int:
        """Bytes in one coordinate (and in each half of a signature)."""
        return self.bits // 8

    @property
    def algorithm(self) -> str:
        return f"gost2012_{self.bits}"

    def verify(self, data: bytes, signature: bytes) -> bool:
        """True when ``signature`` (OpenSSL layout) signs Streebog of ``data`` under this key."""
        if len(signature) != 2 * self.size:
            return False
        return backend().verify(self, data, signature)

    def spki_der(self) -> bytes:
        """SubjectPublicKeyInfo DER as OpenSSL writes it (OCTET STRING of X‖Y little-endian)."""
        point = self.x.to_bytes(self.size, "little") + self.y.to_bytes(self.size, "little")
        inner = core.OctetString(point).dump()
        info = _SubjectPublicKeyInfo({"algorithm": _algorithm(self.paramset), "public_key": inner})
        return bytes(info.dump())

    @classmethod
    def from_spki_der(cls, der: bytes) -> GostPublicKey:
        """Parse a SubjectPublicKeyInfo holding a GOST R 34.10-2012 key of either size."""
        try:
            info = _SubjectPublicKeyInfo.load(der)
            paramset = _paramset_of(info["algorithm"])
            point = core.OctetString.load(info["public_key"].native).native
        except (ValueError, TypeError) as exc:
            if isinstance(exc, GostKeyError):
                raise
            raise GostKeyError(f"malformed GOST public key: {exc}") from None
        size = paramset_bits(paramset) // 8
        if len(point) != 2 * size:
            raise GostKeyError(f"a {8 * size}-bit GOST public key must be {2 * size} bytes")
        x = int.from_bytes(point[:size], "little")
        y = int.from_bytes(point[size:], "little")
        return cls(paramset, x, y)


@dataclass(frozen=True)
class GostPrivateKey:
    """A GOST R 34.10-2012 private key (256 or 512 bits). ``repr`` never shows the secret."""

    paramset: str
    secret: int = field(repr=False)
    handles: dict[str, Any] = field(
        default_factory=_handles, init=False, repr=False, compare=False, hash=False
    )

    @property
    def bits(self) -> int:
        return paramset_bits(self.paramset)

    @property
    def size(self) -> int:
        return self.bits // 8

    @property
    def algorithm(self) -> str:
        return f"gost2012_{self.bits}"

    @property
    def signature_size(self) -> int:
        return 2 * self.size

    def sign(self, data: bytes) -> bytes:
        """Sign Streebog of ``data``; ``s || r`` in OpenSSL's layout (64 or 128 bytes)."""
        return backend().sign(self, data)

    def public_key(self) -> GostPublicKey:
        """The matching public key."""
        return backend().public_key(self)

    def pkcs8_der(self) -> bytes:
        """PKCS#8 DER exactly as OpenSSL's GOST engine writes it (the secret, little-endian)."""
        info = _PrivateKeyInfo(
            {
                "version": 0,
                "algorithm": _algorithm(self.paramset),
                "private_key": self.secret.to_bytes(self.size, "little"),
            }
        )
        return bytes(info.dump())

    @classmethod
    def from_pkcs8_der(cls, der: bytes) -> GostPrivateKey:
        """Parse PKCS#8 as the GOST engine writes it; also the INTEGER and wrapped forms."""
        try:
            info = _PrivateKeyInfo.load(der)
            paramset = _paramset_of(info["algorithm"])
            secret = _secret_from(info["private_key"].native, paramset_bits(paramset) // 8)
        except (ValueError, TypeError) as exc:
            if isinstance(exc, GostKeyError):
                raise
            raise GostKeyError(f"malformed GOST private key: {exc}") from None
        if not 0 < secret:
            raise GostKeyError("GOST private key is zero")
        return cls(paramset, secret)

    @classmethod
    def generate(cls, paramset: str | None = None, bits: int = 256) -> GostPrivateKey:
        """A fresh random key on ``paramset`` (default: TC26 set A of ``bits``), below the order."""
        chosen = paramset or DEFAULT_PARAMSET.get(bits)
        if chosen is None:
            raise GostKeyError(f"GOST R 34.10-2012 keys are 256 or 512 bits, not {bits}")
        from gosuslugi_adapter.gost_pure import group_order

        return cls(chosen, secrets.randbelow(group_order(chosen) - 1) + 1)


def _secret_from(raw: bytes, size: int) -> int:
    """Private key bytes: bare secret LE (engine), an OCTET STRING of them, or an INTEGER."""
    if len(raw) == size:
        return int.from_bytes(raw, "little")
    if raw[:1] == b"\x04":
        inner = core.OctetString.load(raw).native
        if len(inner) == size:
            return int.from_bytes(inner, "little")
    if raw[:1] == b"\x02":
        return int(core.Integer.load(raw).native)
    raise GostKeyError("unsupported GOST private key encoding (masked keys are not supported)")


_chosen: GostBackend | None = None
_choosing = threading.Lock()


def backend() -> GostBackend:
    """The GOST backend of this process, chosen on first use (see the module docstring)."""
    if _chosen is not None:
        return _chosen
    with _choosing:
        if _chosen is None:
            use_backend(_load("auto"))
    assert _chosen is not None
    return _chosen


def use_backend(chosen: GostBackend) -> GostBackend:
    """Make ``chosen`` the process's backend (start-up and tests); returns the previous one."""
    global _chosen
    previous, _chosen = _chosen, chosen
    return previous or chosen


def load_backend(name: str) -> GostBackend:
    """A backend by name: ``openssl`` (raises :class:`GostBackendError` if it cannot load),
    ``gostcrypto``, or ``auto`` (the engine if it loads, else gostcrypto with a warning)."""
    return _load(name)


def _load(name: str) -> GostBackend:
    from gosuslugi_adapter import gost_native, gost_pure

    if name == "gostcrypto":
        return gost_pure.PURE
    if name == "openssl":
        return gost_native.load()
    if name != "auto":
        raise GostBackendError(f"unknown GOST backend {name!r} (auto, openssl or gostcrypto)")
    try:
        return gost_native.load()
    except GostBackendError as exc:
        log.warning(
            "GOST backend: gostcrypto (pure Python, ~300x slower); OpenSSL's GOST engine "
            "is not available: %s. Install libengine-gost-openssl.",
            exc,
        )
        return gost_pure.PURE
