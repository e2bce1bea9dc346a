"""The portal's errors: RFC 9457 problem details with stable ``code``s (documented in
docs/portal.md). Every refusal of the portal API is a :class:`Problem`, answered here."""

from __future__ import annotations

import json

from aiohttp import web

REALM = "ediary-portal"

_TITLES = {
    400: "Неверный запрос",
    401: "Требуется авторизация",
    403: "Недостаточно прав",
    404: "Не найдено",
    405: "Метод не поддерживается",
    406: "Представление не поддерживается",
    410: "Курсор устарел",
    413: "Слишком большой запрос",
    429: "Слишком много запросов",
    500: "Внутренняя ошибка",
    503: "Сервис временно недоступен",
}


class Problem(Exception):
    """A refusal with its status, stable code and a message saying what is wrong."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        oauth_error: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.headers = headers or {}
        self.oauth_error = oauth_error

    def response(self) -> web.Response:
        body: dict[str, object] = {
            "type": f"urn:ediary-gateway:problem:{self.code}",
            "title": _TITLES.get(self.status, "Ошибка"),
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.oauth_error:  # RFC 6749 §5.2 members, for OAuth client libraries
            body.update(error=self.oauth_error, error_description=self.detail)
        return web.Response(
            status=self.status,
            body=json.dumps(body, ensure_ascii=False).encode(),
            content_type="application/problem+json",
            charset="utf-8",
            headers={"Cache-Control": "no-store", **self.headers},
        )


def bad_request(code: str, detail: str) -> Problem:
    return Problem(400, code, detail)


def oauth(status: int, error: str, detail: str) -> Problem:
    """A token-endpoint refusal (its ``code`` is the OAuth error code)."""
    headers = {"WWW-Authenticate": f'Bearer realm="{REALM}"'} if status == 401 else None
    return Problem(status, error, detail, headers=headers, oauth_error=error)


def token_missing() -> Problem:
    return Problem(
        401,
        "token_missing",
        "нужен заголовок Authorization: Bearer с маркером доступа",
        headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},
    )


def token_invalid() -> Problem:
    return Problem(
        401,
        "token_invalid",
        "маркер доступа недействителен или истёк; получите новый",
        headers={"WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token"'},
    )


def insufficient_scope(scope: str) -> Problem:
    return Problem(
        403,
        "insufficient_scope",
        f"маркеру доступа не выдана область {scope}",
        headers={
            "WWW-Authenticate": (
                f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'
            )
        },
    )


def rate_limited(retry_after: int) -> Problem:
    return Problem(
        429,
        "rate_limited",
        f"превышен лимит запросов; повторите через {retry_after} с",
        headers={"Retry-After": str(retry_after)},
    )


def pupil_not_found() -> Problem:
    """Also the answer for a pupil the client may not see: the two are indistinguishable."""
    return Problem(404, "pupil_not_found", "обучающийся с таким СНИЛС не найден")


def guardian_not_found() -> Problem:
    """Also the answer for a parent with no children the client may see."""
    return Problem(
        404, "guardian_not_found", "нет родителя с такой учётной записью ЕСИА и с детьми"
    )


def not_acceptable() -> Problem:
    return Problem(
        406,
        "not_acceptable",
        "поддерживаются Accept: application/xml, application/jose, application/json",
    )


def not_xml(reason: str) -> Problem:
    """The stored data holds a character XML 1.0 cannot carry (stored before the diary refused
    such characters): the XML representation cannot be made; the JSON ones can."""
    return Problem(
        406,
        "not_representable_as_xml",
        f"документ нельзя выдать в XML: {reason}; запросите application/json или application/jose",
    )


def busy() -> Problem:
    return Problem(
        503, "busy", "журнал изменений занят; повторите запрос", headers={"Retry-After": "1"}
    )
