"""Personal notifications: a new message, a timetable change, a parent meeting …

Use cases that inform people call :func:`notify` inside their own transaction, so a
notification exists exactly when the event it tells of does. Each person reads and
dismisses only his own notifications.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core import audit
from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from diary_core.models import Notification

MAX_LIMIT = 500


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    text: str
    pupil_id: int | None
    created_at: datetime
    read_at: datetime | None

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


#: One notification's content for several people: (who, kind, text, pupil id).
Note = tuple[Iterable[int], str, str, int | None]


async def notify(
    session: AsyncSession,
    user_ids: Iterable[int],
    kind: str,
    text: str,
    pupil_id: int | None,
    at: datetime,
) -> int:
    """Add one notification per person (duplicates collapse) in one bulk insert.

    No access check here: the calling use case has already decided who is told what.
    Returns how many notifications were written.
    """
    return await notify_all(session, [(user_ids, kind, text, pupil_id)], at)


async def notify_all(session: AsyncSession, notes: Iterable[Note], at: datetime) -> int:
    """:func:`notify` for several notes at once (each its people, kind, text and pupil), in
    one bulk insert: an import tells thousands of families with one statement."""
    rows = [
        {"user_id": uid, "kind": kind, "text": text, "pupil_id": pupil_id, "created_at": at}
        for user_ids, kind, text, pupil_id in notes
        for uid in sorted(set(user_ids))
    ]
    if rows:
        await session.execute(insert(Notification), rows)
    return len(rows)


async def notifications_for(
    ctx: Ctx, unread_only: bool = False, limit: int = 50
) -> list[NotificationView]:
    """The actor's own notifications, newest first."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"число уведомлений должно быть от 1 до {MAX_LIMIT}", field="limit")
    n = Notification.__table__.c
    query = select(n.id, n.kind, n.text, n.pupil_id, n.created_at, n.read_at).where(
        n.user_id == ctx.actor.user_id
    )
    if unread_only:
        query = query.where(n.read_at.is_(None))
    rows = await ctx.session.execute(query.order_by(n.created_at.desc(), n.id.desc()).limit(limit))
    return [NotificationView(*row) for row in rows]


async def unread_notification_count(ctx: Ctx) -> int:
    """How many of the actor's notifications are still unread (for a badge)."""
    n = Notification.__table__.c
    count = await ctx.session.scalar(
        select(func.count()).where(n.user_id == ctx.actor.user_id, n.read_at.is_(None))
    )
    return int(count or 0)


async def latest_notifications(ctx: Ctx, limit: int) -> tuple[list[NotificationView], int]:
    """:func:`notifications_for` and :func:`unread_notification_count` in one query: the
    actor's newest notifications and how many of all his are unread."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"число уведомлений должно быть от 1 до {MAX_LIMIT}", field="limit")
    rows = list(await ctx.session.execute(_LATEST, {"user_id": ctx.actor.user_id, "limit": limit}))
    # No notification at all means none unread either.
    return [NotificationView(*r[:6]) for r in rows], int(rows[0][6]) if rows else 0


def _latest_query() -> Select[Any]:
    n, u = Notification.__table__.c, Notification.__table__.alias("unread").c
    user_id: BindParameter[int] = bindparam("user_id")
    unread = select(func.count()).where(u.user_id == user_id, u.read_at.is_(None)).scalar_subquery()
    return (
        select(n.id, n.kind, n.text, n.pupil_id, n.created_at, n.read_at, unread)
        .where(n.user_id == user_id)
        .order_by(n.created_at.desc(), n.id.desc())
        .limit(bindparam("limit"))
    )


_LATEST = _latest_query()


async def mark_notifications_read(ctx: Ctx, ids: Iterable[int]) -> int:
    """Mark the actor's own notifications read; other people's ids are silently skipped,
    so the answer tells nothing about them. Returns how many changed."""
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    result = await ctx.session.execute(
        update(Notification)
        .where(
            Notification.id.in_(wanted),
            Notification.user_id == ctx.actor.user_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=ctx.now())
        .execution_options(synchronize_session=False)
    )
    changed = int(getattr(result, "rowcount", 0) or 0)
    if changed:
        audit.record(
            ctx.session,
            ctx.actor,
            "notification.read",
            ctx.now(),
            object_type="notification",
            count=changed,
        )
    return changed
