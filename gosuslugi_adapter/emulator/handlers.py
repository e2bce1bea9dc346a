"""HTTP handlers of the emulator: thin translations between aiohttp and :mod:`.core`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import MultiMapping

from gosuslugi_adapter.client import EsiaProtocol
from gosuslugi_adapter.emulator.core import Emulator, Grant, Rejection
from gosuslugi_adapter.emulator.pages import error_page, page_gone, pick_person_page
from gosuslugi_adapter.emulator.persons import Person
from gosuslugi_adapter.errors import CODES

EMULATOR = web.AppKey("esia_emulator", Emulator)

_SIGNED = (
    "client_id",
    "client_secret",
    "redirect_uri",
    "scope",
    "state",
    "timestamp",
    "client_certificate_hash",
    "code",
    "refresh_token",
    "grant_type",
)


#: Paths that machines call: their errors stay as they are (JSON, or aiohttp's plain text).
_MACHINE_PATHS = ("/rs/", "/emulator/", "/aas/oauth2/te", "/aas/oauth2/v3/te")


@web.middleware
async def browser_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own 404 and 405 answers are English: a person's browser gets a Russian page."""
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed) as exc:
        if request.path.startswith(_MACHINE_PATHS):
            raise
        return page_gone(exc.status)


def _emulator(request: web.Request) -> Emulator:
    return request.app[EMULATOR]


def _single_values(params: MultiMapping[Any]) -> dict[str, str]:
    """Parameters as a plain dict; a signed parameter given twice is ESIA-007003."""
    for name in _SIGNED:
        if len(params.getall(name, [])) > 1:
            raise Rejection("ESIA-007003", f"{name} repeated")
    return {k: v for k, v in params.items() if isinstance(v, str)}


