"""Announcements to a school or a class, with read receipts
(docs/regulation.md, clauses 2.3 and 4.1).

The audience of a school announcement is its staff, its pupils and their parents; of a class
announcement, the class's pupils, their parents and its teachers (subject teachers and the
class teacher). Parents count only through a confirmed guardianship. A parent-meeting
announcement also notifies the parents it reaches.

The administration also addresses the school's staff only (never shown to families), the
parents of one grade (all 5th classes: parents only), or several classes at once (each as a
class announcement). Who is in an audience is decided here and in the policy's
:class:`~diary_core.policy.AnnouncementReach`, once for every read path: the reader's side is
:func:`visible_query`, the author's side (read receipts, notifications) :func:`members_query`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core import audit
from diary_core.context import Ctx
from diary_core.errors import Forbidden, InvalidInput, NotFound
from diary_core.models import (
    Announcement,
    AnnouncementClass,
    AnnouncementReceipt,
    Guardianship,
    Pupil,
    SchoolClass,
    TeachingAssignment,
    User,
    UserRole,
)
from diary_core.notifications import notify
from diary_core.policy import (
    Action,
    Actor,
    AnnouncementReach,
    ClassTarget,
    PupilPlace,
    SchoolTarget,
    Target,
    allowed,
    announcement_reach,
)
from diary_core.roles import STAFF_ROLES
from diary_core.school import current_year
from diary_core.text import clean_line
from diary_core.text import clean_text as clean_multiline

KINDS = ("general", "timetable_change", "parent_meeting")
# Who an announcement is addressed to: the whole school, its staff only, the parents of one
# grade, one class (the class teacher's console), several classes (the administration's).
AUDIENCES = ("school", "staff", "grade", "class", "classes")
SCHOOL_AUDIENCES = ("school", "staff", "grade", "classes")  # the administration's console
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
    audience: str = "school"
    grade: int | None = None
    edited_at: datetime | None = None


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


def _class_staff_queries(in_classes: Callable[[Any], ColumnElement[bool]]) -> list[Select[Any]]:
    """The teachers of classes: ``in_classes`` maps a class id column to the condition."""
    subject_teachers = select(TeachingAssignment.teacher_id.label("user_id")).where(
        in_classes(TeachingAssignment.class_id)
    )
    class_teacher = select(SchoolClass.class_teacher_id.label("user_id")).where(
        in_classes(SchoolClass.id), SchoolClass.class_teacher_id.is_not(None)
    )
    return [subject_teachers, class_teacher]


def _staff_queries(school_id: int, class_id: int | None) -> list[Select[Any]]:
    if class_id is not None:
        return _class_staff_queries(lambda column: column == class_id)
    is_staff = exists().where(UserRole.user_id == User.id, UserRole.role.in_(STAFF_ROLES))
    return [select(User.id.label("user_id")).where(User.school_id == school_id, is_staff)]


async def audience_ids(
    session: AsyncSession, school_id: int, class_id: int | None, *, parents_only: bool = False
) -> set[int]:
    """The accounts a school (``class_id`` None) or class announcement reaches.

    With ``parents_only`` just the confirmed parents; the same rule serves timetable-change
    notifications (pupils and parents, no staff) through :func:`family_ids`.
    """
    audience = "class" if class_id is not None else "school"
    query = members_query(audience, school_id, class_id, parents_only=parents_only)
    return set(await session.scalars(query))


def members_query(
    audience: str,
    school_id: int,
    class_id: int | None = None,
    grade: int | None = None,
    class_ids: Sequence[int] = (),
    *,
    parents_only: bool = False,
) -> Select[Any] | CompoundSelect[Any]:
    """The accounts (``user_id``) an announcement reaches, as one statement: the author's side
    of the rule :func:`visible_query` applies from the reader's side.

    ``parents_only``: just its confirmed parents (whom a parent meeting notifies).
    """
    if audience == "staff":
        parts = [] if parents_only else _staff_queries(school_id, None)
        if not parts:
            return select(User.id.label("user_id")).where(literal(False))
    elif audience == "grade":
        grade_classes = select(SchoolClass.id).where(
            SchoolClass.school_id == school_id, SchoolClass.grade == grade
        )
        parts = _family_queries(Pupil.class_id.in_(grade_classes), True)
    elif audience == "classes":
        ids = sorted(class_ids)
        parts = _family_queries(Pupil.class_id.in_(ids), parents_only)
        if not parents_only:
            parts += _class_staff_queries(lambda column: column.in_(ids))
    else:
        the_class = class_id if audience == "class" else None
        scope = (
            Pupil.class_id == the_class if the_class is not None else Pupil.school_id == school_id
        )
        parts = _family_queries(scope, parents_only)
        if not parents_only:
            parts += _staff_queries(school_id, the_class)
    return parts[0] if len(parts) == 1 else union(*parts)


async def _members_of(
    session: AsyncSession, row: Announcement, *, parents_only: bool = False
) -> Select[Any] | CompoundSelect[Any]:
    class_ids: list[int] = []
    if row.audience == "classes":
        class_ids = list(
            await session.scalars(
                select(AnnouncementClass.class_id).where(
                    AnnouncementClass.announcement_id == row.id
                )
            )
        )
    return members_query(
        row.audience,
        row.school_id,
        row.class_id,
        row.grade,
        class_ids,
        parents_only=parents_only,
    )


async def family_ids(session: AsyncSession, class_id: int) -> set[int]:
    """The pupils of a class and their confirmed parents (not its staff)."""
    return await _ids(session, _family_queries(Pupil.class_id == class_id, False))


async def _ids(session: AsyncSession, parts: list[Select[Any]]) -> set[int]:
    query = parts[0] if len(parts) == 1 else union(*parts)
    ids: set[int] = set(await session.scalars(query))
    return ids


def _reach_params(actor: Actor) -> dict[str, Any]:
    """The bind parameters of :func:`visible_query` for the actor (the policy's reach)."""
    reach: AnnouncementReach = announcement_reach(actor)
    return {
        "schools": sorted(reach.schools),
        "staff_schools": sorted(reach.staff_schools),
        "classes": sorted(reach.classes),
        "listed_classes": sorted(reach.classes),
        "parent_classes": sorted(reach.parent_classes),
    }


def visible_query(a: Any) -> ColumnElement[bool]:
    """Whether the reader (the bind parameters of :func:`_reach_params`) is in the audience
    of announcement ``a`` (its table's columns): the one rule every read path applies."""
    t = AnnouncementClass.__table__.alias("t")
    c = SchoolClass.__table__.alias("grade_class")
    return or_(
        and_(a.audience == "school", a.school_id.in_(bindparam("schools", expanding=True))),
        and_(a.audience == "staff", a.school_id.in_(bindparam("staff_schools", expanding=True))),
        and_(a.audience == "class", a.class_id.in_(bindparam("classes", expanding=True))),
        and_(
            a.audience == "classes",
            exists().where(
                t.c.announcement_id == a.id,
                t.c.class_id.in_(bindparam("listed_classes", expanding=True)),
            ),
        ),
        and_(
            a.audience == "grade",
            exists().where(
                c.c.id.in_(bindparam("parent_classes", expanding=True)),
                c.c.school_id == a.school_id,
                c.c.grade == a.grade,
            ),
        ),
    )


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


async def _check_audience(
    ctx: Ctx, school_id: int, audience: str, grade: int | None, class_ids: Sequence[int]
) -> tuple[int | None, tuple[int, ...], str]:
    """Validate a school-level audience; returns its grade, its classes and a label."""
    if audience not in SCHOOL_AUDIENCES:
        raise InvalidInput(f"неизвестный круг получателей «{audience}»", field="audience")
    if audience == "grade":
        if grade is None:
            raise InvalidInput("не выбрана параллель", field="grade")
        found = await ctx.session.scalar(
            select(func.count())
            .select_from(SchoolClass)
            .where(SchoolClass.school_id == school_id, SchoolClass.grade == grade)
        )
        if not found:
            raise InvalidInput(f"в школе нет классов параллели {grade}", field="grade")
        return grade, (), f"родители, параллель {grade}"
    if audience == "classes":
        ids = tuple(sorted(set(class_ids)))
        if not ids:
            raise InvalidInput("не выбран ни один класс", field="classes")
        names = list(
            await ctx.session.scalars(
                select(SchoolClass.name)
                .where(SchoolClass.id.in_(ids), SchoolClass.school_id == school_id)
                .order_by(SchoolClass.grade, SchoolClass.name)
            )
        )
        if len(names) != len(ids):
            raise NotFound("класс не найден")
        return None, ids, ", ".join(names)
    return None, (), ""


async def announce(
    ctx: Ctx,
    title: str,
    body: str,
    kind: str,
    school_id: int,
    class_id: int | None = None,
    expires_at: datetime | None = None,
    *,
    audience: str | None = None,
    grade: int | None = None,
    class_ids: Sequence[int] = (),
) -> AnnouncementView:
    """Publish an announcement to a school or to one class, or (``audience``) to the
    school's staff only, the parents of one ``grade`` or several classes (``class_ids``).

    Who may: the policy's ``ANNOUNCE`` (a class: its class teacher or the administration; the
    school and its other audiences: the administration). A parent meeting notifies the
    parents in the audience.
    """
    if audience is None or audience == "class":
        audience = "class" if class_id is not None else "school"
        if audience == "class" and class_id is None:
            raise InvalidInput("не выбран класс", field="class_id")
        target, class_name = await _target(ctx, school_id, class_id)
        ctx.require(Action.ANNOUNCE, target)
        grade, class_ids = None, ()
    else:
        if class_id is not None:
            raise InvalidInput("объявление одному классу не указывает круг получателей")
        ctx.require(Action.ANNOUNCE, SchoolTarget(school_id))
        grade, class_ids, class_name = await _check_audience(
            ctx, school_id, audience, grade, class_ids
        )
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
        audience=audience,
        grade=grade,
    )
    ctx.session.add(row)
    await ctx.session.flush()
    for listed in class_ids:
        ctx.session.add(AnnouncementClass(announcement_id=row.id, class_id=listed))
    if class_ids:
        await ctx.session.flush()
    if kind == "parent_meeting":
        parents: set[int] = set(
            await ctx.session.scalars(
                members_query(audience, school_id, class_id, grade, class_ids, parents_only=True)
            )
        )
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
        audience=audience,
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
        audience,
        grade,
    )


