"""What every page of the administrator's console shares: who may enter, form parsing,
rendering with the console's navigation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from aiohttp import web

from diary_core.errors import Forbidden, InvalidInput
from diary_core.imports.csvfile import parse_date
from diary_core.policy import Actor
from diary_core.roles import ROLE_TITLES, Role
from gateway import auth
from gateway.pages import render

SECTIONS: tuple[tuple[str, str], ...] = (
    ("/console/admin/staff", "Сотрудники"),
    ("/console/admin/classes", "Классы и предметы"),
    ("/console/admin/timetable", "Расписание"),
    ("/console/admin/import", "Импорт"),
    ("/console/admin/replies", "Сроки ответов"),
    ("/console/admin/audit", "Журнал действий"),
    ("/console/admin/periods", "Итоговые отметки"),
    ("/console/admin/personal-data", "Выгрузка данных"),
    ("/console/admin/announcements", "Объявления"),
)


async def admin_actor(request: web.Request) -> tuple[Actor, int]:
    """The signed-in administrator and his school.

    Security decision: the console's pages are the administration's; anyone else (teacher,
    class teacher, parent, pupil) is refused with 403 before any read. This only chooses
    what to show: every read and write below still asks the core's access policy, which
    also keeps an administrator inside his own school (another school's objects: 404).
    """
    actor = await auth.request_actor(request)
    if not actor.has(Role.ADMINISTRATOR) or actor.school_id is None:
        raise Forbidden("этот раздел доступен только администрации школы")
    return actor, actor.school_id


def page(
    template: str, request: web.Request, context: Mapping[str, Any], *, status: int = 200
) -> web.Response:
    """Render a console page with the CSRF token and the section navigation."""
    return render(
        f"console/admin/{template}",
        request,
        {
            "csrf_token": auth.csrf_token(request),
            "sections": SECTIONS,
            "here": request.path,
            "role_titles": ROLE_TITLES,
            **context,
        },
        status=status,
    )


def text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def optional_int(raw: str | None, what: str) -> int | None:
    """An id from a form or query; empty is None, anything but digits is a clear error."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise InvalidInput(f"неверное значение поля «{what}»")
    return int(raw)


def required_int(raw: str | None, what: str) -> int:
    value = optional_int(raw, what)
    if value is None:
        raise InvalidInput(f"не выбрано: {what}")
    return value


def optional_date(raw: str | None, what: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return parse_date(raw)
    except InvalidInput:
        raise InvalidInput(f"неверная дата в поле «{what}» (ДД.ММ.ГГГГ или ГГГГ-ММ-ДД)") from None


def path_id(request: web.Request, name: str) -> int:
    return int(request.match_info[name])
