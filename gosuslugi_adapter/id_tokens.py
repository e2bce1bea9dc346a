"""Verification of ESIA's access tokens and id_tokens, every check spelled out.

The checks, in order; each failure raises :class:`TokenRejected` naming its ``check``:

``structure``  three base64url parts, header and claims JSON objects, at most 16 KiB.
``alg``        ``RS256`` or ``GOST3410_2012_256`` only — never ``none``, never HMAC (an HMAC
               "signed" with a public certificate would be forgeable by anyone); no ``crit``.
``signature``  valid under one of the configured ESIA certificates (several during rotation)
               whose key fits ``alg``; RS256 through joserfc, GOST by the GOST backend.
``iss``        exactly the pinned issuer (``http://esia.gosuslugi.ru/`` in production).
``exp``        present, a NumericDate, and now < exp + leeway.
``nbf``        present, a NumericDate, and nbf ≤ now + leeway.
``iat``        present, a NumericDate, and iat ≤ now + leeway (not issued in the future).
``aud``        access token: ``client_id`` equals ours; id_token: ``aud`` is ours, alone.
``sbj``        access token: ``urn:esia:sbj_id``; id_token: ``urn:esia:sbj`` → ``urn:esia:sbj:oid``
               (and ``sub``, when present, agrees).
``nonce``      id_token only, when the login sent one. A ``nonce`` claim that is present must
               equal the one sent (constant-time comparison). An id_token *without* ``nonce`` is
               accepted and logged at INFO: production ESIA has not reliably echoed it since
               November 2022 and its operator advised relying parties to stop checking it.
               With ``require_nonce`` (``[esia] require_nonce = true``) it is refused instead.
               ``state``, the single-use login transaction and ESIA's single-use code defend
               against CSRF and replay either way (docs/esia.md, "Nonce").

``iss`` to ``aud`` are checked by joserfc's claims registry (:func:`_claims_registry`, each
option spelled out); ``sbj`` and ``nonce`` are ESIA's own. The leeway is at most 60 s; the
verifier refuses to exist without a certificate, an issuer and a client id.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import ClaimError, JoseError
from joserfc.jwk import RSAKey
from joserfc.jwt import ClaimsOption, JWTClaimsRegistry

from config.settings import EsiaSettings
from gosuslugi_adapter.encoding import b64url_decode
from gosuslugi_adapter.errors import EsiaError
from gosuslugi_adapter.gost import GostPublicKey
from gosuslugi_adapter.key_files import Certificate, KeyLoadError, RsaPublicKey, load_certificate

ALLOWED_ALGORITHMS = ("RS256", "GOST3410_2012_256")
MAX_LEEWAY_SECONDS = 60
MAX_TOKEN_BYTES = 16 * 1024
#: ESIA puts its own fields (``sbt``, ``ver``) in the header; only RS256 goes through joserfc.
RS256_REGISTRY = jws.JWSRegistry(algorithms=["RS256"], strict_check_header=False)

log = logging.getLogger("ediary.esia")


class TokenRejected(EsiaError):
    """A token failed one check; ``check`` names it. Never carries the token itself."""

    def __init__(self, check: str, reason: str) -> None:
        self.check = check
        super().__init__(f"ESIA token refused ({check}): {reason}")


class TokenConfigError(ValueError):
    """The verifier cannot be built safely (no certificate, no issuer, leeway too large)."""


@dataclass(frozen=True)
class VerifiedToken:
    """A token that passed every check: its header, claims and the person's oid."""

    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    oid: str


@dataclass(frozen=True)
class _Parsed:
    raw: str
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


