"""``POST /portal/oauth/token``: OAuth 2.0 client credentials, the client authenticated by a
signed JWT assertion (``private_key_jwt``, RFC 7523 §2.2 and §3).

Every check below fails closed with ``invalid_client`` (401) and a message naming the check;
an unknown client and a wrong key answer alike.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.portal import bearer_tokens, problems
from gateway.portal.clients import Client, find_client

TOKEN_PATH = "/portal/oauth/token"  # noqa: S105 - a path, not a secret
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Asymmetric algorithms only: never ``none``, never HMAC (a shared secret is not a key the
#: client registered with us).
ALLOWED_ALGS = ("RS256", "PS256", "ES256")
MAX_ASSERTION_LIFETIME = timedelta(minutes=5)
LEEWAY = timedelta(seconds=60)
MAX_ASSERTION_BYTES = 8192


def _refuse(detail: str) -> problems.Problem:
    return problems.oauth(401, "invalid_client", detail)


def _b64json(part: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise _refuse(f"утверждение клиента (client_assertion) не является JWT: {exc}") from None
    if not isinstance(value, dict):
        raise _refuse("утверждение клиента (client_assertion) не является JWT")
    return value


def unverified_parts(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims before verification: only to pick the client and its key."""
    parts = assertion.split(".")
    if len(parts) != 3 or len(assertion) > MAX_ASSERTION_BYTES:
        raise _refuse("утверждение клиента (client_assertion) не является компактным JWS")
    header = _b64json(parts[0])
    if header.get("alg") not in ALLOWED_ALGS:
        raise _refuse(
            f"алгоритм {header.get('alg')!r} не допускается; допустимы: {', '.join(ALLOWED_ALGS)}"
        )
    return header, _b64json(parts[1])


def _candidates(jwks: dict[str, Any], header: dict[str, Any]) -> list[RSAKey | ECKey]:
    """The registered keys that may have signed it: the one named by ``kid``, else every
    key of the algorithm's type."""
    kty = "EC" if header["alg"].startswith("ES") else "RSA"
    keys = [k for k in jwks.get("keys", []) if k.get("kty") == kty]
    if "kid" in header:
        keys = [k for k in keys if k.get("kid") == header["kid"]]
    return [RSAKey.import_key(k) if kty == "RSA" else ECKey.import_key(k) for k in keys]


def verify_signature(assertion: str, jwks: dict[str, Any], header: dict[str, Any]) -> None:
    """The assertion is signed by one of the client's registered keys."""
    for key in _candidates(jwks, header):
        try:
            jws.deserialize_compact(assertion, key, algorithms=[header["alg"]])
            return
        except JoseError:
            continue
    raise _refuse("подпись утверждения не проверяется ключами, зарегистрированными для клиента")


def _time(claims: dict[str, Any], name: str) -> datetime | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(f"поле {name} должно быть числом секунд (NumericDate)")
    return datetime.fromtimestamp(value, UTC)


def check_claims(claims: dict[str, Any], client_id: str, audience: str, now: datetime) -> None:
    """RFC 7523 §3: iss = sub = the client; aud = this token endpoint; exp present and at
    most five minutes ahead; nbf and iat not in the future; a jti to make it single-use.
    Clock skew of at most 60 s is tolerated."""
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise _refuse("поля iss и sub должны совпадать с client_id")
    aud = claims.get("aud")
    if audience not in (aud if isinstance(aud, list) else [aud]):
        raise _refuse(f"поле aud должно быть адресом точки выдачи маркеров: {audience}")
    exp = _time(claims, "exp")
    if exp is None:
        raise _refuse("нет поля exp (срок действия утверждения)")
    if exp <= now - LEEWAY:
        raise _refuse("срок действия утверждения истёк")
    if exp > now + MAX_ASSERTION_LIFETIME + LEEWAY:
        raise _refuse("срок действия утверждения больше 5 минут")
    for name in ("nbf", "iat"):
        at = _time(claims, name)
        if at is not None and at > now + LEEWAY:
            raise _refuse(f"поле {name} указывает в будущее")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 200:
        raise _refuse("нет поля jti (или оно длиннее 200 символов)")


async def authenticate_client(
    session: AsyncSession, assertion: str, audience: str, now: datetime
) -> Client:
    """The client that signed ``assertion``, its jti now used up."""
    header, claims = unverified_parts(assertion)
    found = await find_client(session, str(claims.get("iss", "")))
    if found is None:
        raise _refuse("подпись утверждения не проверяется ключами, зарегистрированными для клиента")
    client, jwks = found
    verify_signature(assertion, jwks, header)
    check_claims(claims, client.client_id, audience, now)
    expires = _time(claims, "exp") or now
    if not await bearer_tokens.use_assertion_id(session, client, claims["jti"], expires + LEEWAY):
        raise _refuse("это утверждение уже использовано (повтор jti)")
    return client


def granted_scopes(client: Client, requested: str | None) -> frozenset[str]:
    """The requested scopes (all registered ones if none asked for), each registered."""
    if requested is None or not requested.strip():
        return client.scopes
    asked = frozenset(requested.split())
    extra = asked - client.scopes
    if extra:
        raise problems.oauth(
            400, "invalid_scope", f"клиенту не разрешены области: {' '.join(sorted(extra))}"
        )
    return asked


def check_form(form: Any) -> str:
    """The grant and assertion type; returns the assertion."""
    if form.get("grant_type") != "client_credentials":
        raise problems.oauth(
            400, "unsupported_grant_type", "поддерживается только grant_type=client_credentials"
        )
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise problems.oauth(
            400, "invalid_request", f"client_assertion_type должен быть {ASSERTION_TYPE}"
        )
    assertion = form.get("client_assertion")
    if not isinstance(assertion, str) or not assertion:
        raise problems.oauth(400, "invalid_request", "нет client_assertion")
    return assertion


def token_response(token: str, scopes: frozenset[str], lifetime: int) -> web.Response:
    return web.json_response(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": " ".join(sorted(scopes)),
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
