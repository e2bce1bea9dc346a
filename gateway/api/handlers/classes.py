"""A class's lessons and homework, its week's timetable, the gradebook grid, and recording
a lesson's topic and homework."""

from __future__ import annotations

from datetime import timedelta

from diary_core import journal, lessons, timetable
from diary_core.context import Ctx
from gateway.api import serialize
from gateway.api.bodies import NEW_LESSON
from gateway.api.handlers.pupils import RANGE, date_range
from gateway.api.spec import DATE, ID, ApiCall, Endpoint, Json, array, path_id, query, ref

CLASS = path_id("class_id", "класс")


async def class_lessons(call: ApiCall) -> Json:
    start, end = date_range(call)

    async def use_case(ctx: Ctx) -> Json:
        rows = await lessons.class_lessons(
            ctx, call.params["class_id"], start, end, call.params.get("subject")
        )
        return [serialize.lesson(r) for r in rows]

    return await call.run(use_case)


async def week_timetable(call: ApiCall) -> Json:
    """Any day of the wanted week (default: today) names the week from its Monday."""

    async def use_case(ctx: Ctx) -> Json:
        day = call.params.get("week") or ctx.today()
        monday = day - timedelta(days=day.isoweekday() - 1)
        return serialize.week(await timetable.week_timetable(ctx, call.params["class_id"], monday))

    return await call.run(use_case)


async def gradebook(call: ApiCall) -> Json:
    p = call.params

    async def use_case(ctx: Ctx) -> Json:
        grid = await journal.gradebook_grid(ctx, p["class"], p["subject"], p["period"])
        return serialize.gradebook(grid)

    return await call.run(use_case)


async def record_lesson(call: ApiCall) -> Json:
    b = call.body

    async def use_case(ctx: Ctx) -> Json:
        lesson = await lessons.record_lesson(
            ctx,
            class_id=b["class_id"],
            subject_id=b["subject_id"],
            day=b["date"],
            lesson_number=b["lesson_number"],
            topic=b.get("topic", ""),
            homework=b.get("homework", ""),
        )
        return serialize.recorded_lesson(lesson)

    return await call.run(use_case)


ENDPOINTS = (
    Endpoint(
        "GET",
        "/classes/{class_id}/lessons",
        "listClassLessons",
        "Уроки класса за период: темы и домашние задания",
        "Класс",
        class_lessons,
        params=(CLASS, *RANGE, query("subject", ID, "только этот предмет", required=False)),
        response=array(ref("Lesson")),
        errors=(404,),
    ),
    Endpoint(
        "GET",
        "/classes/{class_id}/timetable",
        "getClassTimetable",
        "Расписание класса на неделю с изменениями (замена, отмена, перенос, кабинет)",
        "Класс",
        week_timetable,
        params=(
            CLASS,
            query("week", DATE, "любой день недели (по умолчанию сегодня)", required=False),
        ),
        response=ref("WeekTimetable"),
        errors=(404,),
    ),
    Endpoint(
        "GET",
        "/gradebook",
        "getGradebook",
        "Журнал класса по предмету за учебный период: ученики × уроки",
        "Журнал",
        gradebook,
        params=(
            query("class", ID, "класс"),
            query("subject", ID, "предмет"),
            query("period", ID, "учебный период"),
        ),
        response=ref("Gradebook"),
    ),
    Endpoint(
        "POST",
        "/lessons",
        "recordLesson",
        "Записать урок: тема и домашнее задание (создать или обновить)",
        "Журнал",
        record_lesson,
        body=NEW_LESSON,
        response=ref("RecordedLesson"),
    ),
)
