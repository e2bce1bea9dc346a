"""The portal endpoints of docs/portal.md. Thin: parse, call the core, render, sign."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from diary_core.errors import NotFound
from diary_core.models import Pupil
from diary_core.progress.changes import changes_after, check_cursor
from diary_core.progress.guardians import guardian_pupils
from diary_core.progress.model import check_range
from diary_core.progress.reading import load_pupil_rows
from diary_core.progress.versions import PUPIL_VERSION, readable_version, version_place
from diary_core.snils import normalize_snils
from gateway import keys
from gateway.keys import PORTAL
from gateway.portal import auth, documents, negotiation, problems
from gateway.portal import bearer_tokens as tokens
from gateway.portal.cache import DocKey, with_stored
from gateway.portal.endpoint import Call, Lookup, serve
from gateway.portal.signing import DECLARATION
from gateway.portal.xml import (
    SIGNATURE_XSD_PATH,
    XSD_PATH,
    NotXmlText,
    changes_xml,
    guardian_xml,
    progress_xml,
)
from gateway.storage.driver import read_rows

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_OID = re.compile(r"[0-9]{1,20}")
_CURSOR = re.compile(r"[0-9]{1,19}")
ToXml = Callable[[documents.Json], bytes]


async def token(request: web.Request) -> web.Response:
    """``POST /portal/oauth/token`` (client credentials, private_key_jwt)."""
    return await serve(request, "portal.token", None, _token)


async def _token(call: Call) -> web.Response:
    form = await call.request.post()
    assertion = auth.check_form(form)
    audience = call.settings.server.public_url.rstrip("/") + auth.TOKEN_PATH
    call.details["claimed_client"] = _claimed_client(assertion)
    client = await auth.authenticate_client(call.orm(), assertion, audience, call.now)
    call.client = client
    if form.get("client_id") not in (None, client.client_id):
        raise problems.oauth(401, "invalid_client", "client_id не совпадает с iss утверждения")
    limit = call.settings.feed.rate_limit_per_minute
    if await tokens.used_in_window(call.orm(), client, call.now) >= limit:
        raise problems.rate_limited(tokens.retry_after(call.now))
    scopes = auth.granted_scopes(client, _str(form.get("scope")))
    await tokens.prune(call.orm(), call.now, auth.LEEWAY)
    lifetime = call.settings.feed.token_lifetime_seconds
    issued = await tokens.issue_token(call.orm(), client, scopes, call.now, lifetime)
    call.details["scopes"] = " ".join(sorted(scopes))
    return auth.token_response(issued, scopes, lifetime)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _claimed_client(assertion: str) -> str:
    try:
        return str(auth.unverified_parts(assertion)[1].get("iss", ""))[:64]
    except problems.Problem:
        return ""


def _format_of(request: web.Request, details: dict[str, Any]) -> str:
    profile = request.app[keys.SETTINGS].feed.xml_profile
    fmt = negotiation.choose(request.headers.get("Accept"), profile)
    if fmt is None:
        raise problems.not_acceptable()
    details["format"] = fmt
    return fmt


def _format(call: Call) -> str:
    return _format_of(call.request, call.details)


def _date(query: Any, name: str) -> date:
    raw = query.get(name)
    if raw is None:
        raise problems.bad_request("invalid_date", f"нужен параметр {name} (ГГГГ-ММ-ДД)")
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise problems.bad_request(
            "invalid_date", f"параметр {name}: ожидается дата ГГГГ-ММ-ДД, получено «{raw[:40]}»"
        ) from None


def _matches(request: web.Request, etag: str) -> bool:
    """If-None-Match names this ETag (weak comparison, RFC 9110 §13.1.2) or is ``*``."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags


def _headers(content_type: str | None) -> dict[str, str]:
    headers = {"Cache-Control": "private, no-cache", "Vary": "Accept, Authorization"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


#: The headers of a document, by format, and of a 304 (each response adds its ETag).
_HEADERS = {
    "xml": _headers("application/xml; charset=utf-8"),
    "smev3": _headers('application/xml; profile="smev3"; charset=utf-8'),
    "jose": _headers("application/jose"),
    "json": _headers("application/json; charset=utf-8"),
}
_NOT_MODIFIED = _headers(None)


def _document(fmt: str, body: bytes, etag: str) -> web.Response:
    return web.Response(body=body, headers={**_HEADERS[fmt], "ETag": etag})


def _not_modified(etag: str) -> web.Response:
    return web.Response(status=304, headers={**_NOT_MODIFIED, "ETag": etag})


async def _render(call: Call, fmt: str, doc: documents.Json, to_xml: ToXml) -> bytes:
    """The document in the asked representation, signed unless it is plain JSON."""
    signer = call.state.signer
    if fmt in ("xml", "smev3"):
        try:
            xml = to_xml(doc)
        except NotXmlText as exc:  # data stored before such characters were refused
            raise problems.not_xml(exc.reason()) from None
        if fmt == "smev3":
            return DECLARATION + await call.state.smev.sign(xml)
        return DECLARATION + signer.sign_xml(xml)
    if fmt == "jose":
        return signer.sign_jws(documents.dumps(doc)).encode()
    return documents.dumps(doc)


def _meta(call: Call) -> documents.Meta:
    return documents.Meta(call.settings.feed.issuer, call.now, call.now)


async def progress(request: web.Request) -> web.Response:
    """``GET /portal/v1/pupils/{snils}/progress?from=&to=``."""
    return await serve(
        request,
        "portal.progress.read",
        "progress.read",
        _progress,
        _progress_lookup,
        reads_only=True,
    )


#: The pupil by SNILS, his data's fingerprint and the document kept for the asked range and
#: format, read with the bearer token: one round trip before the answer is known.
_PROGRESS_LOOKUP = tokens.with_bearer(with_stored(PUPIL_VERSION, Pupil.id).subquery("pupil"))
_VERSION_WIDTH = len(PUPIL_VERSION.selected_columns)


@dataclass(frozen=True)
class _Ask:
    """What a progress request asks for."""

    fmt: str
    start: date
    end: date


def _progress_lookup(request: web.Request, details: dict[str, Any]) -> Lookup:
    """Parse the request in the order its refusals are answered: representation (406),
    dates (400), range (400), SNILS (400)."""
    fmt = _format_of(request, details)
    start, end = _date(request.query, "from"), _date(request.query, "to")
    check_range(start, end)
    details.update({"from": start.isoformat(), "to": end.isoformat()})
    snils = normalize_snils(request.match_info["snils"])
    params = {"snils": snils, "doc_from": start, "doc_to": end, "doc_format": fmt}
    return Lookup(_PROGRESS_LOOKUP, params, _Ask(fmt, start, end))


async def _progress(call: Call) -> web.Response:
    """An unknown pupil and a pupil of a school the client does not serve get the same 404
    (the core refuses both alike; the audit log still names the latter)."""
    assert call.lookup is not None  # serve ran _progress_lookup
    ask: _Ask = call.lookup.ask
    found = call.found
    place = version_place(found)
    if place is not None:
        call.school_id, call.pupil_id = place.school_id, place.pupil_id
    try:
        version = readable_version(call.reader(), found[:_VERSION_WIDTH])
    except NotFound:
        raise problems.pupil_not_found() from None
    key = DocKey(version.place.pupil_id, ask.start, ask.end, ask.fmt)
    etag = key.etag(version.version, call.state.key_id(ask.fmt))
    if _matches(call.request, etag):
        return _not_modified(etag)
    stored = (found[_VERSION_WIDTH], found[_VERSION_WIDTH + 1])
    body = await call.state.cache.get(call.conn, etag, stored)
    if body is None:
        rows = await load_pupil_rows(
            call.conn, call.reader(), version.pupil, ask.start, ask.end, fetch=read_rows
        )
        doc = documents.progress_json(rows, _meta(call))
        body = await _render(call, ask.fmt, doc, progress_xml)
        call.writes.append(await call.state.cache.put(call.conn, key, etag, body, call.now))
    return _document(ask.fmt, body, etag)


def _content_etag(fmt: str, doc: documents.Json, key_id: str) -> str:
    """An ETag from a document's content, its issue and as-of times left out."""
    content = {k: v for k, v in doc.items() if k not in ("issuedAt", "asOf")}
    raw = json.dumps(content, ensure_ascii=False, sort_keys=True) + fmt + key_id
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:40] + '"'


