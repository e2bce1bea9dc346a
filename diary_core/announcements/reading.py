"""Reading announcements: those the actor is in the audience of (for a child's diary, those
concerning that child), one announcement, and the receipt opening it leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    or_,
    select,
)

from diary_core import audit
from diary_core.announcements.audience import reach_params, visible_query
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.models import (
    Announcement,
    AnnouncementReceipt,
    User,
)
from diary_core.policy import (
    PupilPlace,
    announcement_reach,
)
from diary_core.russian import full_name


@dataclass(frozen=True)
class AnnouncementView:
    id: int
    school_id: int
    class_id: int | None
    kind: str
    title: str
    body: str
    author_id: int
    author_name: str
    created_at: datetime
    expires_at: datetime | None
    is_read: bool
    audience: str = "school"
    grade: int | None = None
    edited_at: datetime | None = None


async def announcements_for(ctx: Ctx) -> list[AnnouncementView]:
    """The unexpired announcements the actor is in the audience of: unread first, then
    newest first."""
    rows = await ctx.session.execute(
        _FOR_READER, {**reach_params(ctx.actor), "reader": ctx.actor.user_id, "now": ctx.now()}
    )
    return [_view(row) for row in rows]


async def announcements_for_pupil(ctx: Ctx, pupil: PupilPlace) -> list[AnnouncementView]:
    """The part of :func:`announcements_for` that concerns one child's diary: his school's,
    his class's, classes lists naming it and (for his parent) his grade's; never staff-only.
    The actor's reach still decides: this only narrows it to the child."""
    reach = announcement_reach(ctx.actor)
    classes = [pupil.class_id] if pupil.class_id in reach.classes else []
    params = {
        "schools": [pupil.school_id] if pupil.school_id in reach.schools else [],
        "staff_schools": [],
        "classes": classes,
        "listed_classes": classes,
        "parent_classes": [pupil.class_id] if pupil.class_id in reach.parent_classes else [],
    }
    rows = await ctx.session.execute(
        _FOR_READER, {**params, "reader": ctx.actor.user_id, "now": ctx.now()}
    )
    return [_view(row) for row in rows]


def _view(row: Any) -> AnnouncementView:
    return AnnouncementView(
        row.id,
        row.school_id,
        row.class_id,
        row.kind,
        row.title,
        row.body,
        row.created_by_id,
        full_name(row.last_name, row.first_name, row.middle_name),
        row.created_at,
        row.expires_at,
        row.read_at is not None,
        row.audience,
        row.grade,
        row.edited_at,
    )


async def open_announcement(ctx: Ctx, announcement_id: int) -> AnnouncementView:
    """One unexpired announcement the actor is in the audience of, which opening marks read
    for him. Anyone else (another class's parent, a family for a staff-only one) and an
    expired one: :class:`NotFound`, exactly as for a missing one."""
    row = (
        await ctx.session.execute(
            _ONE_FOR_READER,
            {
                **reach_params(ctx.actor),
                "reader": ctx.actor.user_id,
                "now": ctx.now(),
                "announcement_id": announcement_id,
            },
        )
    ).first()
    if row is None:
        raise NotFound("объявление не найдено")
    if row.read_at is None:
        await _record_read(ctx, row.id, row.school_id)
    return _view(row)


def _for_reader_query() -> Select[Any]:
    """Built once (its aliases are costly to build per call): the announcements of the
    ``schools`` (school-wide) and ``classes`` the ``reader`` is in the audience of (the rule
    of :func:`~diary_core.announcements.audience.visible_query`), unexpired at ``now``, with
    his receipt; unread first."""
    a = Announcement.__table__.c
    r = AnnouncementReceipt.__table__.alias("r")
    author = User.__table__.alias("author")
    unread_first = case((r.c.read_at.is_(None), 0), else_=1)
    audience = visible_query(a)
    return (
        select(
            a.id,
            a.school_id,
            a.class_id,
            a.kind,
            a.title,
            a.body,
            a.created_by_id,
            author.c.last_name,
            author.c.first_name,
            author.c.middle_name,
            a.created_at,
            a.expires_at,
            r.c.read_at,
            a.audience,
            a.grade,
            a.edited_at,
        )
        .join(author, author.c.id == a.created_by_id)
        .outerjoin(r, and_(r.c.announcement_id == a.id, r.c.user_id == bindparam("reader")))
        .where(audience)
        .where(or_(a.expires_at.is_(None), a.expires_at > bindparam("now")))
        .order_by(unread_first, a.created_at.desc(), a.id.desc())
    )


_FOR_READER = _for_reader_query()
_ONE_FOR_READER = _for_reader_query().where(
    Announcement.__table__.c.id == bindparam("announcement_id")
)


async def mark_read(ctx: Ctx, announcement_id: int) -> None:
    """Record that the actor has read an announcement (a receipt, kept once).

    Only the audience may (the rule of :func:`visible_query`): to anyone else the
    announcement does not exist.
    """
    await open_announcement(ctx, announcement_id)


async def _record_read(ctx: Ctx, announcement_id: int, school_id: int) -> None:
    existing = await ctx.session.get(AnnouncementReceipt, (announcement_id, ctx.actor.user_id))
    if existing is not None:
        return
    ctx.session.add(
        AnnouncementReceipt(
            announcement_id=announcement_id, user_id=ctx.actor.user_id, read_at=ctx.now()
        )
    )
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "announcement.read",
        ctx.now(),
        school_id=school_id,
        object_type="announcement",
        object_id=announcement_id,
    )