# --- reading ------------------------------------------------------------------------------


async def announcements_for(ctx: Ctx) -> list[AnnouncementView]:
    """The unexpired announcements the actor is in the audience of: unread first, then
    newest first."""
    rows = await ctx.session.execute(
        _FOR_READER, {**_reach_params(ctx.actor), "reader": ctx.actor.user_id, "now": ctx.now()}
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
        _name(row.last_name, row.first_name, row.middle_name),
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
                **_reach_params(ctx.actor),
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
    ``schools`` (school-wide) and ``classes`` the ``reader`` is in the audience of (the
    rule of :func:`_reach`), unexpired at ``now``, with his receipt; unread first."""
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


def _name(*parts: str) -> str:
    return " ".join(p for p in parts if p)


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


async def read_receipts(ctx: Ctx, announcement_id: int) -> Receipts:
    """Who has read an announcement and who has not yet: for its author, and for whoever may
    announce to that audience (the administration; a class's class teacher)."""
    row = await _manageable(ctx, announcement_id, author_may=True)
    members = await _members_of(ctx.session, row)
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


# --- managing: the author's and the administration's side ---------------------------------


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
    params = {**_reach_params(ctx.actor), "announcement_id": announcement_id}
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
    members = (await _members_of(session, row)).subquery("members")
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
        authors = {p.id: _name(p.last_name, p.first_name, p.middle_name) for p in people}
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
    _check_expiry(ctx, expires_at)
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
