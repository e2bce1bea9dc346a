"""Registered portal clients: their public keys (PEM or JWKS), scopes and schools."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificatePublicKeyTypes,
    PublicKeyTypes,
)
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.errors import InvalidInput
from diary_core.policy import PortalReader
from gateway.storage import PortalClient as ClientRow

SCOPES = frozenset({"progress.read", "changes.read"})
MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class Client:
    """A client as a request sees it: who, what it may ask for, and its reach."""

    id: int
    client_id: str
    name: str
    scopes: frozenset[str]
    reach: PortalReader

    @property
    def label(self) -> str:
        """How the audit log names it."""
        return f"{self.client_id} ({self.name})"[:200]


def client_of(row: Any) -> Client:
    """The client in a ``portal_clients`` row (or any object with its column names)."""
    return client_from(row.id, row.client_id, row.name, row.scopes, row.school_ids)


def client_from(
    id: int, client_id: str, name: str, scopes: str, school_ids: list[int] | None
) -> Client:
    schools = None if school_ids is None else frozenset(int(s) for s in school_ids)
    granted = frozenset(scopes.split())
    return Client(id, client_id, name, granted, PortalReader(client_id, schools, granted))


def _jwk(key: dict[str, Any]) -> dict[str, Any]:
    """One public JWK, checked: RSA ≥ 2048 bits or EC P-256, no private part."""
    if "d" in key:
        raise InvalidInput("дан закрытый ключ; нужен открытый", field="public_key")
    try:
        if key.get("kty") == "RSA":
            jwk: RSAKey | ECKey = RSAKey.import_key(key)
            size = jwk.public_key.key_size
            if size < MIN_RSA_BITS:
                raise InvalidInput(f"ключ RSA короче {MIN_RSA_BITS} бит", field="public_key")
        elif key.get("kty") == "EC" and key.get("crv") == "P-256":
            jwk = ECKey.import_key(key)
        else:
            raise InvalidInput("поддерживаются ключи RSA и EC P-256", field="public_key")
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidInput(f"ключ не читается: {exc}", field="public_key") from None
    out = dict(jwk.as_dict(private=False))
    out["kid"] = str(key.get("kid") or jwk.thumbprint())
    return out


def _from_pem(data: bytes) -> dict[str, Any]:
    if b"PRIVATE KEY" in data:
        raise InvalidInput("дан закрытый ключ; нужен открытый", field="public_key")
    public: PublicKeyTypes | CertificatePublicKeyTypes
    try:
        public = (
            x509.load_pem_x509_certificate(data).public_key()
            if b"CERTIFICATE" in data
            else load_pem_public_key(data)
        )
    except ValueError as exc:
        raise InvalidInput(f"PEM не читается: {exc}", field="public_key") from None
    if isinstance(public, rsa.RSAPublicKey):
        return _jwk(dict(RSAKey.import_key(public).as_dict(private=False)))
    if isinstance(public, ec.EllipticCurvePublicKey):
        return _jwk(dict(ECKey.import_key(public).as_dict(private=False)))
    raise InvalidInput("поддерживаются ключи RSA и EC P-256", field="public_key")


def parse_public_keys(data: bytes) -> dict[str, Any]:
    """A JWKS from a PEM public key or certificate, a JWK, or a JWKS."""
    text = data.strip()
    if not text.startswith(b"{"):
        return {"keys": [_from_pem(text)]}
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"JSON не читается: {exc}", field="public_key") from None
    keys = doc.get("keys", [doc]) if isinstance(doc, dict) else None
    if not keys or not all(isinstance(k, dict) for k in keys):
        raise InvalidInput("нужен JWK или JWKS с ключами", field="public_key")
    return {"keys": [_jwk(k) for k in keys]}


def parse_scopes(raw: str) -> frozenset[str]:
    scopes = frozenset(raw.split())
    unknown = scopes - SCOPES
    if unknown or not scopes:
        raise InvalidInput(
            f"неизвестные области: {' '.join(sorted(unknown)) or '(пусто)'}; "
            f"допустимы: {' '.join(sorted(SCOPES))}",
            field="scopes",
        )
    return scopes


async def register_client(
    session: AsyncSession,
    *,
    name: str,
    jwks: dict[str, Any],
    scopes: frozenset[str],
    school_ids: list[int] | None,
    now: datetime,
) -> str:
    """Add a client (the operator's act); returns its new client_id."""
    name = name.strip()
    if not name:
        raise InvalidInput("укажите имя клиента", field="name")
    if await session.scalar(select(ClientRow.id).where(ClientRow.name == name)):
        raise InvalidInput(f"клиент «{name}» уже зарегистрирован", field="name")
    client_id = f"portal-{secrets.token_hex(12)}"
    session.add(
        ClientRow(
            name=name,
            client_id=client_id,
            jwks=jwks,
            scopes=" ".join(sorted(scopes)),
            school_ids=school_ids,
            active=True,
            created_at=now,
        )
    )
    await session.flush()
    return client_id


async def find_client(
    session: AsyncSession, client_id: str
) -> tuple[Client, dict[str, Any]] | None:
    """An active client and its keys, by client_id."""
    row = await session.scalar(
        select(ClientRow).where(ClientRow.client_id == client_id, ClientRow.active.is_(True))
    )
    return None if row is None else (client_of(row), row.jwks)
