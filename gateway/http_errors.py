"""The one mapping of errors to HTTP answers, for every surface of the gateway.

What an error means in HTTP (its status, stable ``code``, title and the detail a person or a
program is shown) is decided here and nowhere else: the core's errors by their class
(:data:`STATUS`), aiohttp's own refusals, an unreachable database and the unexpected. How the
answer looks depends on who asked, and only that is left to the surface:

- the pages: an HTML page in Russian (``error.html``);
- the JSON API and JSON clients: problem JSON (RFC 9457, ``type: about:blank``) with
  ``code`` and, for a bad field, ``field``;
- the portal feed: its own documented problem format (:class:`gateway.portal.problems.Problem`).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from http import HTTPStatus

from aiohttp import web
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from diary_core.errors import (
    NOT_FOUND_DETAIL,
    Conflict,
    DiaryError,
    Forbidden,
    InvalidInput,
    NotFound,
)
from diary_core.progress.changes import CursorExpired
from gateway.pages import render
from gateway.portal.problems import Problem

#: The status of each kind of core error (a subclass takes its nearest listed ancestor's).
STATUS: dict[type[DiaryError], int] = {
    NotFound: 404,
    Forbidden: 403,
    InvalidInput: 400,
    Conflict: 409,
    CursorExpired: 410,
}
#: A core error of a kind not listed above.
DEFAULT_STATUS = 400

#: The largest request body the gateway reads (``client_max_size``): files and forms.
MAX_REQUEST_BYTES = 8 * 1024 * 1024
TOO_LARGE_DETAIL = (
    f"Запрос слишком велик: файл или форма должны занимать не больше "
    f"{MAX_REQUEST_BYTES // (1024 * 1024)} МБ."
)
#: How long a client should wait before retrying while the database cannot be reached.
RETRY_AFTER_SECONDS = 30
DATABASE_UNAVAILABLE = "Нет связи с базой данных дневника. Повторите попытку через несколько минут."
INTERNAL_ERROR = "Что-то пошло не так. Попробуйте позже."

#: Stable codes, for machines, of the answers that have no code of their own.
CODES = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    500: "internal_error",
    503: "database_unavailable",
}

TITLES = {
    400: "Неверный запрос",
    401: "Требуется вход",
    403: "Доступ запрещён",
    404: "Не найдено",
    405: "Метод не поддерживается",
    409: "Конфликт",
    410: "Больше недоступно",
    413: "Слишком большой запрос",
    500: "Внутренняя ошибка",
    503: "Сервис временно недоступен",
}

#: What aiohttp's own refusals (unknown address, wrong method, body too large …) say, in
#: Russian: their reasons are English status phrases.
_REFUSAL_DETAILS = {
    400: "Запрос составлен неверно.",
    401: "Войдите в систему.",
    403: "Недостаточно прав.",
    404: NOT_FOUND_DETAIL,
    405: "Этот адрес не принимает такой запрос.",
    409: "Запрос противоречит текущему состоянию.",
    413: TOO_LARGE_DETAIL,
}
#: Headers of an aiohttp refusal that the answer keeps (the methods a 405 address accepts).
_KEPT_HEADERS = ("Allow",)


@dataclass(frozen=True)
class ErrorAnswer:
    """What an error answers, whatever the surface: status, stable code, title and detail
    (Russian), the request field at fault, and headers the answer must carry."""

    status: int
    code: str
    detail: str
    field: str | None = None
    headers: Mapping[str, str] = dataclass_field(default_factory=dict)

    @property
    def title(self) -> str:
        return TITLES.get(self.status, "Ошибка")


def status_of(exc: DiaryError) -> int:
    """The HTTP status of a core error, by its class."""
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return DEFAULT_STATUS


def of_core(exc: DiaryError, *, code: str | None = None) -> ErrorAnswer:
    """The answer to a core error. Every NotFound says the same (:data:`NOT_FOUND_DETAIL`),
    so "not yours" and "does not exist" cannot be told apart (docs/regulation.md,
    clause 3.3). ``code``
    replaces the error's own code where a surface documents finer ones."""
    if isinstance(exc, NotFound):
        return ErrorAnswer(404, code or exc.code, NOT_FOUND_DETAIL)
    return ErrorAnswer(
        status_of(exc), code or exc.code, str(exc), field=getattr(exc, "field", None)
    )


def of_refusal(exc: web.HTTPException) -> ErrorAnswer | None:
    """The answer to one of aiohttp's (or a handler's) HTTP refusals, or None for an
    exception that is not an error this module words (a redirect, an unusual status)."""
    if exc.status < 400 or exc.status not in TITLES:
        return None
    if exc.status == 404:
        return ErrorAnswer(404, NotFound.code, NOT_FOUND_DETAIL)
    english = exc.reason == HTTPStatus(exc.status).phrase
    detail = _REFUSAL_DETAILS.get(exc.status, TITLES[exc.status]) if english else exc.reason
    kept = {name: exc.headers[name] for name in _KEPT_HEADERS if name in exc.headers}
    return ErrorAnswer(exc.status, CODES.get(exc.status, "error"), detail, headers=kept)


def database_unavailable() -> ErrorAnswer:
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return ErrorAnswer(503, CODES[503], DATABASE_UNAVAILABLE, headers=retry)


def internal_error() -> ErrorAnswer:
    return ErrorAnswer(500, CODES[500], INTERNAL_ERROR)


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


# --- the answer on each surface ---------------------------------------------------------------


def portal_problem(answer: ErrorAnswer) -> Problem:
    """The answer in the portal feed's problem format (docs/portal.md)."""
    return Problem(answer.status, answer.code, answer.detail, headers=dict(answer.headers))


def core_problem(exc: DiaryError, *, code: str | None = None) -> Problem:
    """A core error as the portal feed answers it: same status as everywhere else."""
    return portal_problem(of_core(exc, code=code))


def problem_json(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """Problem JSON (RFC 9457) as the JSON API answers every refusal."""
    problem: dict[str, object] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if field:
        problem["field"] = field
    return web.Response(
        status=status,
        text=json.dumps(problem, ensure_ascii=False),
        content_type="application/problem+json",
        headers=headers,
    )


def _wants_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return request.path.startswith("/api/") or (
        "application/json" in accept and "text/html" not in accept
    )


def respond(request: web.Request, answer: ErrorAnswer) -> web.Response:
    """``answer`` in the format of the surface ``request`` came to."""
    if request.path.startswith("/portal/"):
        return portal_problem(answer).response()
    if _wants_json(request):
        return problem_json(
            answer.status,
            answer.code,
            answer.title,
            answer.detail,
            field=answer.field,
            headers=answer.headers,
        )
    context = {"status": answer.status, "title": answer.title, "detail": answer.detail}
    response = render("error.html", request, context, status=answer.status)
    response.headers.update(answer.headers)
    return response
