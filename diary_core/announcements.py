"""Announcements to a school or a class, with read receipts (regulation 2.3 and 4.1).

The audience of a school announcement is its staff, its pupils and their parents; of a class
announcement, the class's pupils, their parents and its teachers (subject teachers and the
class teacher). Parents count only through a confirmed guardianship. A parent-meeting
announcement also notifies the parents it reaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, exists, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core import audit
from diary_core.context import Ctx
from diary_core.errors import InvalidInput, NotFound
from diary_core.models import (
    Announcement,
    AnnouncementReceipt,
    Guardianship,
    Pupil,
    SchoolClass,
    TeachingAssignment,
    User,
    UserRole,
)
from diary_core.notifications import notify
from diary_core.policy import Action, Actor, ClassTarget, SchoolTarget, Target
from diary_core.roles import STAFF_ROLES
from diary_core.text import clean_line
from diary_core.text import clean_text as clean_multiline

KINDS = ("general", "timetable_change", "parent_meeting")
MAX_TITLE = 200
MAX_BODY = 5000


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


def clean_text(
    value: str, *, field: str, label: str, max_length: int, multiline: bool = True
) -> str:
    """Strip a text; empty, too long or holding a character the diary refuses
    (:mod:`diary_core.text`) is :class:`InvalidInput` naming the field."""
    (clean_multiline if multiline else clean_line)(value, field, label)
    text = value.strip()
    if not text:
        raise InvalidInput(f"{label}: текст не может быть пустым", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{label}: не длиннее {max_length} символов", field=field)
    return text


# --- the audience -------------------------------------------------------------------------


def _family_queries(scope: ColumnElement[bool], parents_only: bool) -> list[Select[Any]]:
    pupil_user = User.__table__.alias("pupil_user")
    parent_user = User.__table__.alias("parent_user")
    parents = (
        select(Guardianship.guardian_id.label("user_id"))
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .join(parent_user, parent_user.c.id == Guardianship.guardian_id)
        .where(scope, Guardianship.status == "confirmed")
        .where(parent_user.c.is_active)
    )
    if parents_only:
        return [parents]
    pupils = (
        select(Pupil.user_id.label("user_id"))
        .join(pupil_user, pupil_user.c.id == Pupil.user_id)
        .where(scope, pupil_user.c.is_active)
    )
    return [pupils, parents]


def _staff_queries(school_id: int, class_id: int | None) -> list[Select[Any]]:
    if class_id is not None:
        subject_teachers = select(TeachingAssignment.teacher_id.label("user_id")).where(
            TeachingAssignment.class_id == class_id
        )
        class_teacher = select(SchoolClass.class_teacher_id.label("user_id")).where(
            SchoolClass.id == class_id, SchoolClass.class_teacher_id.is_not(None)
        )
        return [subject_teachers, class_teacher]
    is_staff = exists().where(UserRole.user_id == User.id, UserRole.role.in_(STAFF_ROLES))
    return [select(User.id.label("user_id")).where(User.school_id == school_id, is_staff)]


async def audience_ids(
    session: AsyncSession, school_id: int, class_id: int | None, *, parents_only: bool = False
) -> set[int]:
    """The accounts a school (``class_id`` None) or class announcement reaches.

    With ``parents_only`` just the confirmed parents; the same rule serves timetable-change
    notifications (pupils and parents, no staff) through :func:`family_ids`.
    """
    scope = Pupil.class_id == class_id if class_id is not None else Pupil.school_id == school_id
    parts = _family_queries(scope, parents_only)
    if not parents_only:
        parts += _staff_queries(school_id, class_id)
    return await _ids(session, parts)


async def family_ids(session: AsyncSession, class_id: int) -> set[int]:
    """The pupils of a class and their confirmed parents (not its staff)."""
    return await _ids(session, _family_queries(Pupil.class_id == class_id, False))


async def _ids(session: AsyncSession, parts: list[Select[Any]]) -> set[int]:
    query = parts[0] if len(parts) == 1 else union(*parts)
    ids: set[int] = set(await session.scalars(query))
    return ids


def _reach(actor: Actor) -> tuple[set[int], set[int]]:
    """The schools and classes whose announcements the actor is in the audience of: the same
    rule as :func:`audience_ids`, seen from the actor's side."""
    places = actor.family_places
    schools = {p.school_id for p in places}
    classes = {p.class_id for p in places}
    if actor.is_staff and actor.school_id is not None:
        schools.add(actor.school_id)
        classes |= set(actor.taught_classes)
    return schools, classes


