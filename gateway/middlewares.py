"""Cross-cutting HTTP concerns: the one mapping of core errors to statuses (and of aiohttp's
own refusals and an unreachable database to Russian answers), security and cache headers, and
the compression of text answers."""

from __future__ import annotations

import logging
import socket
from http import HTTPStatus

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from diary_core.errors import (
    NOT_FOUND_DETAIL,
    Conflict,
    DiaryError,
    Forbidden,
    InvalidInput,
    NotFound,
)
from gateway import keys, sessions
from gateway.pages import render
from gateway.portal.problems import Problem
from gateway.static_files import PREFIX as STATIC_PREFIX
from gateway.static_files import STATIC_VERSIONS

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


#: The largest request body the gateway reads (``client_max_size``): files and forms.
MAX_REQUEST_BYTES = 8 * 1024 * 1024
TOO_LARGE_DETAIL = (
    f"Запрос слишком велик: файл или форма должны занимать не больше "
    f"{MAX_REQUEST_BYTES // (1024 * 1024)} МБ."
)
#: How long a client should wait before retrying while the database cannot be reached.
RETRY_AFTER_SECONDS = 30

_CODES = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    500: "internal_error",
    503: "database_unavailable",
}

_TITLES = {
    400: "Неверный запрос",
    401: "Требуется вход",
    403: "Доступ запрещён",
    404: "Не найдено",
    405: "Метод не поддерживается",
    409: "Конфликт",
    413: "Слишком большой запрос",
    500: "Внутренняя ошибка",
    503: "Сервис временно недоступен",
}

#: What aiohttp's own refusals (unknown address, wrong method, body too large …) say, in
#: Russian: their reasons are English status phrases.
_DETAILS = {
    400: "Запрос составлен неверно.",
    401: "Войдите в систему.",
    403: "Недостаточно прав.",
    404: NOT_FOUND_DETAIL,
    405: "Этот адрес не принимает такой запрос.",
    409: "Запрос противоречит текущему состоянию.",
    413: TOO_LARGE_DETAIL,
}
DATABASE_UNAVAILABLE = "Нет связи с базой данных дневника. Повторите попытку через несколько минут."
#: Headers of an aiohttp refusal that the answer keeps (the methods a 405 address accepts).
_KEPT_HEADERS = ("Allow",)


