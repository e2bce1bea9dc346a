"""The reply-deadline dashboard (docs/regulation.md, clauses 3.2, 5.1): per staff member, the
threads waiting for his answer, the overdue ones flagged by the one rule
:func:`messaging.is_overdue`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from diary_core import messaging
from diary_core.context import Ctx
from diary_core.messaging import TeacherReplyLoad
from diary_core.models import Conversation, ConversationParticipant, User, UserRole
from diary_core.policy import Action, SchoolTarget
from diary_core.roles import STAFF_ROLES


@dataclass(frozen=True)
class WaitingThread:
    conversation_id: int
    topic: str
    awaiting_since: datetime
    waiting: timedelta
    overdue: bool
    readable: bool  # the administrator takes part in it, so /messages/{id} opens for him


@dataclass(frozen=True)
class TeacherBoard:
    load: TeacherReplyLoad
    threads: tuple[WaitingThread, ...]


async def _threads(ctx: Ctx, school_id: int) -> dict[int, list[WaitingThread]]:
    c = Conversation.__table__.c
    p = ConversationParticipant.__table__.c
    mine = aliased(ConversationParticipant)
    is_staff = exists().where(UserRole.user_id == User.id, UserRole.role.in_(STAFF_ROLES))
    admin_in = exists().where(mine.conversation_id == c.id, mine.user_id == ctx.actor.user_id)
    rows = await ctx.session.execute(
        select(p.user_id, c.id, c.topic, c.awaiting_reply_since, admin_in.label("readable"))
        .join(Conversation, c.id == p.conversation_id)
        .join(User, User.id == p.user_id)
        .where(
            c.school_id == school_id,
            c.awaiting_reply_since.is_not(None),
            User.school_id == school_id,
            is_staff,
        )
        .order_by(c.awaiting_reply_since, c.id)
    )
    now = ctx.now()
    out: dict[int, list[WaitingThread]] = {}
    for r in rows:
        since = r.awaiting_reply_since
        thread = WaitingThread(
            r.id, r.topic, since, now - since, messaging.is_overdue(since, now), bool(r.readable)
        )
        out.setdefault(r.user_id, []).append(thread)
    return out


async def reply_board(ctx: Ctx, school_id: int) -> list[TeacherBoard]:
    """:func:`messaging.reply_dashboard` (most overdue first) with each staff member's
    waiting threads, longest wait first (``READ_REPLY_DASHBOARD``)."""
    ctx.require(Action.READ_REPLY_DASHBOARD, SchoolTarget(school_id))
    loads = await messaging.reply_dashboard(ctx, school_id)
    threads = await _threads(ctx, school_id)
    return [TeacherBoard(load, tuple(threads.get(load.teacher_id, []))) for load in loads]
