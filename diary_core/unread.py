"""What the header counts for a signed-in person: his unread messages and notifications.

One statement per page (two scalar subqueries), never a query per conversation or item. A
message is unread for a participant when someone else wrote it after he last read (or wrote
in) the conversation: the rule of :func:`diary_core.messaging.list_conversations`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.models import ConversationParticipant, Message, Notification


@dataclass(frozen=True)
class UnreadCounts:
    messages: int
    notifications: int


def _query() -> Select[Any]:
    me = ConversationParticipant.__table__.alias("me")
    m = Message.__table__.alias("m")
    n = Notification.__table__.alias("n")
    user = bindparam("user_id", type_=Integer())
    messages = (
        select(func.count(m.c.id))
        .select_from(m.join(me, me.c.conversation_id == m.c.conversation_id))
        .where(
            me.c.user_id == user,
            m.c.author_id != user,
            or_(me.c.last_read_at.is_(None), m.c.created_at > me.c.last_read_at),
        )
        .scalar_subquery()
    )
    notifications = (
        select(func.count(n.c.id))
        .where(and_(n.c.user_id == user, n.c.read_at.is_(None)))
        .scalar_subquery()
    )
    return select(messages.label("messages"), notifications.label("notifications"))


_UNREAD = _query()


async def unread_counts(session: AsyncSession, user_id: int) -> UnreadCounts:
    """The person's unread messages and notifications, in one statement."""
    row = (await session.execute(_UNREAD, {"user_id": user_id})).one()
    return UnreadCounts(int(row.messages or 0), int(row.notifications or 0))