async def _signed(call: Call, fmt: str, doc: documents.Json, to_xml: ToXml) -> web.Response:
    etag = _content_etag(fmt, doc, call.state.key_id(fmt))
    if _matches(call.request, etag):
        return _not_modified(etag)
    return _document(fmt, await _render(call, fmt, doc, to_xml), etag)


async def guardian(request: web.Request) -> web.Response:
    """``GET /portal/v1/guardians/{esia_oid}/pupils``."""
    return await serve(request, "portal.guardian.read", "progress.read", _guardian, reads_only=True)


async def _guardian(call: Call) -> web.Response:
    fmt = _format(call)
    oid = call.request.match_info["esia_oid"]
    if not _OID.fullmatch(oid):
        raise problems.bad_request("invalid_oid", "идентификатор ЕСИА (oid) — это до 20 цифр")
    call.details["esia_oid"] = oid
    try:
        found = await guardian_pupils(call.conn, call.reader(), oid)
    except NotFound:
        raise problems.guardian_not_found() from None
    pupils = list(found.pupils)
    call.details["pupil_ids"] = [p.id for p in pupils]
    if len(pupils) == 1:
        call.school_id, call.pupil_id = pupils[0].school.id, pupils[0].id
    doc = documents.guardian_json(oid, pupils, _meta(call))
    return await _signed(call, fmt, doc, guardian_xml)


def _limit(query: Any) -> int:
    raw = query.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise problems.bad_request("invalid_limit", f"limit — целое число от 1 до {MAX_LIMIT}")
    return int(raw)


def _cursor(query: Any) -> int:
    raw = query.get("cursor", "0") or "0"
    if not _CURSOR.fullmatch(raw):
        raise problems.bad_request(
            "invalid_cursor", f"курсор — это значение nextCursor из ответа, получено «{raw[:40]}»"
        )
    return int(raw)


async def changes(request: web.Request) -> web.Response:
    """``GET /portal/v1/changes?cursor=&limit=``."""
    return await serve(request, "portal.changes.read", "changes.read", _changes)


async def _changes(call: Call) -> web.Response:
    fmt = _format(call)
    cursor, limit = _cursor(call.request.query), _limit(call.request.query)
    call.details.update(cursor=cursor, limit=limit)
    retention = call.settings.feed.cursor_retention_days
    await check_cursor(call.orm(), cursor, call.now, timedelta(days=retention))
    page = await changes_after(call.orm(), call.reader(), cursor, limit)
    call.details.update(
        next_cursor=page.next_cursor, pupil_ids=sorted({c.pupil_id for c in page.changes})
    )
    doc = documents.changes_json(page, cursor, _meta(call))
    return await _signed(call, fmt, doc, changes_xml)


async def jwks(request: web.Request) -> web.Response:
    """``GET /.well-known/jwks.json``: the keys that verify the feed's JWS."""
    return web.json_response(
        request.app[PORTAL].signer.jwks(), headers={"Cache-Control": "public, max-age=300"}
    )


async def schema(request: web.Request) -> web.Response:
    """``GET /portal/v1/schema/progress.xsd``."""
    return _xsd(XSD_PATH)


async def signature_schema(request: web.Request) -> web.Response:
    """``GET /portal/v1/schema/progress-signature.xsd``: the ``ds:Signature`` we write, which
    ``progress.xsd`` imports by this relative name."""
    return _xsd(SIGNATURE_XSD_PATH)


def _xsd(path: Path) -> web.Response:
    return web.Response(
        body=path.read_bytes(),
        content_type="application/xml",
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )
