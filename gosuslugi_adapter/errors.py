"""The adapter's one error family, what ESIA's error codes mean, and what to tell the person.

Every failure the gateway can meet at run time is an :class:`EsiaError`. ``str(error)`` is an
English sentence for logs that says what the ESIA code means; ``error.notice`` is what may be
shown to the person signing in: a Russian heading and ``user_message`` (what happened and what to
do), and a :class:`Cause` from which the gateway picks the HTTP status and the links it offers.
Neither ever contains a token or a secret. Every Russian sentence about a failed sign-in lives
here and only here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Cause(StrEnum):
    """Why sign-in did not happen, in the terms a gateway chooses a status and links by."""

    DECLINED = "declined"  # the person, or ESIA on the person's account, refused
    EXPIRED = "expired"  # the sign-in took too long, or its code or transaction was reused
    REQUEST = "request"  # ESIA refused the request our side sent
    BAD_ANSWER = "bad_answer"  # ESIA's answer failed our checks (token, state, format)
    UNAVAILABLE = "unavailable"  # ESIA could not be reached, or is down or overloaded
    TIMEOUT = "timeout"  # ESIA did not answer in time
    SETUP = "setup"  # our side is misconfigured: retrying will not help

    @property
    def retry_helps(self) -> bool:
        """Whether starting the sign-in again can succeed without anyone fixing anything."""
        return self is not Cause.SETUP


@dataclass(frozen=True)
class UserNotice:
    """What the person is told: a heading and a message saying what happened and what to do."""

    cause: Cause
    heading: str
    message: str


_SCHOOL_LOGIN = "войдите по логину и паролю, выданным в школе"
_NOT_YOUR_FAULT = "Вы ничего не сделали неправильно."

DECLINED = UserNotice(
    Cause.DECLINED,
    "Вы отказались от входа через Госуслуги",
    "Вы отказались от входа через Госуслуги или не разрешили электронному дневнику доступ "
    "к своим данным, поэтому вход не выполнен. Чтобы войти, начните вход заново и на странице "
    "Госуслуг разрешите доступ: по этим данным дневник находит вас и ваших детей в списках "
    f"школы. Можно также {_SCHOOL_LOGIN}.",
)
UNCONFIRMED_ACCOUNT = UserNotice(
    Cause.DECLINED,
    "Учётная запись на Госуслугах не подтверждена",
    "Войти в электронный дневник через Госуслуги можно только с подтверждённой учётной "
    "записью. Подтвердите личность на Госуслугах — например, в МФЦ или через онлайн-банк — "
    f"и начните вход заново. Пока {_SCHOOL_LOGIN}.",
)
CODE_EXPIRED = UserNotice(
    Cause.EXPIRED,
    "Время на вход истекло",
    "Вход через Госуслуги не был завершён вовремя, или этот ответ Госуслуг уже был "
    "использован. Так бывает, если страница входа долго оставалась открытой или её обновили. "
    "Начните вход заново.",
)
LOGIN_NOT_FOUND = UserNotice(
    Cause.EXPIRED,
    "Сеанс входа устарел",
    "Мы не нашли начатый вами вход через Госуслуги: он устарел, уже был завершён или был "
    "начат в другом браузере. Начните вход заново в этом же браузере. Если ошибка "
    "повторяется, проверьте, что браузер сохраняет файлы cookie для сайта дневника.",
)
REQUEST_REFUSED = UserNotice(
    Cause.REQUEST,
    "Госуслуги отклонили запрос на вход",
    f"Портал Госуслуг не принял запрос на вход от электронного дневника. {_NOT_YOUR_FAULT} "
    "Начните вход заново. Если ошибка повторится, сообщите администратору школы, а пока "
    f"{_SCHOOL_LOGIN}.",
)
BAD_ANSWER = UserNotice(
    Cause.BAD_ANSWER,
    "Не удалось подтвердить вход через Госуслуги",
    "Ответ портала Госуслуг не прошёл проверку безопасности, поэтому вход не выполнен. "
    f"{_NOT_YOUR_FAULT} Начните вход заново. Если ошибка повторится, сообщите администратору "
    f"школы, а пока {_SCHOOL_LOGIN}.",
)
ESIA_FAILED = UserNotice(
    Cause.UNAVAILABLE,
    "Сбой на портале Госуслуг",
    f"На портале Госуслуг произошла ошибка, и вход не выполнен. {_NOT_YOUR_FAULT} "
    f"Подождите несколько минут и начните вход заново. Если нужно войти сейчас, {_SCHOOL_LOGIN}.",
)
MAINTENANCE = UserNotice(
    Cause.UNAVAILABLE,
    "Госуслуги временно недоступны",
    "На портале Госуслуг идут технические работы или он перегружен, поэтому вход не "
    f"выполнен. Попробуйте войти через несколько минут. Если нужно войти сейчас, {_SCHOOL_LOGIN}.",
)
UNREACHABLE = UserNotice(
    Cause.UNAVAILABLE,
    "Портал Госуслуг недоступен",
    "Электронному дневнику не удалось связаться с порталом Госуслуг, поэтому вход не "
    "выполнен. Возможно, на портале идут технические работы. Попробуйте войти через "
    f"несколько минут. Если нужно войти сейчас, {_SCHOOL_LOGIN}.",
)
TIMED_OUT = UserNotice(
    Cause.TIMEOUT,
    "Госуслуги не ответили вовремя",
    "Портал Госуслуг слишком долго не отвечал, и вход не был завершён. Попробуйте войти "
    f"через несколько минут. Если нужно войти сейчас, {_SCHOOL_LOGIN}.",
)
SETUP = UserNotice(
    Cause.SETUP,
    "Вход через Госуслуги временно недоступен",
    "Подключение электронного дневника к Госуслугам настроено с ошибкой, поэтому войти через "
    f"Госуслуги сейчас нельзя. {_NOT_YOUR_FAULT} Сообщите об этом администратору школы, а пока "
    f"{_SCHOOL_LOGIN}.",
)
CLOCK_SKEW = UserNotice(
    Cause.SETUP,
    "Вход через Госуслуги временно недоступен",
    "Госуслуги отклонили запрос на вход, потому что часы на сервере электронного дневника "
    f"идут неверно. {_NOT_YOUR_FAULT} Сообщите об этом администратору школы, а пока "
    f"{_SCHOOL_LOGIN}.",
)
NOT_CONFIGURED = UserNotice(
    Cause.SETUP,
    "Вход через Госуслуги не настроен",
    "На этом сервере электронного дневника вход через Госуслуги не подключён. "
    f"{_SCHOOL_LOGIN[0].upper()}{_SCHOOL_LOGIN[1:]}.",
)


@dataclass(frozen=True)
class EsiaCode:
    """One ESIA error code: the OAuth error name ESIA pairs it with, its meaning (English, for
    logs) and what the person is told."""

    code: str
    error: str
    meaning: str
    notice: UserNotice

    @property
    def user_message(self) -> str:
        return self.notice.message


CODES: dict[str, EsiaCode] = {
    c.code: c
    for c in (
        EsiaCode(
            "ESIA-007002",
            "invalid_client",
            "the client_id is unknown to ESIA or the certificate does not belong to it",
            SETUP,
        ),
        EsiaCode(
            "ESIA-007003",
            "invalid_request",
            "a parameter is missing, malformed or repeated",
            REQUEST_REFUSED,
        ),
        EsiaCode(
            "ESIA-007004", "access_denied", "the person or ESIA refused the request", DECLINED
        ),
        EsiaCode(
            "ESIA-007005",
            "unauthorized_client",
            "the client may not obtain a token by this method",
            SETUP,
        ),
        EsiaCode(
            "ESIA-007006",
            "invalid_scope",
            "the requested scope is wrong, unknown or malformed",
            SETUP,
        ),
        EsiaCode("ESIA-007007", "server_error", "an unexpected error inside ESIA", ESIA_FAILED),
        EsiaCode(
            "ESIA-007008",
            "temporarily_unavailable",
            "ESIA is overloaded or under maintenance",
            MAINTENANCE,
        ),
        EsiaCode(
            "ESIA-007009",
            "unsupported_grant_type",
            "ESIA does not support this grant type",
            SETUP,
        ),
        EsiaCode(
            "ESIA-007010", "invalid_request", "the request was refused by ESIA", REQUEST_REFUSED
        ),
        EsiaCode(
            "ESIA-007011",
            "invalid_grant",
            "the authorization code or refresh token is invalid, expired, already used, "
            "or was issued to another client or redirect_uri",
            CODE_EXPIRED,
        ),
        EsiaCode(
            "ESIA-007012",
            "unsupported_response_type",
            "the response_type is not supported",
            SETUP,
        ),
        EsiaCode("ESIA-007013", "invalid_scope", "the request has no scope", SETUP),
        EsiaCode(
            "ESIA-007014",
            "invalid_request",
            "a mandatory parameter is missing",
            REQUEST_REFUSED,
        ),
        EsiaCode(
            "ESIA-007015",
            "invalid_request",
            "the request timestamp is wrong (clock skew or bad format)",
            CLOCK_SKEW,
        ),
        EsiaCode(
            "ESIA-007019",
            "access_denied",
            "the client has no permission for this access",
            SETUP,
        ),
        EsiaCode(
            "ESIA-007023",
            "invalid_request",
            "the redirect_uri is not among those registered for the client",
            SETUP,
        ),
        EsiaCode(
            "ESIA-007053",
            "invalid_client",
            "the client_secret is malformed or its signature does not match the "
            "certificate registered for the client (or that certificate is inactive)",
            SETUP,
        ),
        EsiaCode(
            "ESIA-007055",
            "access_denied",
            "the person's ESIA account is not confirmed (not trusted)",
            UNCONFIRMED_ACCOUNT,
        ),
    )
}

#: For codes ESIA may add later: what the OAuth ``error`` alone says.
_BY_ERROR: dict[str, UserNotice] = {
    "access_denied": DECLINED,
    "invalid_grant": CODE_EXPIRED,
    "server_error": ESIA_FAILED,
    "temporarily_unavailable": MAINTENANCE,
    "invalid_client": SETUP,
    "unauthorized_client": SETUP,
    "invalid_scope": SETUP,
    "unsupported_grant_type": SETUP,
    "unsupported_response_type": SETUP,
}
_ACCESS_DENIED = EsiaCode(
    "access_denied", "access_denied", "the person declined to grant access", DECLINED
)
_CODE_IN_TEXT = re.compile(r"ESIA-\d{6}")


def lookup(error: str, description: str = "") -> EsiaCode:
    """The known meaning of an ESIA error from its ``error`` and ``error_description``."""
    found = _CODE_IN_TEXT.search(description or "")
    if found and found.group(0) in CODES:
        return CODES[found.group(0)]
    if error == "access_denied" and not found:
        return _ACCESS_DENIED
    code = found.group(0) if found else error or "unknown"
    notice = _BY_ERROR.get(error, REQUEST_REFUSED)
    return EsiaCode(code, error, f"ESIA reported {code}", notice)


class EsiaError(Exception):
    """Base of every run-time failure in the adapter.

    By default the person is told that ESIA's answer failed our checks (not his fault, try
    again); subclasses that know better carry their own :attr:`notice`.
    """

    notice: UserNotice = BAD_ANSWER

    @property
    def user_message(self) -> str:
        """What happened and what to do, in Russian; safe to show to the person."""
        return self.notice.message

    @property
    def cause(self) -> Cause:
        return self.notice.cause


class EsiaProtocolError(EsiaError):
    """ESIA (or something in between) answered in a way the protocol does not allow."""


class EsiaStateMismatch(EsiaProtocolError):
    """The ``state`` ESIA echoed is not the one we sent: the response is not ours."""


class EsiaUnavailable(EsiaError):
    """ESIA could not be reached (connection refused, reset, DNS) or answered HTTP 5xx without
    an ESIA error body."""

    notice = UNREACHABLE


class EsiaTimeout(EsiaUnavailable):
    """ESIA did not answer within the client's timeout."""

    notice = TIMED_OUT


class EsiaRemoteError(EsiaError):
    """ESIA answered with an error code (an error redirect or an error response)."""

    def __init__(self, error: str, description: str = "", state: str | None = None) -> None:
        self.info = lookup(error, description)
        self.error = error
        self.description = description
        self.state = state
        self.notice = self.info.notice
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

    notice = SETUP
