"""``POST /portal/oauth/token``: OAuth 2.0 client credentials, the client authenticated by a
signed JWT assertion (``private_key_jwt``, RFC 7523 §2.2 and §3).

The protocol is Authlib's: the assertion is read and checked by a
:class:`~authlib.oauth2.rfc7523.JWTBearerClientAssertion` (its signature by joserfc, its
claims by joserfc's claims registry, every option spelled out), the refusals are Authlib's
RFC 6749 §5.2 errors and the answer is Authlib's RFC 6750 bearer token response. What is the
portal's own: the clock (the application's, not the wall clock), the allowed algorithms, the
five-minute lifetime, the single-use ``jti`` kept in the database, and Russian messages.

Every check below fails closed with ``invalid_client`` (401) and a message naming the check;
an unknown client and a wrong key answer alike.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from authlib.consts import default_json_headers
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    UnsupportedGrantTypeError,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.portal import bearer_tokens, problems
from gateway.portal.clients import Client, find_client

TOKEN_PATH = "/portal/oauth/token"  # noqa: S105 - a path, not a secret
ASSERTION_TYPE = JWTBearerClientAssertion.CLIENT_ASSERTION_TYPE
#: Asymmetric algorithms only: never ``none``, never HMAC (a shared secret is not a key the
#: client registered with us).
ALLOWED_ALGS = ("RS256", "PS256", "ES256")
MAX_ASSERTION_LIFETIME = timedelta(minutes=5)
LEEWAY = timedelta(seconds=60)
MAX_ASSERTION_BYTES = 8192
MAX_JTI_LENGTH = 200

NOT_A_JWT = "утверждение клиента (client_assertion) не является компактным JWS"
WRONG_KEY = "подпись утверждения не проверяется ключами, зарегистрированными для клиента"
ISS_SUB = "поля iss и sub должны совпадать с client_id"
NO_JTI = f"нет поля jti (или оно длиннее {MAX_JTI_LENGTH} символов)"


def _problem(error: OAuth2Error, detail: str) -> problems.Problem:
    """Authlib's RFC 6749 error (its ``error`` code and status) as the portal's problem, with
    ``detail`` saying in Russian what is wrong."""
    return problems.oauth(error.status_code or 400, error.error or "invalid_request", detail)


def _refuse(detail: str) -> problems.Problem:
    """``invalid_client``, answered 401 with ``WWW-Authenticate`` (RFC 6749 §5.2)."""
    return _problem(InvalidClientError(status_code=401), detail)


def _claim_refusal(exc: ClaimError, claims: Mapping[str, Any], audience: str) -> str:
    """The Russian message for the claim joserfc's registry refused."""
    name = exc.claim.split(",")[0]  # several missing: name the first, as the table reads
    if name in ("iss", "sub"):
        return ISS_SUB
    if name == "aud":
        return f"поле aud должно быть адресом точки выдачи маркеров: {audience}"
    if name == "jti":
        return NO_JTI
    if isinstance(exc, ExpiredTokenError):
        return "срок действия утверждения истёк"
    if isinstance(exc, MissingClaimError):  # exp, the one essential time
        return "нет поля exp (срок действия утверждения)"
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"поле {name} должно быть числом секунд (NumericDate)"
    return f"поле {name} указывает в будущее"


class PortalClientAssertion(JWTBearerClientAssertion):
    """RFC 7523 client authentication at the portal's token endpoint, as of ``now``.

    Authlib's assertion checks with the portal's choices: the algorithms allowed, the
    application's clock, ``jti`` required (its single use is recorded by the caller, in the
    database: Authlib's ``validate_jti`` hook is synchronous) and at most five minutes of
    lifetime."""

    def __init__(self, audience: str, now: datetime) -> None:
        super().__init__(validate_jti=False, leeway=int(LEEWAY.total_seconds()))
        self.audience = audience
        self.now = now

    def get_audiences(self) -> list[str]:
        return [self.audience]

    def process_assertion_claims(
        self, assertion: str, resolve_key: list[RSAKey | ECKey]
    ) -> dict[str, Any]:
        """The claims of ``assertion`` signed by one of the candidate keys, checked."""
        for key in resolve_key:
            try:
                token = jwt.decode(assertion, key, algorithms=list(ALLOWED_ALGS))
            except JoseError:
                continue
            claims = dict(token.claims)
            self.verify_claims(claims)
            return claims
        raise _refuse(WRONG_KEY)

    def verify_claims(self, claims: dict[str, Any]) -> None:
        """RFC 7523 §3: iss = sub = the client; aud = this token endpoint; exp present and at
        most five minutes ahead; nbf and iat not in the future; a jti to make it single-use.
        Clock skew of at most 60 s is tolerated."""
        registry = jwt.JWTClaimsRegistry(
            now=int(self.now.timestamp()),
            leeway=self.leeway,
            iss={"essential": True},
            sub={"essential": True},
            aud={"essential": True, "values": self.get_audiences()},
            exp={"essential": True},
            jti={"essential": True},
        )
        try:
            registry.validate(claims)
        except ClaimError as exc:
            raise _refuse(_claim_refusal(exc, claims, self.audience)) from None
        if claims["sub"] != claims["iss"]:
            raise _refuse(ISS_SUB)
        if len(claims["jti"]) > MAX_JTI_LENGTH:
            raise _refuse(NO_JTI)
        latest = self.now + MAX_ASSERTION_LIFETIME + LEEWAY
        if claims["exp"] > latest.timestamp():  # a number: no date overflows
            raise _refuse("срок действия утверждения больше 5 минут")


