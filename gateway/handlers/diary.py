"""The parent's and pupil's diary at ``/diary``: a child switch, and for the chosen child his
marks by subject (what each was for, weighted averages, period marks) for a chosen period,
attendance, homework, the week's timetable with its changes, announcements and notifications.

Query parameters: ``pupil`` (one of the actor's children; any other id is 404), ``period``
(a period of the child's school year), ``week`` (any date of the week to show).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from diary_core import (
    announcements,
    families,
    notifications,
    pupil_report,
    timetable,
)
from diary_core.attendance import pupil_attendance
from diary_core.context import Ctx
from diary_core.errors import InvalidInput, NotFound
from diary_core.families import FamilyPupil
from diary_core.homework import class_homework
from diary_core.periods import SchoolPeriod, current_period, pupil_periods
from diary_core.policy import ClassTarget, PupilPlace
from diary_core.recent_marks import recent_marks
from diary_core.roles import FAMILY_ROLES
from gateway import auth
from gateway.pages import render

HOMEWORK_DAYS = 7  # the last week's homework, and the coming week's
NEW_MARKS_DAYS = 7
NOTIFICATIONS_SHOWN = 10
ANNOUNCEMENTS_SHOWN = 5
WEEKDAYS = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")
CHANGE_TITLES = {
    "substitution": "замена",
    "cancellation": "отменён",
    "room_change": "другой кабинет",
    "moved": "перенесён",
    "moved_in": "перенесён сюда",
}


def week_monday(raw: str | None, today: date) -> date:
    """The Monday of the week asked for (``YYYY-MM-DD``, any day of it); by default this
    week, or the coming one on a Sunday."""
    if raw:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise InvalidInput("неделя указана неверно: ожидается дата ГГГГ-ММ-ДД") from None
    else:
        day = today + timedelta(days=1) if today.isoweekday() == 7 else today
    return day - timedelta(days=day.isoweekday() - 1)


def _chosen(pupils: list[FamilyPupil], wanted: str | None) -> FamilyPupil:
    if not wanted:
        return pupils[0]
    found = next((p for p in pupils if str(p.pupil_id) == wanted), None)
    if found is None:
        raise NotFound("обучающийся не найден")
    return found


def _period(periods: list[SchoolPeriod], wanted: str | None, today: date) -> SchoolPeriod | None:
    if not wanted:
        return current_period(periods, today)
    found = next((p for p in periods if str(p.id) == wanted), None)
    if found is None:
        raise NotFound("учебный период не найден")
    return found


@dataclass(frozen=True)
class _Query:
    pupil: str | None
    period: str | None
    monday: date


async def _marks(ctx: Ctx, pupil: PupilPlace, q: _Query) -> dict[str, Any]:
    today = ctx.today()
    periods = await pupil_periods(ctx, pupil)
    period = _period(periods, q.period, today)
    if period is None:
        return {"periods": periods, "period": None, "report": None, "attendance": None}
    report = await pupil_report.pupil_marks(ctx, pupil.pupil_id, period.starts_on, period.ends_on)
    return {
        "periods": periods,
        "period": period,
        "period_names": {p.id: p.name for p in periods},
        "report": report,
        "attendance": await pupil_attendance(ctx, report),
    }


async def _homework(ctx: Ctx, cls: ClassTarget) -> dict[str, Any]:
    today = ctx.today()
    span = timedelta(days=HOMEWORK_DAYS)
    given = await class_homework(ctx, cls, today - span, today + span)
    return {
        "homework_coming": [h for h in given if h.date >= today],
        "homework_past": sorted((h for h in given if h.date < today), key=lambda h: h.date)[::-1],
    }


async def _news(ctx: Ctx, pupil: PupilPlace) -> dict[str, Any]:
    """Announcements for the child's school and class, notifications, new marks."""
    shown = await announcements.announcements_for_pupil(ctx, pupil)
    since = ctx.now() - timedelta(days=NEW_MARKS_DAYS)
    latest, unread = await notifications.latest_notifications(ctx, NOTIFICATIONS_SHOWN)
    return {
        "announcements": shown[:ANNOUNCEMENTS_SHOWN],
        "announcements_unread": sum(1 for a in shown if not a.is_read),
        "notifications": latest,
        "notifications_unread": unread,
        "new_marks": await recent_marks(ctx, pupil, since),
    }


async def _diary(ctx: Ctx, q: _Query) -> dict[str, Any]:
    """The chosen child's diary. His place (school, class) is read with the family's
    children, and each read below checks the policy on it before reading."""
    pupils = await families.my_pupils(ctx)
    if not pupils:
        return {"pupils": [], "current": None}
    current = _chosen(pupils, q.pupil)
    pupil = PupilPlace(current.pupil_id, current.school_id, current.class_id)
    cls = ClassTarget(current.school_id, current.class_id)
    week = await timetable.class_week(ctx, cls, current.class_name, q.monday)
    return {
        "pupils": pupils,
        "current": current,
        "today": ctx.today(),
        "week": week,
        "prev_week": q.monday - timedelta(days=7),
        "next_week": q.monday + timedelta(days=7),
        **await _marks(ctx, pupil, q),
        **await _homework(ctx, cls),
        **await _news(ctx, pupil),
    }


def _query(request: web.Request) -> _Query:
    today = auth.school_today(request)
    query: Mapping[str, str] = request.query
    return _Query(query.get("pupil"), query.get("period"), week_monday(query.get("week"), today))


async def diary_page(request: web.Request) -> web.Response:
    """The diary of one of the actor's children (or the pupil's own); staff go to the console."""
    actor = await auth.request_actor(request)
    if not actor.roles & FAMILY_ROLES:
        raise web.HTTPSeeOther("/console")
    q = _query(request)

    async def load(ctx: Ctx) -> dict[str, Any]:
        return await _diary(ctx, q)

    context = await auth.run(request, load, commit=False)
    context.update(weekdays=WEEKDAYS, change_titles=CHANGE_TITLES)
    return render("diary.html", request, context)
