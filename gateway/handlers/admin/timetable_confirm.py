"""The confirmation step in front of publishing a timetable version (the publish handler in
:mod:`gateway.handlers.admin.timetable` answers with it unless the form says
``confirm=yes``; see :mod:`gateway.handlers.admin.confirm`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from aiohttp import web

from diary_core.context import Ctx
from diary_core.errors import Conflict, NotFound
from diary_core.models import SchoolClass, Timetable
from diary_core.policy import Action, ClassTarget
from gateway import auth
from gateway.handlers.admin.confirm import confirm_page


@dataclass(frozen=True)
class _ToPublish:
    class_id: int
    class_name: str
    valid_from: date


async def _to_publish(ctx: Ctx, timetable_id: int) -> _ToPublish:
    """The draft the confirmation names, asked of the policy as the publishing is (another
    school's: "not found"); a version already published is refused before asking."""
    tt = await ctx.session.get(Timetable, timetable_id)
    if tt is None:
        raise NotFound("расписание не найдено")
    ctx.require(Action.PUBLISH_TIMETABLE, ClassTarget(tt.school_id, tt.class_id))
    if tt.published_at is not None:
        raise Conflict("это расписание уже опубликовано")
    cls = await ctx.session.get(SchoolClass, tt.class_id)
    if cls is None:
        raise NotFound("расписание не найдено")
    return _ToPublish(cls.id, cls.name, tt.valid_from)


def publish_question(class_name: str, valid_from: date) -> str:
    """«Опубликовать расписание 5А с 08.12.2026? Семьи увидят его сразу, классы с изменениями
    получат уведомление.»"""
    return (
        f"Опубликовать расписание {class_name} с {valid_from.strftime('%d.%m.%Y')}? "
        "Семьи увидят его сразу, классы с изменениями получат уведомление."
    )


async def confirm_publish(request: web.Request, timetable_id: int) -> web.Response:
    """The page asking before publishing ``timetable_id``; it changes nothing."""
    draft = await auth.run(request, lambda ctx: _to_publish(ctx, timetable_id), commit=False)
    return confirm_page(
        request,
        title="Публикация расписания",
        question=publish_question(draft.class_name, draft.valid_from),
        button="Опубликовать",
        cancel=f"/console/admin/timetable?class={draft.class_id}&tt={timetable_id}",
    )
