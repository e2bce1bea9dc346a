"""Reply tracking (docs/regulation.md, clauses 3.2 and 5.1): a thread waits for a staff answer from
a family member's message on; a wait of :data:`OVERDUE_AFTER` or more is overdue, flagged to the
teacher (his own waiting threads) and to the administration (the reply dashboard).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, exists, select

from diary_core.context import Ctx
from diary_core.models import (
    Conversation,
    ConversationParticipant,
    User,
    UserRole,
)
from diary_core.policy import Action, SchoolTarget
from diary_core.roles import STAFF_ROLES
from diary_core.russian import full_name

#: The regulation (docs/regulation.md, clause 5.1): a teacher answers parents at least once a week.
OVERDUE_AFTER = timedelta(days=7)


def is_overdue(awaiting_since: datetime | None, now: datetime) -> bool:
    """Whether a thread waiting since ``awaiting_since`` is overdue at ``now``: after
    exactly seven days it is; a second earlier it is not. The one place this rule lives."""
    return awaiting_since is not None and now - awaiting_since >= OVERDUE_AFTER


@dataclass(frozen=True)
class AwaitingThread:
    conversation_id: int
    topic: str
    pupil_id: int | None
    awaiting_since: datetime
    waiting: timedelta
    overdue: bool


@dataclass(frozen=True)
class TeacherReplyLoad:
    """One staff member's unanswered threads: docs/regulation.md, clauses 3.2 and 5.1."""

    teacher_id: int
    teacher_name: str
    awaiting: int
    overdue: int
    oldest_waiting: timedelta


async def awaiting_reply(ctx: Ctx) -> list[AwaitingThread]:
    """A staff member's own threads waiting for a staff answer, longest wait first, each
    flagged overdue per :func:`is_overdue` (docs/regulation.md, clause 5.1). Families have none."""
    if not ctx.actor.is_staff or ctx.actor.school_id is None:
        return []
    c = Conversation.__table__.c
    p = ConversationParticipant.__table__.c
    rows = await ctx.session.execute(
        select(c.id, c.topic, c.pupil_id, c.awaiting_reply_since)
        .join(ConversationParticipant, p.conversation_id == c.id)
        .where(
            p.user_id == ctx.actor.user_id,
            c.school_id == ctx.actor.school_id,
            c.awaiting_reply_since.is_not(None),
        )
        .order_by(c.awaiting_reply_since, c.id)
    )
    now = ctx.now()
    return [
        AwaitingThread(
            r.id,
            r.topic,
            r.pupil_id,
            r.awaiting_reply_since,
            now - r.awaiting_reply_since,
            is_overdue(r.awaiting_reply_since, now),
        )
        for r in rows
    ]


async def reply_dashboard(ctx: Ctx, school_id: int) -> list[TeacherReplyLoad]:
    """Per staff member of the school: threads awaiting his reply, how many are overdue, and
    the longest wait (docs/regulation.md, clause 5.1, for the administration:
    ``READ_REPLY_DASHBOARD``). Most overdue first."""
    ctx.require(Action.READ_REPLY_DASHBOARD, SchoolTarget(school_id))
    c = Conversation.__table__.c
    p = ConversationParticipant.__table__.c
    is_staff = exists().where(UserRole.user_id == User.id, UserRole.role.in_(STAFF_ROLES))
    rows = await ctx.session.execute(
        select(User.id, User.last_name, User.first_name, User.middle_name, c.awaiting_reply_since)
        .join(ConversationParticipant, p.user_id == User.id)
        .join(Conversation, c.id == p.conversation_id)
        .where(
            c.school_id == school_id,
            c.awaiting_reply_since.is_not(None),
            User.school_id == school_id,
            is_staff,
        )
    )
    return _aggregate(list(rows), ctx.now())


def _aggregate(rows: list[Row[Any]], now: datetime) -> list[TeacherReplyLoad]:
    loads: dict[int, TeacherReplyLoad] = {}
    for r in rows:
        waiting = now - r.awaiting_reply_since
        late = int(is_overdue(r.awaiting_reply_since, now))
        prev = loads.get(r.id)
        if prev is None:
            name = full_name(r.last_name, r.first_name, r.middle_name)
            loads[r.id] = TeacherReplyLoad(r.id, name, 1, late, waiting)
        else:
            loads[r.id] = TeacherReplyLoad(
                r.id,
                prev.teacher_name,
                prev.awaiting + 1,
                prev.overdue + late,
                max(prev.oldest_waiting, waiting),
            )
    return sorted(loads.values(), key=lambda t: (-t.overdue, -t.oldest_waiting, t.teacher_name))
