"""``EsiaClient``: the relying-party side of ESIA's OAuth 2.0 / OpenID Connect, both generations.

- v1: ``/aas/oauth2/ac`` and ``/aas/oauth2/te``; signed text ``scope + timestamp + client_id +
  state``; client_secret a detached CMS, base64url.
- v2/v3: ``/aas/oauth2/v2/ac`` and ``/aas/oauth2/v3/te``; signed text ``client_id + scope +
  timestamp + state + redirect_uri`` (token by code: ``+ code``); client_secret the raw
  signature, base64url without padding; plus ``client_certificate_hash``.

A refresh on v2/v3 signs ``… + redirect_uri + refresh_token`` (the code's place).

Typical use (the gateway's login handlers)::

    request = await client.authorization_request()        # remember request.state
    ... redirect the browser to request.url ...
    code = client.parse_callback(callback_query, expected_state=request.state)
    tokens = await client.exchange_code(code)             # tokens verified, state checked
    identity = await client.identity(tokens)              # neutral EsiaIdentity
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Self
from urllib.parse import quote, urlencode

import aiohttp

from config.settings import Settings
from gosuslugi_adapter.encoding import b64url
from gosuslugi_adapter.errors import (
    EsiaAuthorizationError,
    EsiaProtocolError,
    EsiaStateMismatch,
    EsiaTimeout,
    EsiaTokenError,
    EsiaUnavailable,
)
from gosuslugi_adapter.id_tokens import TokenRejected, TokenVerifier
from gosuslugi_adapter.identity import EsiaIdentity, identity_from_json
from gosuslugi_adapter.signers import SignatureForm, Signer, signer_from_settings
from gosuslugi_adapter.timestamps import format_timestamp

DEFAULT_SCOPES = "openid fullname birthdate snils kid_fullname kid_birthdate kid_snils"


class EsiaProtocol(StrEnum):
    """The protocol generation: ``v1`` (legacy) or ``v2`` (v2 authorization, v3 token)."""

    V1 = "v1"
    V2 = "v2"


_PATHS = {
    EsiaProtocol.V1: ("/aas/oauth2/ac", "/aas/oauth2/te"),
    EsiaProtocol.V2: ("/aas/oauth2/v2/ac", "/aas/oauth2/v3/te"),
}


def signed_text(
    protocol: EsiaProtocol,
    *,
    client_id: str,
    scope: str,
    timestamp: str,
    state: str,
    redirect_uri: str,
    grant: str = "",
) -> str:
    """The text ESIA expects signed: the concatenation order differs per generation.

    ``grant`` (the code, or the refresh token) is only part of the v2/v3 token request's text.
    """
    if protocol is EsiaProtocol.V1:
        return scope + timestamp + client_id + state
    return client_id + scope + timestamp + state + redirect_uri + grant


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and the ``state`` (and ``nonce``) to expect back."""

    url: str
    state: str
    timestamp: str
    nonce: str | None = None


@dataclass(frozen=True)
class EsiaTokens:
    """Verified tokens. ``repr`` never shows them."""

    oid: str
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False, default="")
    id_token: str = field(repr=False, default="")
    expires_in: int = 0
    access_claims: Mapping[str, Any] = field(repr=False, default_factory=dict)
    id_claims: Mapping[str, Any] = field(repr=False, default_factory=dict)


