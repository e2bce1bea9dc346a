"""A class's homework: the lessons of a date range that set some."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, bindparam, select

from diary_core.context import Ctx
from diary_core.lessons import LessonRow
from diary_core.models import (
    Lesson,
    Subject,
)
from diary_core.policy import (
    Action,
    ClassTarget,
)


async def class_homework(ctx: Ctx, cls: ClassTarget, start: date, end: date) -> list[LessonRow]:
    """The lessons of a class in a date range that set homework, in order (the policy's
    ``READ_CLASS`` on a class the caller has just read from the database)."""
    ctx.require(Action.READ_CLASS, cls)
    rows = await ctx.session.execute(
        _HOMEWORK, {"class_id": cls.class_id, "start": start, "end": end}
    )
    return [LessonRow(*row) for row in rows]


def _homework_query() -> Select[Any]:
    lesson, subject = Lesson.__table__.c, Subject.__table__.c
    return (
        select(
            lesson.id,
            lesson.date,
            lesson.lesson_number,
            lesson.subject_id,
            subject.name,
            lesson.teacher_id,
            lesson.topic,
            lesson.homework,
        )
        .join(Subject.__table__, subject.id == lesson.subject_id)
        .where(
            lesson.class_id == bindparam("class_id"),
            lesson.date >= bindparam("start"),
            lesson.date <= bindparam("end"),
            lesson.homework != "",
        )
        .order_by(lesson.date, lesson.lesson_number)
    )


_HOMEWORK = _homework_query()
