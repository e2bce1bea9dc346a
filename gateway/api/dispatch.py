"""Turning an :class:`Endpoint` declaration into an aiohttp handler.

Order of checks, each a security or clarity decision:
1. the session (CSRF was already enforced by the session middleware for unsafe methods);
   no signed-in user → 401, before any input is looked at;
2. path and query parameters: ids must be integers, dates ``YYYY-MM-DD`` (ISO 8601);
3. the JSON body against the endpoint's schema in the published OpenAPI document
   (:mod:`gateway.api.validation`);
any bad input is :class:`InvalidInput` naming the field → 400 problem JSON, nothing written.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import partial
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from diary_core.errors import InvalidInput
from gateway import auth, keys
from gateway.api.spec import ApiCall, ApiProblem, Endpoint, Param, Schema
from gateway.api.validation import ApiValidator, SchemaError

_INTEGER = re.compile(r"^-?\d{1,18}$")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_dumps = partial(json.dumps, ensure_ascii=False)


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", field=field)


def _refuse_first(errors: list[SchemaError]) -> None:
    if errors:
        raise _invalid(errors[0].path or "body", errors[0].message)


def _coerce(param: Param, raw: str) -> Any:
    """A parameter's text as the JSON value its schema describes."""
    kind = param.schema.get("type")
    if kind == "integer":
        if not _INTEGER.match(raw):
            raise _invalid(param.name, "ожидается целое число")
        return int(raw)
    if kind == "boolean":
        if raw.lower() not in _BOOLEANS:
            raise _invalid(param.name, "ожидается true или false")
        return _BOOLEANS[raw.lower()]
    return raw


def _as_python(schema: Schema, value: Any) -> Any:
    """Validated ``format: date`` strings become :class:`date`."""
    if schema.get("format") == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def _params(ep: Endpoint, request: web.Request, validator: ApiValidator) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for index, param in enumerate(ep.params):
        source = request.match_info if param.where == "path" else request.query
        raw = source.get(param.name)
        if raw is None or raw == "":
            if param.required:
                raise _invalid(param.name, "обязательный параметр")
            continue
        value = _coerce(param, raw)
        _refuse_first(validator.param_errors(ep, index, value))
        out[param.name] = _as_python(param.schema, value)
    return out


async def _body(ep: Endpoint, request: web.Request, validator: ApiValidator) -> dict[str, Any]:
    if ep.body is None:
        return {}
    try:
        data = json.loads(await request.text())
    except ValueError:
        raise _invalid("body", "тело запроса должно быть JSON-объектом") from None
    if not isinstance(data, dict):
        raise _invalid("body", "тело запроса должно быть JSON-объектом")
    _refuse_first(validator.body_errors(ep, data))
    props = ep.body.get("properties", {})
    return {k: _as_python(props.get(k, {}), v) for k, v in data.items()}


def _respond(ep: Endpoint, result: Any, extra: dict[str, str]) -> web.Response:
    headers = {"Cache-Control": "no-store", **extra}
    if ep.response is None:
        return web.Response(status=204, headers=headers)
    return web.json_response(result, status=ep.status, dumps=_dumps, headers=headers)


def route_handler(ep: Endpoint) -> Handler:
    """The aiohttp handler for one declared endpoint."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if not ep.public:
            await auth.request_actor(request)
        validator = request.app[keys.API_VALIDATOR]
        call = ApiCall(
            request,
            _params(ep, request, validator),
            await _body(ep, request, validator),
        )
        try:
            result = await ep.handler(call)
        except ApiProblem as problem:
            return problem.response()
        return _respond(ep, result, call.headers)

    handle.__name__ = ep.operation_id
    return handle
