"""Reading conversations: a participant's list with unread counts, one conversation (marked
read as he opens it), and the count of his unread messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core import audit
from diary_core.context import Ctx
from diary_core.messaging.conversations import participant_conversation
from diary_core.messaging.replies import is_overdue
from diary_core.models import (
    Conversation,
    ConversationParticipant,
    Message,
    User,
)
from diary_core.russian import full_name


@dataclass(frozen=True)
class MessageView:
    id: int
    author_id: int
    author_name: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    school_id: int
    kind: str
    topic: str
    pupil_id: int | None
    others: tuple[str, ...]  # the other participants' names
    last_message_at: datetime
    unread: int
    awaiting_reply_since: datetime | None
    overdue: bool


@dataclass(frozen=True)
class Thread:
    id: int
    kind: str
    topic: str
    pupil_id: int | None
    participants: tuple[str, ...]
    messages: tuple[MessageView, ...]
    awaiting_reply_since: datetime | None
    overdue: bool


async def list_conversations(ctx: Ctx, limit: int = 100) -> list[ConversationSummary]:
    """The actor's conversations, latest activity first, each with its unread count.

    A message is unread for a participant when someone else wrote it after he last read
    (or wrote in) the conversation.
    """
    c = Conversation.__table__.c
    me = ConversationParticipant.__table__.alias("me")
    m = Message.__table__.alias("m")
    unread = (
        select(func.count(m.c.id))
        .where(
            m.c.conversation_id == c.id,
            m.c.author_id != ctx.actor.user_id,
            or_(me.c.last_read_at.is_(None), m.c.created_at > me.c.last_read_at),
        )
        .scalar_subquery()
    )
    rows = list(
        await ctx.session.execute(
            select(
                c.id,
                c.school_id,
                c.kind,
                c.topic,
                c.pupil_id,
                c.last_message_at,
                c.awaiting_reply_since,
                unread.label("unread"),
            )
            .join(me, and_(me.c.conversation_id == c.id, me.c.user_id == ctx.actor.user_id))
            .order_by(c.last_message_at.desc(), c.id.desc())
            .limit(limit)
        )
    )
    others = await _others(ctx.session, [r.id for r in rows], ctx.actor.user_id)
    now = ctx.now()
    return [
        ConversationSummary(
            r.id,
            r.school_id,
            r.kind,
            r.topic,
            r.pupil_id,
            tuple(others.get(r.id, [])),
            r.last_message_at,
            int(r.unread),
            r.awaiting_reply_since,
            is_overdue(r.awaiting_reply_since, now),
        )
        for r in rows
    ]


async def _others(
    session: AsyncSession, conversation_ids: list[int], me: int
) -> dict[int, list[str]]:
    if not conversation_ids:
        return {}
    p = ConversationParticipant.__table__.c
    rows = await session.execute(
        select(p.conversation_id, User.last_name, User.first_name, User.middle_name)
        .join(User, User.id == p.user_id)
        .where(p.conversation_id.in_(conversation_ids), p.user_id != me)
        .order_by(User.last_name, User.first_name, User.id)
    )
    out: dict[int, list[str]] = {}
    for r in rows:
        out.setdefault(r.conversation_id, []).append(
            full_name(r.last_name, r.first_name, r.middle_name)
        )
    return out


async def unread_message_count(ctx: Ctx) -> int:
    """All the actor's unread messages (for a badge)."""
    return sum(s.unread for s in await list_conversations(ctx, limit=1000))


async def read_conversation(ctx: Ctx, conversation_id: int) -> Thread:
    """A participant's view of a conversation; it is marked read for him."""
    conv = await participant_conversation(ctx, conversation_id)
    m = Message.__table__.c
    rows = await ctx.session.execute(
        select(
            m.id,
            m.author_id,
            User.last_name,
            User.first_name,
            User.middle_name,
            m.body,
            m.created_at,
        )
        .join(User, User.id == m.author_id)
        .where(m.conversation_id == conv.id)
        .order_by(m.created_at, m.id)
    )
    messages = tuple(
        MessageView(
            r.id,
            r.author_id,
            full_name(r.last_name, r.first_name, r.middle_name),
            r.body,
            r.created_at,
        )
        for r in rows
    )
    names = await _others(ctx.session, [conv.id], me=0)
    mine = await ctx.session.get(ConversationParticipant, (conv.id, ctx.actor.user_id))
    assert mine is not None
    mine.last_read_at = ctx.now()
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "conversation.read",
        ctx.now(),
        school_id=conv.school_id,
        pupil_id=conv.pupil_id,
        object_type="conversation",
        object_id=conv.id,
    )
    return Thread(
        conv.id,
        conv.kind,
        conv.topic,
        conv.pupil_id,
        tuple(names.get(conv.id, [])),
        messages,
        conv.awaiting_reply_since,
        is_overdue(conv.awaiting_reply_since, ctx.now()),
    )
