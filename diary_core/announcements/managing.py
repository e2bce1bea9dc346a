"""Managing announcements, the author's and the administration's side: the school's list with
«прочитали N из M», correcting one, stopping showing it, who has read it, and the classes to
address. An announcement the actor may not manage is not found, as a missing one, unless he
is in its audience.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    and_,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core import audit
from diary_core.announcements.audience import members_of, reach_params, visible_query
from diary_core.announcements.publishing import KINDS, MAX_BODY, MAX_TITLE, check_expiry, clean_text
from diary_core.announcements.reading import AnnouncementView
from diary_core.context import Ctx
from diary_core.errors import Forbidden, InvalidInput, NotFound
from diary_core.models import (
    Announcement,
    AnnouncementClass,
    AnnouncementReceipt,
    SchoolClass,
    User,
)
from diary_core.policy import (
    Action,
    ClassTarget,
    SchoolTarget,
    Target,
    allowed,
)
from diary_core.russian import full_name
from diary_core.school import current_year


@dataclass(frozen=True)
class Reader:
    user_id: int
    name: str
    read_at: datetime | None


@dataclass(frozen=True)
class Receipts:
    """Who of the audience has read an announcement, and who has not yet."""

    announcement_id: int
    read: tuple[Reader, ...]
    not_read: tuple[Reader, ...]

    @property
    def total(self) -> int:
        return len(self.read) + len(self.not_read)


@dataclass(frozen=True)
class Managed:
    """An announcement as the administration's console lists it: with its classes (audience
    "classes") and how many of its audience have read it."""

    view: AnnouncementView
    class_names: tuple[str, ...]
    read_count: int
    audience_count: int
    expired: bool


async def read_receipts(ctx: Ctx, announcement_id: int) -> Receipts:
    """Who has read an announcement and who has not yet: for its author, and for whoever may
    announce to that audience (the administration; a class's class teacher)."""
    row = await _manageable(ctx, announcement_id, author_may=True)
    members = await members_of(ctx.session, row)
    rc = AnnouncementReceipt.__table__.alias("rc")
    u = User.__table__.c
    people = await ctx.session.execute(
        select(u.id, u.last_name, u.first_name, u.middle_name, rc.c.read_at)
        .outerjoin(rc, and_(rc.c.user_id == u.id, rc.c.announcement_id == row.id))
        .where(u.id.in_(members))
        .order_by(u.last_name, u.first_name, u.id)
    )
    readers = [
        Reader(p.id, full_name(p.last_name, p.first_name, p.middle_name), p.read_at) for p in people
    ]
    audit.record(
        ctx.session,
        ctx.actor,
        "announcement.receipts",
        ctx.now(),
        school_id=row.school_id,
        object_type="announcement",
        object_id=row.id,
    )
    return Receipts(
        row.id,
        tuple(r for r in readers if r.read_at is not None),
        tuple(r for r in readers if r.read_at is None),
    )


async def _manageable(ctx: Ctx, announcement_id: int, *, author_may: bool) -> Announcement:
    """An announcement the actor may manage: whoever may announce to its audience (the
    administration; a class's class teacher for a class announcement) and, with
    ``author_may``, its author. Anyone else: :class:`NotFound`, as for a missing one, so
    the existence of an announcement not addressed to him is not revealed."""
    row = await ctx.session.get(Announcement, announcement_id)
    if row is None:
        raise NotFound("объявление не найдено")
    if author_may and row.created_by_id == ctx.actor.user_id:
        return row
    target: Target = (
        ClassTarget(row.school_id, row.class_id)
        if row.audience == "class" and row.class_id is not None
        else SchoolTarget(row.school_id)
    )
    if not allowed(ctx.actor, Action.ANNOUNCE, target):
        if await _in_audience(ctx, row.id):
            raise Forbidden("недостаточно прав для этого действия")
        raise NotFound("объявление не найдено")
    return row


async def _in_audience(ctx: Ctx, announcement_id: int) -> bool:
    params = {**reach_params(ctx.actor), "announcement_id": announcement_id}
    return await ctx.session.scalar(_IN_AUDIENCE, params) is not None


_IN_AUDIENCE = select(Announcement.__table__.c.id).where(
    Announcement.__table__.c.id == bindparam("announcement_id"),
    visible_query(Announcement.__table__.c),
)


async def may_see_receipts(ctx: Ctx, announcement_id: int) -> bool:
    """Whether the actor may see who has read this announcement (see :func:`read_receipts`):
    its author, or whoever may announce to its audience."""
    return await _may(ctx, announcement_id, author_may=True)


async def may_manage(ctx: Ctx, announcement_id: int) -> bool:
    """Whether the actor may correct or stop showing this announcement (:func:`edit`)."""
    return await _may(ctx, announcement_id, author_may=False)


async def _may(ctx: Ctx, announcement_id: int, *, author_may: bool) -> bool:
    if not ctx.actor.is_staff and not ctx.actor.system:
        return False  # families never manage announcements: no query needed
    try:
        await _manageable(ctx, announcement_id, author_may=author_may)
    except (NotFound, Forbidden):
        return False
    return True


async def _receipt_count(session: AsyncSession, row: Announcement) -> tuple[int, int]:
    """(read, audience): one statement over the audience and its receipts."""
    members = (await members_of(session, row)).subquery("members")
    rc = AnnouncementReceipt.__table__.alias("rc")
    counts = (
        await session.execute(
            select(func.count(members.c.user_id), func.count(rc.c.user_id)).select_from(
                members.outerjoin(
                    rc, and_(rc.c.user_id == members.c.user_id, rc.c.announcement_id == row.id)
                )
            )
        )
    ).one()
    return int(counts[1]), int(counts[0])


async def managed_announcements(ctx: Ctx, school_id: int, limit: int = 100) -> list[Managed]:
    """The school's announcements (every audience, expired ones too), newest first, each with
    «прочитали N из M»: for the administration."""
    ctx.require(Action.ANNOUNCE, SchoolTarget(school_id))
    rows = list(
        await ctx.session.scalars(
            select(Announcement)
            .where(Announcement.school_id == school_id)
            .order_by(Announcement.created_at.desc(), Announcement.id.desc())
            .limit(limit)
        )
    )
    ids = [r.id for r in rows]
    names: dict[int, list[str]] = {}
    authors: dict[int, str] = {}
    if rows:
        listed = await ctx.session.execute(
            select(AnnouncementClass.announcement_id, SchoolClass.name)
            .join(SchoolClass, SchoolClass.id == AnnouncementClass.class_id)
            .where(AnnouncementClass.announcement_id.in_(ids))
            .order_by(SchoolClass.grade, SchoolClass.name)
        )
        for announcement_id, name in listed:
            names.setdefault(announcement_id, []).append(name)
        single = await ctx.session.execute(
            select(Announcement.id, SchoolClass.name)
            .join(SchoolClass, SchoolClass.id == Announcement.class_id)
            .where(Announcement.id.in_(ids))
        )
        for announcement_id, name in single:
            names.setdefault(announcement_id, []).append(name)
        people = await ctx.session.execute(
            select(User.id, User.last_name, User.first_name, User.middle_name).where(
                User.id.in_({r.created_by_id for r in rows})
            )
        )
        authors = {p.id: full_name(p.last_name, p.first_name, p.middle_name) for p in people}
    now = ctx.now()
    out = []
    for r in rows:
        read, total = await _receipt_count(ctx.session, r)
        view = AnnouncementView(
            r.id,
            r.school_id,
            r.class_id,
            r.kind,
            r.title,
            r.body,
            r.created_by_id,
            authors.get(r.created_by_id, ""),
            r.created_at,
            r.expires_at,
            False,
            r.audience,
            r.grade,
            r.edited_at,
        )
        expired = r.expires_at is not None and r.expires_at <= now
        out.append(Managed(view, tuple(names.get(r.id, ())), read, total, expired))
    return out


async def managed_announcement(ctx: Ctx, announcement_id: int) -> Managed:
    """One announcement with «прочитали N из M», for whoever may announce to its audience
    (the administration; a class's class teacher for a class announcement)."""
    row = await _manageable(ctx, announcement_id, author_may=False)
    read, total = await _receipt_count(ctx.session, row)
    author = await ctx.session.get(User, row.created_by_id)
    names = await ctx.session.scalars(
        select(SchoolClass.name)
        .where(
            or_(
                SchoolClass.id == row.class_id,
                SchoolClass.id.in_(
                    select(AnnouncementClass.class_id).where(
                        AnnouncementClass.announcement_id == row.id
                    )
                ),
            )
        )
        .order_by(SchoolClass.grade, SchoolClass.name)
    )
    view = AnnouncementView(
        row.id,
        row.school_id,
        row.class_id,
        row.kind,
        row.title,
        row.body,
        row.created_by_id,
        author.full_name if author else "",
        row.created_at,
        row.expires_at,
        False,
        row.audience,
        row.grade,
        row.edited_at,
    )
    expired = row.expires_at is not None and row.expires_at <= ctx.now()
    return Managed(view, tuple(names), read, total, expired)


async def edit(
    ctx: Ctx,
    announcement_id: int,
    title: str,
    body: str,
    kind: str,
    expires_at: datetime | None,
) -> None:
    """Correct an announcement's text, kind or last day shown. Its audience stays: to reach
    others, publish a new one. Who may: whoever may announce to its audience."""
    row = await _manageable(ctx, announcement_id, author_may=False)
    if kind not in KINDS:
        raise InvalidInput(f"неизвестный вид объявления «{kind}»", field="kind")
    row.title = clean_text(
        title, field="title", label="Заголовок", max_length=MAX_TITLE, multiline=False
    )
    row.body = clean_text(body, field="body", label="Текст объявления", max_length=MAX_BODY)
    check_expiry(ctx, expires_at)
    row.kind = kind
    row.expires_at = expires_at
    row.edited_at = ctx.now()
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "announcement.edit",
        ctx.now(),
        school_id=row.school_id,
        object_type="announcement",
        object_id=row.id,
        kind=kind,
    )


