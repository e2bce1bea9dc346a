"""``/console``: what a staff member has to do, by role
(docs/regulation.md, clauses 1.4, 3.2, 5.1)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from diary_core import lessons, messaging
from diary_core.context import Ctx
from diary_core.periods import current_period, school_periods
from diary_core.roles import Role
from diary_core.teaching import led_classes, teaching_of
from gateway import auth
from gateway.handlers.console import page, staff_actor

#: docs/regulation.md, clause 1.4: staff see what is missing from the recent past.
MISSING_WINDOW = timedelta(days=14)

ADMIN_LINKS = (
    ("/console/admin/staff", "Сотрудники и их учётные записи"),
    ("/console/admin/classes", "Классы, предметы, кто что ведёт"),
    ("/console/admin/timetable", "Расписание: редактирование и публикация"),
    ("/console/admin/import", "Загрузка списков классов и отметок"),
    ("/console/admin/replies", "Сроки ответов родителям"),
    ("/console/admin/audit", "Журнал доступа и изменений"),
    ("/console/admin/periods", "Закрытие итоговых отметок"),
)


async def _overview(ctx: Ctx) -> dict[str, object]:
    actor = ctx.actor
    today = ctx.now().date()
    teaching = await teaching_of(ctx)
    periods = await school_periods(ctx, actor.school_id) if actor.school_id else []
    missing: list[lessons.MissingEntry] = []
    if teaching and actor.school_id is not None:
        missing = await lessons.missing_entries(
            ctx, actor.school_id, today - MISSING_WINDOW, today, teacher_id=actor.user_id
        )
    return {
        "teaching": teaching,
        "period": current_period(periods, today),
        "classes": await led_classes(ctx),
        "missing": missing,
        "awaiting": await messaging.awaiting_reply(ctx),
        "admin_links": ADMIN_LINKS if actor.has(Role.ADMINISTRATOR) else (),
        "today": today,
    }


async def index_page(request: web.Request) -> web.Response:
    await staff_actor(request)
    context = await auth.run(request, _overview, commit=False)
    return page("console/index.html", request, context)
