"""Lessons as given: date, topic and homework, and what is still missing (regulation 1.4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, select

from diary_core.context import Ctx
from diary_core.errors import InvalidInput, NotFound
from diary_core.models import Lesson, Mark, SchoolClass, Subject
from diary_core.policy import Action, ClassTarget, SchoolTarget, SubjectTarget
from diary_core.text import clean_line
from diary_core.text import clean_text as clean_multiline

MAX_TEXT = 2000


@dataclass(frozen=True)
class LessonRow:
    id: int
    date: date
    lesson_number: int
    subject_id: int
    subject: str
    teacher_id: int
    topic: str
    homework: str


def _text(value: str, name: str, label: str, *, multiline: bool) -> str:
    value = (clean_multiline if multiline else clean_line)(value or "", name, label).strip()
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"текст длиннее {MAX_TEXT} символов", field=name)
    return value


async def _class(ctx: Ctx, class_id: int) -> SchoolClass:
    cls = await ctx.session.get(SchoolClass, class_id)
    if cls is None:
        raise NotFound("класс не найден")
    return cls


async def record_lesson(
    ctx: Ctx,
    *,
    class_id: int,
    subject_id: int,
    day: date,
    lesson_number: int,
    topic: str = "",
    homework: str = "",
    teacher_id: int | None = None,
) -> Lesson:
    """Create the lesson or update its topic and homework (the teacher of that subject).

    The lesson's teacher is the actor; the operator (system) must name one."""
    cls = await _class(ctx, class_id)
    ctx.require(Action.EDIT_LESSON, SubjectTarget(cls.school_id, cls.id, subject_id))
    if not 1 <= lesson_number <= 12:
        raise InvalidInput("номер урока должен быть от 1 до 12", field="lesson_number")
    now = ctx.now()
    actor_id = None if ctx.actor.system else ctx.actor.user_id
    lesson = await ctx.session.scalar(
        select(Lesson).where(
            Lesson.class_id == class_id, Lesson.date == day, Lesson.lesson_number == lesson_number
        )
    )
    if lesson is None:
        given_by = teacher_id if ctx.actor.system else actor_id
        if given_by is None:
            raise InvalidInput("не указан учитель урока", field="teacher")
        lesson = Lesson(
            school_id=cls.school_id,
            class_id=cls.id,
            subject_id=subject_id,
            teacher_id=given_by,
            date=day,
            lesson_number=lesson_number,
            created_at=now,
            created_by_id=actor_id,
        )
        ctx.session.add(lesson)
    elif lesson.subject_id != subject_id:
        raise InvalidInput("в это время у класса урок другого предмета", field="lesson_number")
    lesson.topic = _text(topic, "topic", "Тема урока", multiline=False)
    lesson.homework = _text(homework, "homework", "Домашнее задание", multiline=True)
    lesson.updated_at, lesson.updated_by_id = now, actor_id
    await ctx.session.flush()
    return lesson


async def class_lessons(
    ctx: Ctx, class_id: int, start: date, end: date, subject_id: int | None = None
) -> list[LessonRow]:
    """Lessons of a class in a date range: topics and homework (families and staff alike)."""
    cls = await _class(ctx, class_id)
    ctx.require(Action.READ_CLASS, ClassTarget(cls.school_id, cls.id))
    stmt = (
        select(
            Lesson.id,
            Lesson.date,
            Lesson.lesson_number,
            Lesson.subject_id,
            Subject.name,
            Lesson.teacher_id,
            Lesson.topic,
            Lesson.homework,
        )
        .join(Subject, Subject.id == Lesson.subject_id)
        .where(Lesson.class_id == class_id, Lesson.date >= start, Lesson.date <= end)
        .order_by(Lesson.date, Lesson.lesson_number)
    )
    if subject_id is not None:
        stmt = stmt.where(Lesson.subject_id == subject_id)
    return [LessonRow(*row) for row in await ctx.session.execute(stmt)]


@dataclass(frozen=True)
class MissingEntry:
    lesson_id: int
    class_name: str
    subject: str
    date: date
    lesson_number: int
    teacher_id: int
    without_topic: bool
    without_marks: bool


async def missing_entries(
    ctx: Ctx, school_id: int, start: date, end: date, teacher_id: int | None = None
) -> list[MissingEntry]:
    """Lessons without a topic or without a single mark (regulation 1.4: data kept current).

    A teacher sees his own; the administrator the whole school or one teacher's."""
    if teacher_id is None or teacher_id != ctx.actor.user_id:
        ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school_id))
    elif not ctx.actor.staff_of(school_id):
        raise NotFound("школа не найдена")
    has_marks = exists().where(Mark.lesson_id == Lesson.id)
    stmt = (
        select(
            Lesson.id,
            SchoolClass.name,
            Subject.name,
            Lesson.date,
            Lesson.lesson_number,
            Lesson.teacher_id,
            Lesson.topic == "",
            ~has_marks,
        )
        .join(SchoolClass, SchoolClass.id == Lesson.class_id)
        .join(Subject, Subject.id == Lesson.subject_id)
        .where(
            Lesson.school_id == school_id,
            Lesson.date >= start,
            Lesson.date <= end,
            (Lesson.topic == "") | ~has_marks,
        )
        .order_by(Lesson.date, SchoolClass.name, Lesson.lesson_number)
    )
    if teacher_id is not None:
        stmt = stmt.where(Lesson.teacher_id == teacher_id)
    return [MissingEntry(*row) for row in await ctx.session.execute(stmt)]
