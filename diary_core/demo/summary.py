"""What a demo school holds, for the command's output and the start page: its counts, the
accounts to try and the ESIA test persons; rebuilt from the database for a school generated
earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.demo.accounts import DemoAccount, demo_accounts
from diary_core.demo.identities import DemoPerson, PersonRole, demo_persons
from diary_core.models import (
    Announcement,
    Attendance,
    Conversation,
    Guardianship,
    Lesson,
    Mark,
    Message,
    PeriodMark,
    Pupil,
    SchoolClass,
    User,
    UserRole,
)
from diary_core.roles import Role

DEMO_SCHOOL_NAME = "МБОУ ООШ с. Руновка"


@dataclass(frozen=True)
class DemoCounts:
    classes: int = 0
    pupils: int = 0
    parents: int = 0
    teachers: int = 0
    lessons: int = 0
    marks: int = 0
    attendance: int = 0
    period_marks: int = 0
    messages: int = 0
    announcements: int = 0


@dataclass(frozen=True)
class DemoSummary:
    """What the demo school is: counts, accounts to try, and test persons for the emulator."""

    school_id: int
    school_name: str
    counts: DemoCounts
    accounts: list[DemoAccount]
    persons: list[DemoPerson]  # who signs in through the portal's emulator
    created: bool = True  # False: the school was already there; rebuilt from the database


async def _count(session: AsyncSession, stmt: Any) -> int:
    return int(await session.scalar(stmt) or 0)


async def school_counts(session: AsyncSession, school_id: int) -> DemoCounts:
    """How much a school holds (one query per figure; meant for one school, not a district)."""

    def n(model: Any) -> Any:
        return select(func.count()).select_from(model).where(model.school_id == school_id)

    parents = (
        select(func.count(func.distinct(Guardianship.guardian_id)))
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(Pupil.school_id == school_id)
    )
    teachers = (
        select(func.count(func.distinct(UserRole.user_id)))
        .join(User, User.id == UserRole.user_id)
        .where(User.school_id == school_id, UserRole.role == Role.TEACHER.value)
    )
    messages = (
        select(func.count())
        .select_from(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.school_id == school_id)
    )
    return DemoCounts(
        classes=await _count(session, n(SchoolClass)),
        pupils=await _count(session, n(Pupil)),
        parents=await _count(session, parents),
        teachers=await _count(session, teachers),
        lessons=await _count(session, n(Lesson)),
        marks=await _count(session, n(Mark)),
        attendance=await _count(session, n(Attendance)),
        period_marks=await _count(session, n(PeriodMark)),
        messages=await _count(session, messages),
        announcements=await _count(session, n(Announcement)),
    )


async def school_summary(
    session: AsyncSession, school_id: int, roles: list[PersonRole], created: bool
) -> DemoSummary:
    return DemoSummary(
        school_id=school_id,
        school_name=DEMO_SCHOOL_NAME,
        counts=await school_counts(session, school_id),
        accounts=await demo_accounts(session),
        persons=await demo_persons(session, roles),
        created=created,
    )
