"""Lessons as given: date, topic and homework, and what is still missing
(docs/regulation.md, clause 1.4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, select

from diary_core import audit
from diary_core.context import Ctx
from diary_core.errors import InvalidInput, NotFound
from diary_core.models import Lesson, LessonHistoryEntry, Mark, SchoolClass, Subject, User
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
        old_topic = old_homework = ""
    elif lesson.subject_id != subject_id:
        raise InvalidInput("в это время у класса урок другого предмета", field="lesson_number")
    else:
        old_topic, old_homework = lesson.topic, lesson.homework
    new_topic = _text(topic, "topic", "Тема урока", multiline=False)
    new_homework = _text(homework, "homework", "Домашнее задание", multiline=True)
    created = lesson.id is None
    if not created and (new_topic, new_homework) == (old_topic, old_homework):
        return lesson  # nothing changed: no history entry, no audit event
    lesson.topic, lesson.homework = new_topic, new_homework
    lesson.updated_at, lesson.updated_by_id = now, actor_id
    await ctx.session.flush()
    ctx.session.add(
        LessonHistoryEntry(
            school_id=lesson.school_id,
            lesson_id=lesson.id,
            action="create" if created else "update",
            old_topic=old_topic,
            new_topic=new_topic,
            old_homework=old_homework,
            new_homework=new_homework,
            actor_id=actor_id,
            at=now,
        )
    )
    for field, old, new in (
        ("topic", old_topic, new_topic),
        ("homework", old_homework, new_homework),
    ):
        if old != new:
            audit.record(
                ctx.session,
                ctx.actor,
                f"lesson.{field}",
                now,
                school_id=lesson.school_id,
                object_type="lesson",
                object_id=lesson.id,
                class_id=lesson.class_id,
                subject_id=lesson.subject_id,
                date=lesson.date.isoformat(),
                lesson_number=lesson.lesson_number,
                old=old,
                new=new,
            )
    await ctx.session.flush()
    return lesson


@dataclass(frozen=True)
class LessonChange:
    """One entry of a lesson's history: what its topic and homework were and became."""

    at: datetime
    action: str  # create | update
    author: str  # the author's full name; empty for the server operator
    old_topic: str
    new_topic: str
    old_homework: str
    new_homework: str


@dataclass(frozen=True)
class LessonHistory:
    lesson_id: int
    class_name: str
    subject: str
    date: date
    lesson_number: int
    topic: str
    homework: str
    changes: tuple[LessonChange, ...]  # oldest first


async def lesson_history(ctx: Ctx, lesson_id: int) -> LessonHistory:
    """A lesson's topic and homework now and every change of them, oldest first, with who
    and when (staff of the lesson's school who may edit it or read the class)."""
    lesson = await ctx.session.get(Lesson, lesson_id)
    if lesson is None:
        raise NotFound("урок не найден")
    if not ctx.actor.system and not ctx.actor.staff_of(lesson.school_id):
        raise NotFound("урок не найден")
    ctx.require(Action.READ_CLASS, ClassTarget(lesson.school_id, lesson.class_id))
    cls = await _class(ctx, lesson.class_id)
    subject = await ctx.session.get(Subject, lesson.subject_id)
    rows = await ctx.session.execute(
        select(
            LessonHistoryEntry.at,
            LessonHistoryEntry.action,
            User.last_name,
            User.first_name,
            User.middle_name,
            LessonHistoryEntry.old_topic,
            LessonHistoryEntry.new_topic,
            LessonHistoryEntry.old_homework,
            LessonHistoryEntry.new_homework,
        )
        .outerjoin(User, User.id == LessonHistoryEntry.actor_id)
        .where(LessonHistoryEntry.lesson_id == lesson.id)
        .order_by(LessonHistoryEntry.id)
    )
    changes = tuple(
        LessonChange(
            r.at,
            r.action,
            " ".join(p for p in (r.last_name, r.first_name, r.middle_name) if p),
            r.old_topic,
            r.new_topic,
            r.old_homework,
            r.new_homework,
        )
        for r in rows
    )
    return LessonHistory(
        lesson.id,
        cls.name,
        subject.name if subject else "",
        lesson.date,
        lesson.lesson_number,
        lesson.topic,
        lesson.homework,
        changes,
    )


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
    """Lessons without a topic or without a single mark (data kept current:
    docs/regulation.md, clause 1.4).

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
