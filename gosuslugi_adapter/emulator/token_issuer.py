"""Tokens the emulator issues: ESIA's claim layout, signed RS256 (default) or GOST3410_2012_256."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from joserfc import jws
from joserfc.jwk import RSAKey

from gosuslugi_adapter.encoding import b64url, b64url_decode
from gosuslugi_adapter.gost import GostPrivateKey
from gosuslugi_adapter.id_tokens import RS256_REGISTRY
from gosuslugi_adapter.key_files import (
    Certificate,
    PrivateKey,
    RsaPrivateKey,
    key_matches_certificate,
)

if TYPE_CHECKING:
    from gosuslugi_adapter.emulator.core import Grant, Switches

ESIA_ISSUER = "http://esia.gosuslugi.ru/"
WRONG_ISSUER = "http://esia.evil.example/"
LIFETIME = 3600


class TokenIssuer:
    """Signs the emulator's tokens; ``certificate`` is what relying parties verify them with."""

    def __init__(self, key: PrivateKey, certificate: Certificate, issuer: str = ESIA_ISSUER):
        if not key_matches_certificate(key, certificate):
            raise ValueError("the token key does not belong to the token certificate")
        self.algorithm = "RS256" if isinstance(key, RsaPrivateKey) else "GOST3410_2012_256"
        self.certificate = certificate
        self.issuer = issuer
        self._key = key
        self._jwk = RSAKey.import_key(key.key) if isinstance(key, RsaPrivateKey) else None
        self.key_id = certificate.streebog_hex[:16]

    def _sign(self, kind: str, claims: dict[str, Any], switches: Switches) -> str:
        header = {"alg": self.algorithm, "typ": "JWT", "sbt": kind, "ver": 1, "kid": self.key_id}
        payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()
        if self._jwk is not None:
            token = jws.serialize_compact(header, payload, self._jwk, registry=RS256_REGISTRY)
        else:
            token = self._sign_gost(header, payload)
        return _corrupt(token) if switches.bad_token_signature else token

    def _sign_gost(self, header: dict[str, Any], payload: bytes) -> str:
        assert isinstance(self._key, GostPrivateKey)
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(payload)
        return signing_input + "." + b64url(self._key.sign(signing_input.encode()))

    def _times(self, now: float, switches: Switches) -> dict[str, int]:
        start = int(now) - (2 * LIFETIME if switches.expired_token else 0)
        return {"nbf": start, "iat": start, "exp": start + LIFETIME}

    def _iss(self, switches: Switches) -> str:
        return WRONG_ISSUER if switches.wrong_issuer else self.issuer

    def access_token(self, grant: Grant, now: float, switches: Switches) -> str:
        """ESIA's access token: scope with ``?oid=``, ``urn:esia:sbj_id``, ``client_id``."""
        scopes = " ".join(
            s if s == "openid" else f"{s}?oid={grant.oid}" for s in grant.scope.split()
        )
        claims = {
            **self._times(now, switches),
            "scope": scopes,
            "iss": self._iss(switches),
            "urn:esia:sid": str(uuid.uuid4()),
            "urn:esia:sbj_id": int(grant.oid),
            "client_id": grant.client_id,
        }
        return self._sign("access", claims, switches)

    def id_token(
        self,
        grant: Grant,
        trusted: bool,
        now: float,
        switches: Switches,
        *,
        nonce: str | None = None,
    ) -> str:
        """ESIA's id_token: ``aud``, ``sub``, ``urn:esia:sbj`` with type, trust flag and oid;
        ``nonce`` only when given (production ESIA leaves it out; the emulator decides)."""
        times = self._times(now, switches)
        claims: dict[str, Any] = {
            "aud": grant.client_id,
            "sub": int(grant.oid),
            **times,
            "amr": "PWD",
            "urn:esia:amd": "PWD",
            "auth_time": times["iat"],
            "iss": self._iss(switches),
            "urn:esia:sid": str(uuid.uuid4()),
            "urn:esia:sbj": {
                "urn:esia:sbj:typ": "P",
                "urn:esia:sbj:is_tru": trusted,
                "urn:esia:sbj:oid": int(grant.oid),
                "urn:esia:sbj:nam": f"OID.{grant.oid}",
            },
        }
        if nonce is not None:
            claims["nonce"] = nonce
        return self._sign("id", claims, switches)


def _corrupt(token: str) -> str:
    """The same token with one signature byte flipped."""
    head, payload, signature = token.split(".")
    raw = bytearray(b64url_decode(signature))
    raw[len(raw) // 2] ^= 0x01 + secrets.randbelow(0xFE)
    return f"{head}.{payload}.{b64url(bytes(raw))}"