#: Reads an assertion before anything is known of its client (no audience, no clock).
_READER = JWTBearerClientAssertion(validate_jti=False)


def _time(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def unverified_parts(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims before verification: only to pick the client and its key (and for
    the audit to name the claimed client)."""
    if len(assertion) > MAX_ASSERTION_BYTES:
        raise _refuse(NOT_A_JWT)
    try:
        header, claims = _READER.extract_assertion(assertion)
    except InvalidClientError:
        raise _refuse(NOT_A_JWT) from None
    if header.get("alg") not in ALLOWED_ALGS:
        raise _refuse(
            f"алгоритм {header.get('alg')!r} не допускается; допустимы: {', '.join(ALLOWED_ALGS)}"
        )
    return dict(header), claims


def _candidates(jwks: dict[str, Any], header: dict[str, Any]) -> list[RSAKey | ECKey]:
    """The registered keys that may have signed it: the one named by ``kid``, else every
    key of the algorithm's type."""
    kty = "EC" if header["alg"].startswith("ES") else "RSA"
    keys = [k for k in jwks.get("keys", []) if k.get("kty") == kty]
    if "kid" in header:
        keys = [k for k in keys if k.get("kid") == header["kid"]]
    return [RSAKey.import_key(k) if kty == "RSA" else ECKey.import_key(k) for k in keys]


async def authenticate_client(
    session: AsyncSession, assertion: str, audience: str, now: datetime
) -> Client:
    """The client that signed ``assertion``, its jti now used up."""
    method = PortalClientAssertion(audience, now)
    header, unverified = unverified_parts(assertion)
    found = await find_client(session, str(unverified.get("iss", "")))
    if found is None:
        raise _refuse(WRONG_KEY)
    client, jwks = found
    claims = method.process_assertion_claims(assertion, _candidates(jwks, header))
    if claims["iss"] != client.client_id:  # signed by this client's key for another one
        raise _refuse(ISS_SUB)
    expires = _time(claims["exp"]) + LEEWAY
    if not await bearer_tokens.use_assertion_id(session, client, claims["jti"], expires):
        raise _refuse("это утверждение уже использовано (повтор jti)")
    return client


def granted_scopes(client: Client, requested: str | None) -> frozenset[str]:
    """The requested scopes (all registered ones if none asked for), each registered."""
    if requested is None or not requested.strip():
        return client.scopes
    asked = frozenset(requested.split())
    extra = asked - client.scopes
    if extra:
        detail = f"клиенту не разрешены области: {' '.join(sorted(extra))}"
        raise _problem(InvalidScopeError(), detail)
    return asked


def check_form(form: Any) -> str:
    """The grant and assertion type; returns the assertion."""
    grant_type = form.get("grant_type")
    if grant_type != "client_credentials":
        detail = "поддерживается только grant_type=client_credentials"
        raise _problem(UnsupportedGrantTypeError(grant_type), detail)
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        detail = f"client_assertion_type должен быть {ASSERTION_TYPE}"
        raise _problem(InvalidRequestError(), detail)
    assertion = form.get("client_assertion")
    if not isinstance(assertion, str) or not assertion:
        raise _problem(InvalidRequestError(), "нет client_assertion")
    return assertion


class _Granted(ClientMixin):
    """The client as Authlib's token generator asks about it: the scopes it was granted
    (:func:`granted_scopes`)."""

    def __init__(self, scopes: frozenset[str]) -> None:
        self.scope = " ".join(sorted(scopes))

    def get_allowed_scope(self, scope: Collection[str] | str) -> str:
        return self.scope


def token_response(token: str, scopes: frozenset[str], lifetime: int) -> web.Response:
    """Authlib's RFC 6750 bearer token response for ``token``, already issued
    (:func:`bearer_tokens.issue_token` keeps its hash); no refresh token."""
    generator = BearerTokenGenerator(access_token_generator=lambda **_: token)
    body = generator.generate(
        "client_credentials", _Granted(scopes), expires_in=lifetime, include_refresh_token=False
    )
    return web.Response(body=json.dumps(body).encode(), headers=dict(default_json_headers))
