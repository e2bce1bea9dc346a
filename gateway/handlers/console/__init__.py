"""The staff console at ``/console``: the index by role, the subject teacher's journal and the
class teacher's pages (the administrator's pages live under ``/console/admin``).

Shared here: the staff-only guard and the small parsers every console form uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from aiohttp import web

from diary_core.errors import InvalidInput
from diary_core.policy import Actor
from diary_core.roles import FAMILY_ROLES
from gateway import auth
from gateway.pages import render

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def staff_actor(request: web.Request) -> Actor:
    """The signed-in staff member. A parent or pupil is sent to his diary; anyone else (an
    account acting in no staff role) is refused."""
    actor = await auth.request_actor(request)
    if actor.is_staff:
        return actor
    if actor.roles & FAMILY_ROLES:
        raise web.HTTPSeeOther("/diary")
    raise web.HTTPForbidden(reason="Раздел доступен только сотрудникам школы")


def parse_id(raw: object, label: str) -> int:
    """A positive object id from a query or form field, or :class:`InvalidInput` naming it."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise InvalidInput(f"не указан или неверно указан {label}", field=label)
    return int(text)


def parse_day(raw: object, label: str) -> date:
    """A date as a browser's date field sends it (``YYYY-MM-DD``) or as people write it
    (``ДД.ММ.ГГГГ``)."""
    text = raw.strip() if isinstance(raw, str) else ""
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InvalidInput(f"{label}: неверная дата «{text}» (ожидается ДД.ММ.ГГГГ)", field=label)


def form_text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def page(
    template: str,
    request: web.Request,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """Render a console page with the form token every console form carries."""
    response = render(
        template, request, {"csrf_token": auth.csrf_token(request), **context}, status=status
    )
    response.headers.update(headers or {})
    return response


def setup_console_routes(app: web.Application) -> None:
    """Register the console's routes (the administrator's are registered separately)."""
    from gateway.handlers.console import (
        class_announcements,
        class_teacher,
        class_timetable,
        gradebook,
        index,
        lesson_history,
    )

    r = app.router
    r.add_get("/console", index.index_page, name="console")
    r.add_get("/console/gradebook", gradebook.grid_page, name="console_gradebook")
    r.add_post("/console/gradebook", gradebook.grid_submit)
    r.add_post("/console/lessons", gradebook.lesson_create)
    r.add_get(r"/console/lessons/{lesson_id:\d+}", gradebook.lesson_page, name="console_lesson")
    r.add_post(r"/console/lessons/{lesson_id:\d+}", gradebook.lesson_submit)
    r.add_get(
        r"/console/lessons/{lesson_id:\d+}/history",
        lesson_history.lesson_history_page,
        name="console_lesson_history",
    )
    r.add_get(r"/console/marks/{mark_id:\d+}", gradebook.mark_page, name="console_mark")
    base = r"/console/class/{class_id:\d+}"
    r.add_get(base, class_teacher.class_page, name="console_class")
    r.add_get(base + "/credentials", class_teacher.slips_gone)
    r.add_post(base + "/credentials", class_teacher.issue_submit)
    r.add_post(base + r"/guardianships/{link_id:\d+}", class_teacher.guardianship_submit)
    r.add_get(base + "/announcements", class_announcements.announcements_page)
    r.add_post(base + "/announcements", class_announcements.announcement_submit)
    r.add_get(base + "/timetable", class_timetable.timetable_page)
    r.add_post(base + "/timetable", class_timetable.timetable_submit)