def _error_response(
    request: web.Request,
    status: int,
    title: str,
    detail: str,
    *,
    code: str | None = None,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    code = code or _CODES.get(status, "error")  # stable, for machines
    if request.path.startswith("/portal/"):
        # The portal's clients read its own problem format (docs/portal.md).
        return Problem(status, code, detail, headers=headers).response()
    if _wants_json(request):
        problem: dict[str, object] = {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
        }
        problem["code"] = code
        if field:
            problem["field"] = field
        return web.json_response(
            problem,
            status=status,
            content_type="application/problem+json",
            headers=headers,
        )
    response = render(
        "error.html", request, {"status": status, "title": title, "detail": detail}, status=status
    )
    response.headers.update(headers or {})
    return response


def _not_found(request: web.Request) -> web.Response:
    """The one answer for every object that does not exist or that the asker may not know of,
    of every kind, and for every unknown address: nothing in it depends on which."""
    return _error_response(request, 404, _TITLES[404], NOT_FOUND_DETAIL, code=NotFound.code)


#: SQLSTATE classes that mean the database cannot be reached or cannot take the request now:
#: connection exceptions, refused authorization, an absent database, insufficient resources
#: and an operator intervention (a shutdown, "cannot connect now").
_UNREACHABLE_SQLSTATES = ("08", "28", "3D", "53", "57P")
#: SQLite's words for a database file it cannot open or use now.
_UNREACHABLE_SQLITE = ("unable to open database", "database is locked", "disk i/o error")


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached (not that a query is wrong)."""
    if isinstance(exc, ConnectionError | socket.gaierror):
        return True  # the driver could not open a connection (asyncpg raises these bare)
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        return sqlstate.startswith(_UNREACHABLE_SQLSTATES)
    if isinstance(exc.orig, ConnectionError | socket.gaierror):
        return True
    message = str(exc.orig).lower()
    return isinstance(exc, OperationalError | InterfaceError) and (
        any(words in message for words in _UNREACHABLE_SQLITE)
        or "connection" in message  # asyncpg: "connection is closed", "… was closed"
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Core errors become statuses here and nowhere else; unexpected errors are logged and
    answered without internals."""
    try:
        return await handler(request)
    except NotFound:
        return _not_found(request)
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
        if exc.status == 404:
            return _not_found(request)
        english = exc.reason == HTTPStatus(exc.status).phrase
        detail = _DETAILS.get(exc.status, _TITLES[exc.status]) if english else exc.reason
        kept = {name: exc.headers[name] for name in _KEPT_HEADERS if name in exc.headers}
        return _error_response(request, exc.status, _TITLES[exc.status], detail, headers=kept)
    except Exception as exc:
        if database_unreachable(exc):
            log.error("database unreachable on %s %s: %r", request.method, request.path, exc)
            return _error_response(
                request,
                503,
                _TITLES[503],
                DATABASE_UNAVAILABLE,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error_response(request, 500, _TITLES[500], "Что-то пошло не так. Попробуйте позже.")


#: Paths whose answers may be cached: static files (fingerprinted by the release) and the
#: health check. Everything else is answered ``no-store`` to a signed-in user.
_CACHEABLE_PREFIXES = ("/static/", "/healthz")


def _personal(request: web.Request, response: web.StreamResponse) -> bool:
    """Whether the answer is someone's own: the API, any answer to a signed-in user, and any
    answer that sets or clears the session cookie (sign-in, sign-out)."""
    if request.path.startswith("/api/"):
        return True
    if request.path.startswith(_CACHEABLE_PREFIXES):
        return False
    view = request.get(sessions.REQUEST_KEY)
    return (view is not None and view.signed_in) or bool(response.cookies)


def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if _personal(request, response):
        # Back after signing out must not show the pupil's marks from the browser's cache.
        headers["Cache-Control"] = "no-store"
    elif request.path.startswith(STATIC_PREFIX) and response.status < 400:
        # A year for a file's current version (its address changes with it), else minutes.
        headers["Cache-Control"] = request.app[STATIC_VERSIONS].cache_control(request)
    elif request.path.startswith("/portal/"):
        headers.setdefault("Cache-Control", "no-store")  # unless the portal's handler says
    if request.app[keys.SETTINGS].server.is_https:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers and the cache rule on every answer, redirects included."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _add_headers(request, exc)
        raise
    _add_headers(request, response)
    return response


#: Content types worth compressing: the pages, their style sheets and scripts, JSON answers.
COMPRESSIBLE_TYPES = frozenset(
    {
        "text/html",
        "text/css",
        "application/json",
        "application/problem+json",
        "application/javascript",
        "text/javascript",
        "image/svg+xml",
    }
)
#: Answers shorter than this go as they are: compressing them saves next to nothing.
MIN_COMPRESSED_BYTES = 1024
#: The static files compressed, by suffix (a file answer gets its type only when it is sent):
#: style sheets, scripts and SVG images.
_STATIC_TEXT_SUFFIXES = frozenset({".css", ".js", ".svg"})
#: Headers that make a file answer partial or possibly bodiless (304, 412).
_CONDITIONAL_HEADERS = (
    "Range",
    "If-Range",
    "If-None-Match",
    "If-Modified-Since",
    "If-Match",
    "If-Unmodified-Since",
)
#: The codings we send, best first: every browser takes gzip.
_CODINGS = (web.ContentCoding.gzip, web.ContentCoding.deflate)


def accepted_coding(request: web.BaseRequest) -> web.ContentCoding | None:
    """The coding to compress the answer with, from ``Accept-Encoding`` (``q=0`` refuses a
    coding, ``*`` stands for every coding not named), or None for none."""
    quality: dict[str, float] = {}
    for part in request.headers.get("Accept-Encoding", "").lower().split(","):
        name, _, params = part.partition(";")
        value = 1.0
        for param in params.split(";"):
            key, _, number = param.strip().partition("=")
            if key == "q":
                try:
                    value = float(number)
                except ValueError:
                    value = 0.0
        if name.strip():
            quality[name.strip()] = value
    for coding in _CODINGS:
        if quality.get(coding.value, quality.get("*", 0.0)) > 0:
            return coding
    return None


def _compressible(request: web.Request, response: web.StreamResponse) -> bool:
    """Whether the answer is text worth compressing that compression cannot break."""
    if request.path.startswith("/portal/"):
        # The portal's documents are signed and their strong ETags name the exact bytes:
        # they go as they are.
        return False
    if response.status in (204, 304) or "Content-Encoding" in response.headers:
        return False
    if isinstance(response, web.FileResponse):
        name = request.path.removeprefix(STATIC_PREFIX)
        suffix = name[name.rfind(".") :] if "." in name else ""
        versions = request.app[STATIC_VERSIONS]
        return suffix in _STATIC_TEXT_SUFFIXES and versions.size(name) >= MIN_COMPRESSED_BYTES
    if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
        return False  # streamed answers (exports) and payload objects go as they are
    etag = response.etag
    if etag is not None and not etag.is_weak:
        return False  # a strong ETag (the API's marks) names these exact bytes
    return (
        response.content_type in COMPRESSIBLE_TYPES and len(response.body) >= MIN_COMPRESSED_BYTES
    )


@web.middleware
async def compression_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Text answers of 1 KB and more go gzip-compressed to clients that accept it (the
    timetable editor's HTML shrinks more than tenfold); they say ``Vary: Accept-Encoding``
    whether compressed or not, so a shared cache keeps the two apart."""
    response = await handler(request)
    if not _compressible(request, response):
        return response
    vary = response.headers.get("Vary", "")
    if "accept-encoding" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
    coding = accepted_coding(request)
    if coding is not None and not _file_not_whole(request, response):
        response.enable_compression(coding)
    return response


def _file_not_whole(request: web.Request, response: web.StreamResponse) -> bool:
    """Whether a static file's answer may be other than the whole file: a byte range is of the
    file as stored, and aiohttp would write an empty gzip stream as the body of a HEAD or of a
    304 to a revalidation. Such requests get the file as it is (a 304 has no body anyway)."""
    return isinstance(response, web.FileResponse) and (
        request.method != "GET" or any(header in request.headers for header in _CONDITIONAL_HEADERS)
    )