class EsiaClient:
    """Async ESIA client for one relying party."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        redirect_uri: str,
        signer: Signer,
        verifier: TokenVerifier,
        protocol: EsiaProtocol | str = EsiaProtocol.V2,
        scopes: str = DEFAULT_SCOPES,
        session: aiohttp.ClientSession | None = None,
        timeout_seconds: float = 15.0,
    ) -> None:
        """``verifier`` is required: tokens are never used unverified."""
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.signer = signer
        self.verifier = verifier
        self.protocol = EsiaProtocol(protocol)
        self.scope = " ".join(scopes.split())
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    @classmethod
    def from_settings(
        cls, settings: Settings, session: aiohttp.ClientSession | None = None
    ) -> EsiaClient:
        """The client the settings describe (signer and verifier included; fails closed)."""
        esia = settings.esia
        return cls(
            base_url=esia.base_url,
            client_id=esia.client_id,
            redirect_uri=settings.server.esia_redirect_uri,
            signer=signer_from_settings(esia),
            verifier=TokenVerifier.from_settings(esia),
            protocol=esia.protocol,
            scopes=esia.scopes,
            session=session,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def _secret(self, text: str) -> str:
        if self.protocol is EsiaProtocol.V1:
            return b64url(await self.signer.sign(text.encode(), SignatureForm.CMS), padded=True)
        return b64url(await self.signer.sign(text.encode(), SignatureForm.RAW))

    async def _signed_params(self, state: str, grant: str = "") -> dict[str, str]:
        timestamp = format_timestamp()
        text = signed_text(
            self.protocol,
            client_id=self.client_id,
            scope=self.scope,
            timestamp=timestamp,
            state=state,
            redirect_uri=self.redirect_uri,
            grant=grant,
        )
        params = {
            "client_id": self.client_id,
            "client_secret": await self._secret(text),
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": state,
            "timestamp": timestamp,
        }
        if self.protocol is EsiaProtocol.V2:
            params["client_certificate_hash"] = self.signer.certificate_hash
        return params

    async def authorization_request(self, nonce: str | None = None) -> AuthorizationRequest:
        """A signed authorization URL with a fresh UUID ``state`` (offline access requested)."""
        state = str(uuid.uuid4())
        params = await self._signed_params(state)
        params.update(response_type="code", access_type="offline")
        if nonce is not None:
            params["nonce"] = nonce
        path = _PATHS[self.protocol][0]
        url = f"{self.base_url}{path}?{urlencode(params, quote_via=quote)}"
        return AuthorizationRequest(url, state, params["timestamp"], nonce)

    def parse_callback(self, query: Mapping[str, str], expected_state: str) -> str:
        """The authorization code from ESIA's redirect to us.

        An ``error`` becomes a typed :class:`EsiaAuthorizationError` whose message says what the
        ESIA code means. Security: the echoed ``state`` must be exactly the one this browser's
        login sent, else the redirect may be an attacker's (login CSRF).
        """
        if "error" in query:
            raise EsiaAuthorizationError.from_fields(query)
        _check_state(query.get("state"), expected_state)
        code = query.get("code")
        if not code:
            raise EsiaProtocolError("ESIA redirected back without a code")
        return code

    async def exchange_code(self, code: str, nonce: str | None = None) -> EsiaTokens:
        """Trade the code for tokens (a new ``state``, checked when echoed), then verify them."""
        body = await self._token_request("authorization_code", code)
        return self._verified(body, nonce, require_id_token="openid" in self.scope.split())

    async def refresh(self, refresh_token: str) -> EsiaTokens:
        """New tokens from a refresh token (requested with ``access_type=offline``)."""
        body = await self._token_request("refresh_token", refresh_token)
        return self._verified(body, None, require_id_token=False)

    async def _token_request(self, grant_type: str, grant: str) -> Mapping[str, Any]:
        state = str(uuid.uuid4())
        form = await self._signed_params(state, grant)
        form.update(grant_type=grant_type, token_type="Bearer")  # noqa: S106 - a type, not a secret
        form["code" if grant_type == "authorization_code" else "refresh_token"] = grant
        url = self.base_url + _PATHS[self.protocol][1]
        async with _reaching("token endpoint"), self._http().post(url, data=form) as response:
            body = await _json_or_none(response)
            if response.status != 200 or body is None or "error" in body:
                raise _token_error(response.status, body)
        _check_state(body.get("state"), state)
        return body

    def _verified(
        self, body: Mapping[str, Any], nonce: str | None, *, require_id_token: bool
    ) -> EsiaTokens:
        access_token = body.get("access_token")
        if not isinstance(access_token, str):
            raise EsiaProtocolError("ESIA's token response has no access_token")
        access = self.verifier.verify_access_token(access_token)
        id_token = body.get("id_token") or ""
        id_claims: Mapping[str, Any] = {}
        if id_token or require_id_token:
            verified_id = self.verifier.verify_id_token(str(id_token), nonce)
            if verified_id.oid != access.oid:
                raise TokenRejected("sbj", "access token and id_token name different persons")
            id_claims = verified_id.claims
        expires_in = body.get("expires_in")
        return EsiaTokens(
            oid=access.oid,
            access_token=access_token,
            refresh_token=str(body.get("refresh_token") or ""),
            id_token=str(id_token),
            expires_in=expires_in if isinstance(expires_in, int) else 0,
            access_claims=access.claims,
            id_claims=id_claims,
        )

    def logout_url(self, redirect_url: str) -> str:
        """ESIA's single sign-out, returning the browser to ``redirect_url``."""
        query = urlencode(
            {"client_id": self.client_id, "redirect_url": redirect_url}, quote_via=quote
        )
        return f"{self.base_url}/idp/ext/Logout?{query}"

    async def _rest(self, tokens: EsiaTokens, suffix: str = "") -> Mapping[str, Any]:
        url = f"{self.base_url}/rs/prns/{tokens.oid}{suffix}"
        headers = {"Authorization": f"Bearer {tokens.access_token}"}
        async with _reaching("REST API"), self._http().get(url, headers=headers) as response:
            body = await _json_or_none(response)
            if response.status >= 500:
                raise EsiaUnavailable(f"ESIA REST {suffix or '/'} answered HTTP {response.status}")
            if response.status != 200 or body is None:
                raise EsiaProtocolError(f"ESIA REST {suffix or '/'} answered {response.status}")
        return body

    async def person(self, tokens: EsiaTokens) -> Mapping[str, Any]:
        """``/rs/prns/{oid}``: names, birth date, gender, SNILS, ``trusted``."""
        return await self._rest(tokens)

    async def contacts(self, tokens: EsiaTokens) -> list[Mapping[str, Any]]:
        """``/rs/prns/{oid}/ctts?embed=(elements)``: e-mail (``EML``), mobile (``MBT``), …"""
        return _elements(await self._rest(tokens, "/ctts?embed=(elements)"))

    async def children(self, tokens: EsiaTokens) -> list[Mapping[str, Any]]:
        """``/rs/prns/{oid}/kids?embed=(elements)``: the person's children."""
        return _elements(await self._rest(tokens, "/kids?embed=(elements)"))

    async def identity(self, tokens: EsiaTokens) -> EsiaIdentity:
        """The neutral identity record; contacts and kids only when their scopes were asked."""
        scopes = set(self.scope.split())
        person = await self.person(tokens)
        contacts = await self.contacts(tokens) if scopes & {"contacts", "email", "mobile"} else []
        kids = await self.children(tokens) if any(s.startswith("kid_") for s in scopes) else []
        return identity_from_json(tokens.oid, person, contacts, kids)