class TokenVerifier:
    """Checks ESIA tokens for one relying party (one ``client_id``)."""

    def __init__(
        self,
        certificates: Sequence[Certificate],
        *,
        issuer: str,
        client_id: str,
        leeway_seconds: int = MAX_LEEWAY_SECONDS,
        require_nonce: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Security: fail closed at construction — a verifier without a certificate could only
        accept everything or nothing, and a long leeway stretches stolen tokens' lives.
        ``require_nonce`` refuses an id_token that does not carry the login's nonce back."""
        if not certificates:
            raise TokenConfigError("at least one ESIA certificate is required (esia.certificates)")
        if not issuer or not client_id:
            raise TokenConfigError("the ESIA issuer and our client_id are required")
        if not 0 <= leeway_seconds <= MAX_LEEWAY_SECONDS:
            raise TokenConfigError(f"leeway must be 0..{MAX_LEEWAY_SECONDS} seconds")
        self._rsa = [
            RSAKey.import_key(c.public_key.key)
            for c in certificates
            if isinstance(c.public_key, RsaPublicKey)
        ]
        self._gost = [c.public_key for c in certificates if isinstance(c.public_key, GostPublicKey)]
        self.issuer = issuer
        self.client_id = client_id
        self.leeway = leeway_seconds
        self.require_nonce = require_nonce
        self._clock = clock

    @classmethod
    def from_settings(cls, esia: EsiaSettings) -> TokenVerifier:
        """The verifier the ``[esia]`` settings describe; refuses to start without certificates."""
        try:
            certificates = [load_certificate(path) for path in esia.certificates]
        except KeyLoadError as exc:
            raise TokenConfigError(str(exc)) from None
        return cls(
            certificates,
            issuer=esia.issuer,
            client_id=esia.client_id,
            leeway_seconds=esia.leeway_seconds,
            require_nonce=esia.require_nonce,
        )

    def verify_access_token(self, token: str) -> VerifiedToken:
        """Every check for an access token; returns its claims and ``urn:esia:sbj_id``."""
        parsed = self._common(token, client_id={"essential": True, "value": self.client_id})
        oid = _positive_oid(parsed.claims.get("urn:esia:sbj_id"), "urn:esia:sbj_id")
        return VerifiedToken(parsed.header, parsed.claims, oid)

    def verify_id_token(self, token: str, nonce: str | None = None) -> VerifiedToken:
        """Every check for an id_token; returns its claims and ``urn:esia:sbj:oid``.

        ``nonce`` is the one the login sent; None (no login, e.g. a refresh) checks nothing."""
        parsed = self._common(token, aud={"essential": True, "value": self.client_id})
        oid = _id_token_oid(parsed.claims)
        _check_nonce(parsed.claims, nonce, required=self.require_nonce)
        return VerifiedToken(parsed.header, parsed.claims, oid)

    def _common(self, token: str, **audience: ClaimsOption) -> _Parsed:
        """Structure, algorithm and signature, then the registered claims: ``iss``, the times
        and ``audience`` (``aud`` of an id_token, ``client_id`` of an access token)."""
        parsed = _split(token)
        _check_algorithm(parsed.header)
        self._check_signature(parsed)
        registry = _claims_registry(self.issuer, self.leeway, int(self._clock()), **audience)
        try:
            registry.validate(parsed.claims)
        except ClaimError as exc:
            check = _check_of(exc.claim)
            reason = exc.description
            if check == "iss":  # what the operator needs to see to fix esia.issuer
                reason += f": {parsed.claims.get('iss')!r} is not {self.issuer!r}"
            raise TokenRejected(check, reason) from None
        return parsed

    def _check_signature(self, parsed: _Parsed) -> None:
        if parsed.header["alg"] == "RS256":
            ok = any(_rs256_ok(parsed.raw, key) for key in self._rsa)
        else:
            ok = any(key.verify(parsed.signing_input, parsed.signature) for key in self._gost)
        if not ok:
            raise TokenRejected("signature", "no configured ESIA certificate verifies it")


def _split(token: str) -> _Parsed:
    if not isinstance(token, str) or len(token) > MAX_TOKEN_BYTES:
        raise TokenRejected("structure", "not a token of acceptable size")
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRejected("structure", "a JWS in compact form has three parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError):
        raise TokenRejected("structure", "a part is not base64url JSON") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenRejected("structure", "header and claims must be JSON objects")
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    return _Parsed(token, header, claims, signing_input, signature)


def _check_algorithm(header: Mapping[str, Any]) -> None:
    """Security: the allow-list is checked before any key is touched (no alg confusion)."""
    if header.get("alg") not in ALLOWED_ALGORITHMS:
        raise TokenRejected("alg", f"algorithm {header.get('alg')!r} is not allowed")
    if "crit" in header:
        raise TokenRejected("alg", "critical header extensions are not supported")


def _rs256_ok(token: str, key: RSAKey) -> bool:
    try:
        jws.deserialize_compact(token, key, algorithms=["RS256"], registry=RS256_REGISTRY)
    except (JoseError, ValueError):
        return False
    return True


class _EsiaClaims(JWTClaimsRegistry):
    """joserfc's registry, stricter where ESIA's tokens are: ``aud`` and ``client_id`` name
    one client (a token for several would need ``azp``, which ESIA never sends)."""

    def validate_aud(self, value: object) -> None:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str):
            raise ClaimError("aud", "the token names more than one audience")
        super().validate_aud(value)

    def validate_sub(self, value: object) -> None:
        """ESIA's ``sub`` is the person's oid as a number, not a StringOrURI: the ``sbj``
        check compares it with ``urn:esia:sbj:oid`` (:func:`_id_token_oid`)."""

    def validate_client_id(self, value: object) -> None:
        if not isinstance(value, str):
            raise ClaimError("client_id", "client_id must be a string")
        self.check_value("client_id", value)


#: joserfc names the claim that failed; the check it belongs to (see the module's table).
_CHECKS = {"client_id": "aud"}
#: The order of the checks, for a token missing several claims at once.
_ORDER = ("iss", "exp", "nbf", "iat", "aud", "client_id")


def _check_of(claims: str) -> str:
    """The check a joserfc claim error belongs to (several missing claims: the first)."""
    names = claims.split(",")
    first = min(names, key=lambda n: _ORDER.index(n) if n in _ORDER else len(_ORDER))
    return _CHECKS.get(first, first)


def _claims_registry(
    issuer: str, leeway: int, now: int, **audience: ClaimsOption
) -> JWTClaimsRegistry:
    """Every registered claim an ESIA token must carry, and what it must say."""
    return _EsiaClaims(
        now=now,
        leeway=leeway,
        iss={"essential": True, "value": issuer},
        exp={"essential": True},
        nbf={"essential": True},
        iat={"essential": True},
        **audience,
    )


def _positive_oid(value: Any, name: str) -> str:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or int(text) <= 0:
        raise TokenRejected("sbj", f"{name} is missing or not a person oid")
    return str(int(text))


def _id_token_oid(claims: Mapping[str, Any]) -> str:
    subject = claims.get("urn:esia:sbj")
    if not isinstance(subject, dict):
        raise TokenRejected("sbj", "urn:esia:sbj is missing")
    oid = _positive_oid(subject.get("urn:esia:sbj:oid"), "urn:esia:sbj:oid")
    if "sub" in claims and str(claims["sub"]) != oid:
        raise TokenRejected("sbj", "sub and urn:esia:sbj:oid disagree")
    return oid


def _check_nonce(claims: Mapping[str, Any], sent: str | None, *, required: bool) -> None:
    """Security: a nonce that is there must be ours (compared in constant time); one that is
    missing is ESIA's normal behaviour since November 2022, accepted unless ``required``."""
    if sent is None:  # no login sent one (a refresh): nothing it could be bound to
        return
    carried = claims.get("nonce")
    if carried is None:
        if required:
            raise TokenRejected("nonce", "the id_token carries no nonce and require_nonce is on")
        log.info("ESIA id_token carries no nonce; accepted (esia.require_nonce is off)")
        return
    if not isinstance(carried, str) or not hmac.compare_digest(
        carried.encode("utf-8"), sent.encode("utf-8")
    ):
        raise TokenRejected("nonce", "the id_token's nonce is not the one this login sent")
