"""What a staff member teaches and the classes he leads, with their names, for the console's
start page.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from diary_core.context import Ctx
from diary_core.models import (
    SchoolClass,
    Subject,
    TeachingAssignment,
)


@dataclass(frozen=True)
class Teaching:
    """One class × subject the actor teaches (a teaching assignment)."""

    class_id: int
    class_name: str
    subject_id: int
    subject_name: str


@dataclass(frozen=True)
class ClassInfo:
    id: int
    name: str
    school_id: int


async def teaching_of(ctx: Ctx) -> list[Teaching]:
    """The actor's own teaching assignments with class and subject names, by class."""
    rows = await ctx.session.execute(
        select(SchoolClass.id, SchoolClass.name, Subject.id, Subject.name)
        .select_from(TeachingAssignment)
        .join(SchoolClass, SchoolClass.id == TeachingAssignment.class_id)
        .join(Subject, Subject.id == TeachingAssignment.subject_id)
        .where(TeachingAssignment.teacher_id == ctx.actor.user_id)
        .order_by(SchoolClass.grade, SchoolClass.name, Subject.name)
    )
    return [Teaching(*r) for r in rows]


async def led_classes(ctx: Ctx) -> list[ClassInfo]:
    """The classes the actor is class teacher of."""
    if not ctx.actor.led_classes:
        return []
    rows = await ctx.session.execute(
        select(SchoolClass.id, SchoolClass.name, SchoolClass.school_id)
        .where(SchoolClass.id.in_(sorted(ctx.actor.led_classes)))
        .order_by(SchoolClass.grade, SchoolClass.name)
    )
    return [ClassInfo(*r) for r in rows]