@asynccontextmanager
async def _reaching(what: str) -> AsyncIterator[None]:
    """Transport failures talking to ESIA become :class:`EsiaUnavailable` / :class:`EsiaTimeout`
    (the adapter's errors, with the cause for the log), never aiohttp's own exceptions."""
    try:
        yield
    except TimeoutError:
        raise EsiaTimeout(f"ESIA's {what} did not answer in time") from None
    except aiohttp.ClientError as exc:
        raise EsiaUnavailable(
            f"ESIA's {what} is unreachable: {type(exc).__name__}: {exc}"
        ) from None


def _check_state(echoed: object, expected: str) -> None:
    if not isinstance(echoed, str) or not hmac.compare_digest(echoed.encode(), expected.encode()):
        raise EsiaStateMismatch("the state ESIA echoed is not the one this login sent")


async def _json_or_none(response: aiohttp.ClientResponse) -> dict[str, Any] | None:
    try:
        body = await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return None
    return body if isinstance(body, dict) else None


def _token_error(status: int, body: Mapping[str, Any] | None) -> Exception:
    if body is not None and "error" in body:
        return EsiaTokenError.from_fields({k: str(v) for k, v in body.items()})
    if status >= 500:
        return EsiaUnavailable(f"ESIA's token endpoint answered HTTP {status} without an error")
    return EsiaProtocolError(f"ESIA's token endpoint answered HTTP {status} without an error")


def _elements(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    elements = body.get("elements", [])
    if not isinstance(elements, list) or not all(isinstance(e, dict) for e in elements):
        raise EsiaProtocolError("ESIA collection without embedded elements")
    return elements