async def expire(ctx: Ctx, announcement_id: int) -> None:
    """Stop showing an announcement now (families and staff no longer see it; its author and
    the administration still find it, with its receipts, in the console)."""
    row = await _manageable(ctx, announcement_id, author_may=False)
    now = ctx.now()
    if row.expires_at is not None and row.expires_at <= now:
        return
    row.expires_at = now
    row.edited_at = now
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "announcement.expire",
        now,
        school_id=row.school_id,
        object_type="announcement",
        object_id=row.id,
    )


@dataclass(frozen=True)
class ClassChoice:
    id: int
    name: str
    grade: int


async def audience_classes(ctx: Ctx, school_id: int) -> list[ClassChoice]:
    """The classes of the school's current year, to address (several classes, a grade)."""
    ctx.require(Action.ANNOUNCE, SchoolTarget(school_id))
    query = select(SchoolClass.id, SchoolClass.name, SchoolClass.grade).where(
        SchoolClass.school_id == school_id
    )
    try:
        year = await current_year(ctx, school_id)
    except NotFound:
        return []
    rows = await ctx.session.execute(
        query.where(SchoolClass.year_id == year.id).order_by(SchoolClass.grade, SchoolClass.name)
    )
    return [ClassChoice(r.id, r.name, r.grade) for r in rows]
