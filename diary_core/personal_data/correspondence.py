"""The correspondence sections of a personal-data export: the messages of the conversations
the person took part in, his notifications and the announcements addressed to him, each
with when he read it. An administrator's export holds only his school's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import aliased

from diary_core.announcements import visible_query
from diary_core.context import Ctx
from diary_core.models import (
    Announcement,
    AnnouncementReceipt,
    Conversation,
    ConversationParticipant,
    Message,
    Notification,
    User,
)
from diary_core.personal_data.access import ExportScope
from diary_core.personal_data.rows import full_name, iso, keyset
from diary_core.policy import announcement_reach


async def messages(ctx: Ctx, scope: ExportScope, batch: int) -> AsyncIterator[list[dict[str, Any]]]:
    """Every message of every conversation the subject took part in (what he wrote and what
    was written to him there)."""
    mine: ColumnElement[bool] = Conversation.id.in_(
        select(ConversationParticipant.conversation_id).where(
            ConversationParticipant.user_id == scope.subject_id
        )
    )
    if scope.schools is not None:
        mine = and_(mine, Conversation.school_id.in_(sorted(scope.schools)))
    author = aliased(User)
    stmt = (
        select(Message.id, Message.conversation_id, Conversation.topic, Message.created_at,
               Message.author_id, author.last_name, author.first_name, author.middle_name,
               Message.body)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(author, author.id == Message.author_id)
        .where(mine)
    )  # fmt: skip
    async for rows in keyset(ctx, stmt, Message.id, batch):
        yield [
            {
                "id": mid,
                "conversation_id": cid,
                "topic": topic,
                "at": iso(at),
                "author": full_name(last, first, middle),
                "own": author_id == scope.subject_id,
                "body": body,
            }
            for mid, cid, topic, at, author_id, last, first, middle, body in rows
        ]


async def notifications(
    ctx: Ctx, scope: ExportScope, batch: int
) -> AsyncIterator[list[dict[str, Any]]]:
    cond: ColumnElement[bool] = Notification.user_id == scope.subject_id
    if scope.schools is not None:
        in_scope = Notification.pupil_id.in_([p.place.pupil_id for p in scope.pupils])
        cond = and_(
            cond, or_(Notification.pupil_id.is_(None), in_scope) if scope.whole else in_scope
        )
    stmt = select(
        Notification.id, Notification.created_at, Notification.kind, Notification.text,
        Notification.pupil_id, Notification.read_at,
    ).where(cond)  # fmt: skip
    async for rows in keyset(ctx, stmt, Notification.id, batch):
        yield [
            {
                "id": nid,
                "at": iso(at),
                "kind": kind,
                "text": text,
                "pupil_id": pid,
                "read_at": iso(read_at),
            }
            for nid, at, kind, text, pid, read_at in rows
        ]


async def announcements(
    ctx: Ctx, scope: ExportScope, batch: int
) -> AsyncIterator[list[dict[str, Any]]]:
    """The announcements addressed to the subject (the diary's one audience rule), with when
    he read each."""
    reach = announcement_reach(scope.subject_actor)
    params = {
        "schools": sorted(reach.schools),
        "staff_schools": sorted(reach.staff_schools),
        "classes": sorted(reach.classes),
        "listed_classes": sorted(reach.classes),
        "parent_classes": sorted(reach.parent_classes),
    }
    a = Announcement.__table__.c
    cond = visible_query(a)
    if scope.schools is not None:
        cond = and_(cond, a.school_id.in_(sorted(scope.schools)))
    receipt = aliased(AnnouncementReceipt)
    stmt = (
        select(a.id, a.created_at, a.title, a.body, receipt.read_at)
        .outerjoin(
            receipt,
            and_(receipt.announcement_id == a.id, receipt.user_id == scope.subject_id),
        )
        .where(cond)
    )
    last: int | None = None
    while True:
        page = stmt.order_by(a.id).limit(batch)
        if last is not None:
            page = page.where(a.id > last)
        rows = (await ctx.session.execute(page, params)).all()
        if not rows:
            return
        yield [
            {"id": aid, "at": iso(at), "title": title, "body": body, "read_at": iso(read_at)}
            for aid, at, title, body, read_at in rows
        ]
        if len(rows) < batch:
            return
        last = rows[-1][0]


# --- who looked at my child's data ---------------------------------------------------------
