"""The OpenAPI 3.1 document, produced from the same :class:`Endpoint` declarations that the
routes are built from (served at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gateway.api.schemas import COMPONENTS
from gateway.api.spec import Endpoint, Param, ref

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"

_DESCRIPTION = (
    "JSON API электронного дневника для инструментов сотрудников и мобильных приложений. "
    "Вход — та же сессия, что и у страниц (cookie); для POST, PUT, PATCH и DELETE нужен "
    "заголовок X-CSRF-Token со значением csrf_token из GET /api/v1/session. Права те же, "
    "что у страниц: чужой ученик, класс или школа — 404 или 403 без данных. Ошибки — "
    "application/problem+json (RFC 9457) со стабильным полем code. Отметка отдаётся с "
    "заголовком ETag; изменить или удалить её можно только с If-Match, равным этому ETag: "
    "если отметку тем временем изменили, ответ 412, без заголовка — 428."
)

_STATUS_TEXT = {
    200: "Успешно",
    201: "Создано",
    204: "Выполнено, без содержимого",
    400: "Неверный запрос (field называет поле)",
    401: "Требуется вход в систему",
    403: "Доступ запрещён или нет CSRF-токена",
    404: "Не найдено (или недоступно этому пользователю)",
    409: "Конфликт с текущим состоянием",
    412: "ETag в If-Match устарел: ресурс изменился, получите его заново",
    428: "Нужен заголовок If-Match с ETag ресурса",
}

_ETAG_HEADER = {
    "description": "Версия ресурса (сильный ETag); передайте её в If-Match при изменении",
    "schema": {"type": "string"},
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": "ETag ресурса, как его вернул GET: изменение применяется, только если "
    "ресурс с тех пор не менялся (иначе 412; без заголовка 428)",
    "schema": {"type": "string"},
}


def _parameter(p: Param) -> dict[str, Any]:
    return {
        "name": p.name,
        "in": p.where,
        "required": p.required or p.where == "path",
        "description": p.description,
        "schema": dict(p.schema),
    }


def _responses(ep: Endpoint) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ep.response is None:
        out["204"] = {"description": _STATUS_TEXT[204]}
    else:
        out[str(ep.status)] = {
            "description": _STATUS_TEXT[ep.status],
            "content": {"application/json": {"schema": dict(ep.response)}},
        }
        if ep.etag:
            out[str(ep.status)]["headers"] = {"ETag": dict(_ETAG_HEADER)}
    for status in ep.error_statuses:
        out[str(status)] = {
            "description": _STATUS_TEXT[status],
            "content": {"application/problem+json": {"schema": ref("Problem")}},
        }
    return out


def _security(ep: Endpoint) -> list[dict[str, list[str]]]:
    if ep.public:
        return []
    if ep.unsafe:
        return [{"session": [], "csrf": []}]
    return [{"session": []}]


def operation(ep: Endpoint) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": ep.operation_id,
        "summary": ep.summary,
        "tags": [ep.tag],
        "security": _security(ep),
        "responses": _responses(ep),
    }
    if ep.params or ep.if_match:
        op["parameters"] = [_parameter(p) for p in ep.params]
        if ep.if_match:
            op["parameters"].append(dict(_IF_MATCH))
    if ep.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": dict(ep.body)}},
        }
    return op


def document(endpoints: Iterable[Endpoint], cookie_name: str) -> dict[str, Any]:
    """The whole document: every declared endpoint under ``paths``, the named schemas under
    ``components``, the session cookie and CSRF header as security schemes."""
    paths: dict[str, dict[str, Any]] = {}
    tags: list[str] = []
    for ep in endpoints:
        paths.setdefault(ep.full_path, {})[ep.method.lower()] = operation(ep)
        if ep.tag not in tags:
            tags.append(ep.tag)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Электронный дневник — JSON API",
            "version": API_VERSION,
            "description": _DESCRIPTION,
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "tags": [{"name": t} for t in tags],
        "paths": paths,
        "components": {
            "schemas": COMPONENTS,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": cookie_name},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
        },
    }