def _with_query(uri: str, values: Mapping[str, str]) -> str:
    query = urlencode({k: v for k, v in values.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def _error_redirect(uri: str, code: str, state: str | None) -> web.HTTPFound:
    info = CODES[code]
    values = {"error": info.error, "error_description": f"{code}: {info.meaning}"}
    if state:
        values["state"] = state
    return web.HTTPFound(_with_query(uri, values))


async def authorize_v1(request: web.Request) -> web.StreamResponse:
    return await _authorize(request, EsiaProtocol.V1)


async def authorize_v2(request: web.Request) -> web.StreamResponse:
    return await _authorize(request, EsiaProtocol.V2)


async def _authorize(request: web.Request, protocol: EsiaProtocol) -> web.StreamResponse:
    """``/aas/oauth2/ac`` and ``/v2/ac``. Errors go back to the client's redirect_uri only once
    the client and that redirect_uri are known to belong together (no open redirect)."""
    em = _emulator(request)
    try:
        params = _single_values(request.query)
        client = em.client(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri:
            raise Rejection("ESIA-007014", "redirect_uri")
        if not client.redirect_allowed(redirect_uri):
            raise Rejection("ESIA-007023")
    except Rejection as exc:
        return error_page(exc.code)
    try:
        em.check_signed_request(client, protocol, params, ("response_type",))
        if params["response_type"] != "code":
            raise Rejection("ESIA-007012")
    except Rejection as exc:
        raise _error_redirect(redirect_uri, exc.code, params.get("state")) from None
    if em.switches.error_redirect:
        raise _error_redirect(redirect_uri, em.switches.error_redirect, params["state"])
    login_id = em.start_login(client, params)
    persons = list(em.persons.values())
    action = f"/aas/oauth2/login/{login_id}"
    return pick_person_page(action, client.client_id, persons, params["scope"])


async def pick_person(request: web.Request) -> web.StreamResponse:
    """The sign-in form's target: ``oid`` picks the person; ``deny`` refuses (ESIA-007004)."""
    em = _emulator(request)
    login = em.take_login(request.match_info["login_id"])
    if login is None:
        return error_page("ESIA-007011")
    form = await request.post()
    if form.get("deny"):
        raise _error_redirect(login.redirect_uri, "ESIA-007004", login.state)
    oid = form.get("oid")
    if not isinstance(oid, str) or oid not in em.persons:
        return error_page(
            "ESIA-007014",
            "Тестовый пользователь не выбран. Вернитесь на сайт, с которого вы начали вход, "
            "и начните вход заново.",
        )
    code = em.issue_code(login, oid)
    state = "wrong-" + login.state if em.switches.wrong_callback_state else login.state
    raise web.HTTPFound(_with_query(login.redirect_uri, {"code": code, "state": state}))


async def token_v1(request: web.Request) -> web.Response:
    return await _token(request, EsiaProtocol.V1)


async def token_v3(request: web.Request) -> web.Response:
    return await _token(request, EsiaProtocol.V2)


async def _token(request: web.Request, protocol: EsiaProtocol) -> web.Response:
    """``/aas/oauth2/te`` and ``/v3/te``: code or refresh token for tokens; errors as JSON."""
    em = _emulator(request)
    params: dict[str, str] = {}
    try:
        params = _single_values(await request.post())
        body = _token_body(em, protocol, params)
    except Rejection as exc:
        error = {"error": exc.info.error, "error_description": f"{exc.code}: {exc.info.meaning}"}
        if params.get("state"):
            error["state"] = params["state"]
        status = 401 if exc.info.error == "invalid_client" else 400
        return web.json_response(error, status=status)
    state = params["state"]
    body["state"] = "wrong-" + state if em.switches.wrong_state else state
    return web.json_response(body)


def _token_body(em: Emulator, protocol: EsiaProtocol, params: dict[str, str]) -> dict[str, Any]:
    client = em.client(params.get("client_id", ""))
    grant_type = params.get("grant_type", "")
    grant_field = {"authorization_code": "code", "refresh_token": "refresh_token"}.get(grant_type)
    if grant_field is None:
        raise Rejection("ESIA-007014" if not grant_type else "ESIA-007009", "grant_type")
    required = ("grant_type", "token_type", grant_field)
    em.check_signed_request(client, protocol, params, required, params.get(grant_field, ""))
    if params["token_type"] != "Bearer":  # noqa: S105 - a type, not a secret
        raise Rejection("ESIA-007003", "token_type must be Bearer")
    store = em.codes if grant_field == "code" else em.refresh_tokens
    grant = em.redeem(store, params[grant_field], client.client_id, params["redirect_uri"])
    if not set(params["scope"].split()) <= set(grant.scope.split()):
        raise Rejection("ESIA-007006", "scope wider than granted")
    return em.issue_tokens(grant, with_id_token=grant_field == "code")


def _bearer(request: web.Request) -> tuple[Grant, Person]:
    """The access token's grant; 401 without a live token, 403 for another person's data."""
    em = _emulator(request)
    header = request.headers.get("Authorization", "")
    grant = em.bearer(header[7:]) if header.startswith("Bearer ") else None
    if grant is None:
        raise web.HTTPUnauthorized(
            text=json.dumps({"code": "unauthorized"}), content_type="application/json"
        )
    if grant.oid != request.match_info["oid"]:
        raise web.HTTPForbidden(
            text=json.dumps({"code": "forbidden"}), content_type="application/json"
        )
    return grant, em.persons[grant.oid]


def _has(grant: Grant, *scopes: str) -> bool:
    return bool(set(grant.scope.split()) & set(scopes))


async def person(request: web.Request) -> web.Response:
    """``/rs/prns/{oid}``: only the fields the granted scopes allow."""
    grant, who = _bearer(request)
    body: dict[str, Any] = {
        "stateFacts": ["EntityRoot"],
        "oid": int(who.oid),
        "trusted": who.trusted,
    }
    if _has(grant, "fullname"):
        body.update({k: who.fields[k] for k in ("lastName", "firstName", "middleName")})
    if _has(grant, "birthdate"):
        body["birthDate"] = who.fields["birthDate"]
    if _has(grant, "gender"):
        body["gender"] = who.fields["gender"]
    if _has(grant, "snils"):
        body["snils"] = who.fields["snils"]
    return web.json_response(body)


def _contacts(grant: Grant, who: Person) -> list[dict[str, Any]]:
    items = []
    if who.email and _has(grant, "contacts", "email"):
        items.append({"id": 1, "type": "EML", "vrfStu": "VERIFIED", "value": who.email})
    if who.mobile and _has(grant, "contacts", "mobile"):
        items.append({"id": 2, "type": "MBT", "vrfStu": "VERIFIED", "value": who.mobile})
    return [{"stateFacts": ["Identifiable"], **item} for item in items]


def _kids(grant: Grant, who: Person) -> list[dict[str, Any]]:
    if not _has(grant, "kid_fullname", "kid_birthdate", "kid_gender", "kid_snils"):
        raise web.HTTPForbidden(
            text=json.dumps({"code": "no kid_* scope"}), content_type="application/json"
        )
    shown = {
        "lastName": "kid_fullname",
        "firstName": "kid_fullname",
        "middleName": "kid_fullname",
        "birthDate": "kid_birthdate",
        "gender": "kid_gender",
        "snils": "kid_snils",
    }
    return [
        {
            "stateFacts": ["Identifiable"],
            "id": int(kid.id),
            "type": "KID",
            **{k: v for k, v in kid.fields.items() if _has(grant, shown[k])},
        }
        for kid in who.kids
    ]


def _collection(request: web.Request, kind: str, items: list[dict[str, Any]]) -> web.Response:
    """ESIA's collection: embedded elements with ``?embed=(elements)``, else their URLs."""
    if request.query.get("embed") == "(elements)":
        elements: list[Any] = items
    else:
        base = f"{request.scheme}://{request.host}/rs/prns/{request.match_info['oid']}/{kind}"
        elements = [f"{base}/{item['id']}" for item in items]
    return web.json_response({"stateFacts": ["hasSize"], "size": len(items), "elements": elements})


def _one(items: list[dict[str, Any]], item_id: str) -> web.Response:
    for item in items:
        if str(item["id"]) == item_id:
            return web.json_response(item)
    raise web.HTTPNotFound()


async def contacts(request: web.Request) -> web.Response:
    grant, who = _bearer(request)
    items = _contacts(grant, who)
    if "item" in request.match_info:
        return _one(items, request.match_info["item"])
    return _collection(request, "ctts", items)


async def kids(request: web.Request) -> web.Response:
    grant, who = _bearer(request)
    items = _kids(grant, who)
    if "item" in request.match_info:
        return _one(items, request.match_info["item"])
    return _collection(request, "kids", items)


async def logout(request: web.Request) -> web.StreamResponse:
    """``/idp/ext/Logout``: back to ``redirect_url`` only if it is allowed for ``client_id``."""
    em = _emulator(request)
    client = em.clients.get(request.query.get("client_id", ""))
    target = request.query.get("redirect_url", "")
    if client is None or not client.redirect_allowed(target):
        return error_page("ESIA-007023")
    raise web.HTTPFound(target)


async def switches(request: web.Request) -> web.Response:
    """``GET``/``POST /emulator/switches`` (JSON): read or change the misbehaviour switches;
    ``POST /emulator/switches`` with ``{"reset": true}`` turns them all off."""
    em = _emulator(request)
    if request.method == "POST":
        try:
            values = await request.json()
            if not isinstance(values, dict):
                raise ValueError("a JSON object is expected")
            if values.pop("reset", False) is True:
                em.switches.reset()
            em.switches.update(values)
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(vars(em.switches))


async def token_certificate(request: web.Request) -> web.Response:
    """``/emulator/token-certificate.pem``: the certificate that verifies the tokens."""
    pem_bytes = _emulator(request).issuer.certificate.pem()
    return web.Response(body=pem_bytes, content_type="application/x-pem-file")
