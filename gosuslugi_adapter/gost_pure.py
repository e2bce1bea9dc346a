"""The pure-Python GOST backend: ``gostcrypto``'s arithmetic in OpenSSL's byte orders.

The fallback where OpenSSL's GOST engine cannot be loaded. Correct but slow (tens of ms per
signature); :mod:`gosuslugi_adapter.gost` says which orders are used and why. ``gostcrypto``
itself speaks ``r || s`` and big-endian digests, so this module converts at the edges:

- the digest is fed to the signature as a *little-endian* number (the Streebog output reversed);
- a signature leaves as ``s || r`` and arrives the same way;
- points and secrets are big-endian for gostcrypto.
"""

from __future__ import annotations

from functools import cache

from gostcrypto import gosthash, gostsignature

from gosuslugi_adapter.gost import (
    PARAMSETS,
    GostKeyError,
    GostPrivateKey,
    GostPublicKey,
    paramset_bits,
)

_HASHES = {256: "streebog256", 512: "streebog512"}
_MODES = {256: gostsignature.MODE_256, 512: gostsignature.MODE_512}


def _curve(paramset: str) -> dict[str, object]:
    paramset_bits(paramset)
    curves: dict[str, dict[str, object]] = gostsignature.CURVES_R_1323565_1_024_2019
    return curves[PARAMSETS[paramset][1]]


def group_order(paramset: str) -> int:
    """The order ``q`` of the curve's point group (a secret must be below it)."""
    return int(str(_curve(paramset)["q"]))


@cache
def _engine(paramset: str) -> gostsignature.GOST34102012:
    """gostcrypto's signer for a curve; it keeps no per-operation state, so one is shared."""
    return gostsignature.new(_MODES[paramset_bits(paramset)], _curve(paramset))


class PureGost:
    """GOST R 34.10-2012 / 34.11-2012 in pure Python (``gostcrypto``)."""

    name = "gostcrypto"
    description = "gostcrypto (pure Python)"

    def digest(self, data: bytes, bits: int) -> bytes:
        if bits not in _HASHES:
            raise GostKeyError(f"Streebog is 256 or 512 bits, not {bits}")
        return bytes(gosthash.new(_HASHES[bits], data=data).digest())

    def _signed_number(self, data: bytes, bits: int) -> bytearray:
        """The Streebog digest as the little-endian number GOST R 34.10 signs (RFC 4491)."""
        return bytearray(self.digest(data, bits)[::-1])

    def sign(self, key: GostPrivateKey, data: bytes) -> bytes:
        secret = bytearray(key.secret.to_bytes(key.size, "big"))
        r_s = _engine(key.paramset).sign(secret, self._signed_number(data, key.bits))
        return bytes(r_s[key.size :] + r_s[: key.size])

    def verify(self, key: GostPublicKey, data: bytes, signature: bytes) -> bool:
        size = key.size
        if len(signature) != 2 * size:
            return False
        r_s = bytearray(signature[size:] + signature[:size])
        point = bytearray(key.x.to_bytes(size, "big") + key.y.to_bytes(size, "big"))
        try:
            digest = self._signed_number(data, key.bits)
            return bool(_engine(key.paramset).verify(point, digest, r_s))
        except gostsignature.GOSTSignatureError:
            return False

    def public_key(self, key: GostPrivateKey) -> GostPublicKey:
        secret = bytearray(key.secret.to_bytes(key.size, "big"))
        point = _engine(key.paramset).public_key_generate(secret)
        x = int.from_bytes(point[: key.size], "big")
        y = int.from_bytes(point[key.size :], "big")
        return GostPublicKey(key.paramset, x, y)


PURE = PureGost()
