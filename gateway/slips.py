"""Credential slips shown once: the POST that issues redirects (303) to a GET that shows them.

A slip's one-time passwords or link codes used to be rendered into the POST's response, so a
reload of the slip page resubmitted the form and issued new ones: the slips just printed
stopped working. Now the POST keeps the slip in the issuer's web session and answers 303; the
GET of the slip's address shows it once and removes it, and a reload (or a bookmark) shows a
page that says so and offers a deliberate re-issue. Security decisions, each in one place:

- The slip is sealed (AES-256-GCM) under a key derived from the issuer's session cookie
  token, HMAC-SHA256(token, slip id). The database keeps only the token's SHA-256
  (:mod:`gateway.sessions`), so the sealed slip in the session row opens only with the
  cookie of the browser that issued it: a copy of the database holds no password or code.
- The GET that opens the slip deletes its sealed part in the same transaction, the session
  row locked (``FOR UPDATE`` on PostgreSQL; SQLite serialises writers). What stays is who
  the slip was for and what it gave (no secret), so the reload page can name them.
- A session keeps its newest :data:`MAX_SLIPS` slips; signing out deletes the session and
  every slip with it. Pages showing a slip are ``no-store``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway import keys, sessions
from gateway.storage import WebSession

SESSION_KEY = "slips"
MAX_SLIPS = 10
SLIP_ID_PATTERN = r"[A-Za-z0-9_-]{22,64}"
_NONCE = 12


@dataclass(frozen=True)
class Opened:
    """A slip of this session: what it was (no secret), and its secret if not yet shown."""

    about: dict[str, Any]
    secret: dict[str, Any] | None


def _token(request: web.Request) -> str:
    token = request.cookies.get(sessions.cookie_name(request.app[keys.SETTINGS]))
    if not token:
        raise web.HTTPForbidden(text="нет сеанса: войдите заново")
    return token


def _key(token: str, slip_id: str) -> bytes:
    return hmac.new(token.encode(), b"ediary-slip:" + slip_id.encode(), hashlib.sha256).digest()


def _seal(token: str, slip_id: str, secret: dict[str, Any]) -> str:
    nonce = secrets.token_bytes(_NONCE)
    body = AESGCM(_key(token, slip_id)).encrypt(
        nonce, json.dumps(secret, ensure_ascii=False).encode(), slip_id.encode()
    )
    return base64.urlsafe_b64encode(nonce + body).decode()


def _open(token: str, slip_id: str, sealed: str) -> dict[str, Any] | None:
    """The secret, or None if this cookie cannot open it (another browser's session)."""
    raw = base64.urlsafe_b64decode(sealed)
    try:
        plain = AESGCM(_key(token, slip_id)).decrypt(raw[:_NONCE], raw[_NONCE:], slip_id.encode())
    except InvalidTag:
        return None
    value: dict[str, Any] = json.loads(plain)
    return value


def _view(request: web.Request) -> sessions.SessionView:
    view: sessions.SessionView | None = request.get(sessions.REQUEST_KEY)
    if view is None:
        raise web.HTTPForbidden(text="нет сеанса: войдите заново")
    return view


async def keep(request: web.Request, about: dict[str, Any], secret: dict[str, Any]) -> str:
    """Keep a slip in the current session until its first view; its id for the address."""
    view = _view(request)
    token = _token(request)
    slip_id = secrets.token_urlsafe(24)
    async with request.app[keys.SESSIONS]() as db:
        row = await db.get(WebSession, view.id_hash, with_for_update=True)
        if row is None:
            raise web.HTTPForbidden(text="сеанс завершён: войдите заново")
        data = dict(row.data or {})
        kept = dict(data.get(SESSION_KEY) or {})
        kept[slip_id] = {"about": about, "sealed": _seal(token, slip_id, secret)}
        data[SESSION_KEY] = dict(list(kept.items())[-MAX_SLIPS:])
        row.data = data
        await db.commit()
    view.data = data
    return slip_id


async def open_once(request: web.Request, slip_id: str, place: str) -> Opened | None:
    """This session's slip ``slip_id`` issued at ``place`` (its ``about["place"]``), or None
    if it has none such. Its secret is returned by the first call only: the same transaction
    removes it. A slip of another place is left untouched."""
    view = _view(request)
    token = _token(request)
    async with request.app[keys.SESSIONS]() as db:
        row = await db.get(WebSession, view.id_hash, with_for_update=True)
        if row is None:
            return None
        data = dict(row.data or {})
        kept = dict(data.get(SESSION_KEY) or {})
        entry = kept.get(slip_id)
        if not isinstance(entry, dict):
            return None
        about: dict[str, Any] = dict(entry.get("about") or {})
        if about.get("place") != place:
            return None
        sealed = entry.get("sealed")
        if not sealed:
            return Opened(about, None)
        secret = _open(token, slip_id, str(sealed))
        kept[slip_id] = {"about": about}
        data[SESSION_KEY] = kept
        row.data = data
        await db.commit()
    view.data = data
    return Opened(about, secret)
