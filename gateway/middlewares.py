"""Cross-cutting HTTP concerns: the one mapping of core errors to statuses, security headers."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from diary_core.errors import Conflict, DiaryError, Forbidden, InvalidInput, NotFound
from gateway import keys
from gateway.pages import render

log = logging.getLogger("ediary.gateway")

STATUS: dict[type[DiaryError], int] = {
    NotFound: 404,
    Forbidden: 403,
    InvalidInput: 400,
    Conflict: 409,
}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _wants_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return request.path.startswith(("/api/", "/portal/")) or (
        "application/json" in accept and "text/html" not in accept
    )


_CODES = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    500: "internal_error",
}


def _error_response(
    request: web.Request,
    status: int,
    title: str,
    detail: str,
    *,
    code: str | None = None,
    field: str | None = None,
) -> web.Response:
    if _wants_json(request):
        problem: dict[str, object] = {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
        }
        problem["code"] = code or _CODES.get(status, "error")  # stable, for machines
        if field:
            problem["field"] = field
        return web.json_response(
            problem,
            status=status,
            content_type="application/problem+json",
        )
    return render(
        "error.html", request, {"status": status, "title": title, "detail": detail}, status=status
    )


_TITLES = {
    400: "Неверный запрос",
    401: "Требуется вход",
    403: "Доступ запрещён",
    404: "Не найдено",
    405: "Метод не поддерживается",
    409: "Конфликт",
    500: "Внутренняя ошибка",
}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Core errors become statuses here and nowhere else; unexpected errors are logged and
    answered without internals."""
    try:
        return await handler(request)
    except DiaryError as exc:
        status = STATUS.get(type(exc), 400)
        return _error_response(
            request,
            status,
            _TITLES.get(status, "Ошибка"),
            str(exc),
            code=exc.code,
            field=getattr(exc, "field", None),
        )
    except web.HTTPException as exc:
        if exc.status < 400 or exc.status not in _TITLES:
            raise
        return _error_response(request, exc.status, _TITLES[exc.status], exc.reason)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error_response(request, 500, _TITLES[500], "Что-то пошло не так. Попробуйте позже.")


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.app[keys.SETTINGS].server.is_https:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