def _in_audience(actor: Actor, school_id: int, class_id: int | None) -> bool:
    schools, classes = _reach(actor)
    return class_id in classes if class_id is not None else school_id in schools


# --- writing ------------------------------------------------------------------------------


async def _target(ctx: Ctx, school_id: int, class_id: int | None) -> tuple[Target, str]:
    if class_id is None:
        return SchoolTarget(school_id), ""
    cls = await ctx.session.get(SchoolClass, class_id)
    if cls is None or cls.school_id != school_id:
        raise NotFound("класс не найден")
    return ClassTarget(school_id, class_id), cls.name


def end_of_day(last_day: date, zone: tzinfo) -> datetime:
    """The instant (UTC) something shown through ``last_day`` inclusive, a calendar date of
    the school in ``zone``, stops being shown: the school's next midnight."""
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def last_day_shown(expires_at: datetime, zone: tzinfo) -> date:
    """The school's last calendar date on which something expiring at ``expires_at`` is
    still shown (the inverse of :func:`end_of_day`)."""
    return (expires_at.astimezone(zone) - timedelta(microseconds=1)).date()


def _check_expiry(ctx: Ctx, expires_at: datetime | None) -> None:
    if expires_at is None:
        return
    if expires_at.tzinfo is None:
        raise InvalidInput("срок действия объявления указан без часового пояса", field="expires_at")
    if expires_at <= ctx.now():
        raise InvalidInput("срок действия объявления уже истёк", field="expires_at")


async def announce(
    ctx: Ctx,
    title: str,
    body: str,
    kind: str,
    school_id: int,
    class_id: int | None = None,
    expires_at: datetime | None = None,
) -> AnnouncementView:
    """Publish an announcement to a school or to one class.

    Who may: the policy's ``ANNOUNCE`` (a class: its class teacher or the administration; the
    school: the administration). A parent meeting notifies the parents in the audience.
    """
    target, class_name = await _target(ctx, school_id, class_id)
    ctx.require(Action.ANNOUNCE, target)
    if kind not in KINDS:
        raise InvalidInput(f"неизвестный вид объявления «{kind}»", field="kind")
    title = clean_text(
        title, field="title", label="Заголовок", max_length=MAX_TITLE, multiline=False
    )
    body = clean_text(body, field="body", label="Текст объявления", max_length=MAX_BODY)
    _check_expiry(ctx, expires_at)
    now = ctx.now()
    row = Announcement(
        school_id=school_id,
        class_id=class_id,
        kind=kind,
        title=title,
        body=body,
        created_by_id=ctx.actor.user_id,
        created_at=now,
        expires_at=expires_at,
    )
    ctx.session.add(row)
    await ctx.session.flush()
    if kind == "parent_meeting":
        parents = await audience_ids(ctx.session, school_id, class_id, parents_only=True)
        where = f" ({class_name})" if class_name else ""
        await notify(
            ctx.session, parents, "meeting", f"Родительское собрание{where}: {title}", None, now
        )
    audit.record(
        ctx.session,
        ctx.actor,
        "announcement.create",
        now,
        school_id=school_id,
        object_type="announcement",
        object_id=row.id,
        kind=kind,
        class_id=class_id,
    )
    author = await ctx.session.get(User, ctx.actor.user_id)
    return AnnouncementView(
        row.id,
        school_id,
        class_id,
        kind,
        title,
        body,
        ctx.actor.user_id,
        author.full_name if author else "",
        now,
        expires_at,
        False,
    )


# --- reading ------------------------------------------------------------------------------


