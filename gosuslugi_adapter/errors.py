"""The adapter's one error family, and what ESIA's error codes mean.

Every failure the gateway can meet at run time is an :class:`EsiaError`. ``str(error)`` is an
English sentence for logs that says what the ESIA code means; ``user_message`` is a Russian
sentence that may be shown to the person signing in. Neither ever contains a token or a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class EsiaCode:
    """One ESIA error code: the OAuth error name ESIA pairs it with, and its meaning."""

    code: str
    error: str
    meaning: str
    user_message: str


_GENERIC_USER_MESSAGE = "Не удалось войти через Госуслуги. Попробуйте ещё раз немного позже."
_SETUP_USER_MESSAGE = (
    "Вход через Госуслуги временно недоступен: ошибка настройки подключения. "
    "Сообщите администратору школы."
)

CODES: dict[str, EsiaCode] = {
    c.code: c
    for c in (
        EsiaCode(
            "ESIA-007002",
            "invalid_client",
            "the client_id is unknown to ESIA or the certificate does not belong to it",
            _SETUP_USER_MESSAGE,
        ),
        EsiaCode(
            "ESIA-007003",
            "invalid_request",
            "a parameter is missing, malformed or repeated",
            _GENERIC_USER_MESSAGE,
        ),
        EsiaCode(
            "ESIA-007004",
            "access_denied",
            "the person or ESIA refused the request",
            "Вход отменён: доступ к данным на Госуслугах не предоставлен.",
        ),
        EsiaCode(
            "ESIA-007005",
            "unauthorized_client",
            "the client may not obtain a token by this method",
            _SETUP_USER_MESSAGE,
        ),
        EsiaCode(
            "ESIA-007006",
            "invalid_scope",
            "the requested scope is wrong, unknown or malformed",
            _SETUP_USER_MESSAGE,
        ),
        EsiaCode(
            "ESIA-007007", "server_error", "an unexpected error inside ESIA", _GENERIC_USER_MESSAGE
        ),
        EsiaCode(
            "ESIA-007008",
            "temporarily_unavailable",
            "ESIA is overloaded or under maintenance",
            "Госуслуги сейчас недоступны (технические работы). Попробуйте позже.",
        ),
        EsiaCode(
            "ESIA-007009",
            "unsupported_grant_type",
            "ESIA does not support this grant type",
            _SETUP_USER_MESSAGE,
        ),
        EsiaCode(
            "ESIA-007010",
            "invalid_request",
            "the request was refused by ESIA",
            _GENERIC_USER_MESSAGE,
        ),
        EsiaCode(
            "ESIA-007011",
            "invalid_grant",
            "the authorization code or refresh token is invalid, expired, already used, "
            "or was issued to another client or redirect_uri",
            "Время на вход истекло. Начните вход через Госуслуги заново.",
        ),
        EsiaCode(
            "ESIA-007012",
            "unsupported_response_type",
            "the response_type is not supported",
            _SETUP_USER_MESSAGE,
        ),
        EsiaCode("ESIA-007013", "invalid_scope", "the request has no scope", _SETUP_USER_MESSAGE),
        EsiaCode(
            "ESIA-007014",
            "invalid_request",
            "a mandatory parameter is missing",
            _GENERIC_USER_MESSAGE,
        ),
        EsiaCode(
            "ESIA-007015",
            "invalid_request",
            "the request timestamp is wrong (clock skew or bad format)",
            "Не удалось войти через Госуслуги: неверное время на сервере школы. "
            "Сообщите администратору.",
        ),
        EsiaCode(
            "ESIA-007019",
            "access_denied",
            "the client has no permission for this access",
            _SETUP_USER_MESSAGE,
        ),
        EsiaCode(
            "ESIA-007023",
            "invalid_request",
            "the redirect_uri is not among those registered for the client",
            _SETUP_USER_MESSAGE,
        ),
        EsiaCode(
            "ESIA-007053",
            "invalid_client",
            "the client_secret is malformed or its signature does not match the "
            "certificate registered for the client (or that certificate is inactive)",
            _SETUP_USER_MESSAGE,
        ),
        EsiaCode(
            "ESIA-007055",
            "access_denied",
            "the person's ESIA account is not confirmed (not trusted)",
            "Вход возможен только с подтверждённой учётной записью Госуслуг. "
            "Подтвердите личность на Госуслугах и повторите вход.",
        ),
    )
}

_ACCESS_DENIED = EsiaCode(
    "access_denied",
    "access_denied",
    "the person declined to grant access",
    "Вход отменён: доступ к данным на Госуслугах не предоставлен.",
)
_CODE_IN_TEXT = re.compile(r"ESIA-\d{6}")


def lookup(error: str, description: str = "") -> EsiaCode:
    """The known meaning of an ESIA error from its ``error`` and ``error_description``."""
    found = _CODE_IN_TEXT.search(description or "")
    if found and found.group(0) in CODES:
        return CODES[found.group(0)]
    if error == "access_denied":
        return _ACCESS_DENIED
    code = found.group(0) if found else error or "unknown"
    return EsiaCode(code, error, f"ESIA reported {code}", _GENERIC_USER_MESSAGE)


class EsiaError(Exception):
    """Base of every run-time failure in the adapter."""

    user_message = _GENERIC_USER_MESSAGE


class EsiaProtocolError(EsiaError):
    """ESIA (or something in between) answered in a way the protocol does not allow."""


class EsiaStateMismatch(EsiaProtocolError):
    """The ``state`` ESIA echoed is not the one we sent: the response is not ours."""


class EsiaRemoteError(EsiaError):
    """ESIA answered with an error code (an error redirect or an error response)."""

    def __init__(self, error: str, description: str = "", state: str | None = None) -> None:
        self.info = lookup(error, description)
        self.error = error
        self.description = description
        self.state = state
        self.user_message = self.info.user_message
        super().__init__(
            f"{self.info.code}: {self.info.meaning} (ESIA said: {error}"
            f"{': ' + description if description else ''})"
        )

    @property
    def code(self) -> str:
        """``ESIA-0070xx``, or ``access_denied`` when ESIA sent no numbered code."""
        return self.info.code

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> EsiaRemoteError:
        """Build the matching subclass from an error redirect's query or an error body."""
        error = str(fields.get("error", ""))
        description = str(fields.get("error_description", ""))
        denied = lookup(error, description).error == "access_denied"
        kind = EsiaAccessDenied if denied and issubclass(EsiaAccessDenied, cls) else cls
        return kind(error, description, fields.get("state"))


class EsiaAuthorizationError(EsiaRemoteError):
    """ESIA redirected back with ``error`` instead of a code."""


class EsiaAccessDenied(EsiaAuthorizationError):
    """The person declined, or ESIA refused the person (e.g. ESIA-007004, ESIA-007055)."""


class EsiaTokenError(EsiaRemoteError):
    """The token endpoint answered with an error."""


class SignerError(EsiaError):
    """The client_secret could not be produced (bad key, external command failed)."""

    user_message = _SETUP_USER_MESSAGE