async def announcements_for(ctx: Ctx) -> list[AnnouncementView]:
    """The unexpired announcements the actor is in the audience of: unread first, then
    newest first."""
    schools, classes = _reach(ctx.actor)
    rows = await ctx.session.execute(
        _FOR_READER,
        {
            "schools": sorted(schools),
            "classes": sorted(classes),
            "reader": ctx.actor.user_id,
            "now": ctx.now(),
        },
    )
    return [
        AnnouncementView(
            row.id,
            row.school_id,
            row.class_id,
            row.kind,
            row.title,
            row.body,
            row.created_by_id,
            _name(row.last_name, row.first_name, row.middle_name),
            row.created_at,
            row.expires_at,
            row.read_at is not None,
        )
        for row in rows
    ]


def _for_reader_query() -> Select[Any]:
    """Built once (its aliases are costly to build per call): the announcements of the
    ``schools`` (school-wide) and ``classes`` the ``reader`` is in the audience of (the
    rule of :func:`_reach`), unexpired at ``now``, with his receipt; unread first."""
    a = Announcement.__table__.c
    r = AnnouncementReceipt.__table__.alias("r")
    author = User.__table__.alias("author")
    unread_first = case((r.c.read_at.is_(None), 0), else_=1)
    audience = or_(
        and_(a.class_id.is_(None), a.school_id.in_(bindparam("schools", expanding=True))),
        a.class_id.in_(bindparam("classes", expanding=True)),
    )
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
        )
        .join(author, author.c.id == a.created_by_id)
        .outerjoin(r, and_(r.c.announcement_id == a.id, r.c.user_id == bindparam("reader")))
        .where(audience)
        .where(or_(a.expires_at.is_(None), a.expires_at > bindparam("now")))
        .order_by(unread_first, a.created_at.desc(), a.id.desc())
    )


_FOR_READER = _for_reader_query()


def _name(*parts: str) -> str:
    return " ".join(p for p in parts if p)


async def _load(ctx: Ctx, announcement_id: int) -> Announcement:
    row = await ctx.session.get(Announcement, announcement_id)
    if row is None:
        raise NotFound("объявление не найдено")
    return row


async def mark_read(ctx: Ctx, announcement_id: int) -> None:
    """Record that the actor has read an announcement (a receipt, kept once).

    Only the audience may: to anyone else the announcement does not exist.
    """
    row = await _load(ctx, announcement_id)
    if not _in_audience(ctx.actor, row.school_id, row.class_id):
        raise NotFound("объявление не найдено")
    existing = await ctx.session.get(AnnouncementReceipt, (row.id, ctx.actor.user_id))
    if existing is not None:
        return
    ctx.session.add(
        AnnouncementReceipt(announcement_id=row.id, user_id=ctx.actor.user_id, read_at=ctx.now())
    )
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "announcement.read",
        ctx.now(),
        school_id=row.school_id,
        object_type="announcement",
        object_id=row.id,
    )


async def read_receipts(ctx: Ctx, announcement_id: int) -> Receipts:
    """Who has read an announcement and who has not yet: for its author, and for whoever may
    announce to that audience (the administration; a class's class teacher)."""
    row = await _load(ctx, announcement_id)
    if ctx.actor.user_id != row.created_by_id:
        target, _ = await _target(ctx, row.school_id, row.class_id)
        ctx.require(Action.ANNOUNCE, target)
    members = await audience_ids(ctx.session, row.school_id, row.class_id)
    rc = AnnouncementReceipt.__table__.alias("rc")
    u = User.__table__.c
    people = await ctx.session.execute(
        select(u.id, u.last_name, u.first_name, u.middle_name, rc.c.read_at)
        .outerjoin(rc, and_(rc.c.user_id == u.id, rc.c.announcement_id == row.id))
        .where(u.id.in_(members))
        .order_by(u.last_name, u.first_name, u.id)
    )
    readers = [
        Reader(p.id, _name(p.last_name, p.first_name, p.middle_name), p.read_at) for p in people
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
