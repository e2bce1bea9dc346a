"""A person's own data on request (152-FZ, article 14) and who read a pupil's data.

:func:`open_export` decides whose data an export covers and whether the actor may have it, and
records the export in the audit log; :func:`export_rows` then reads that data in bounded
batches, section by section, as plain dicts (the gateway writes them out as JSON and HTML).
:func:`pupil_readers` answers a family's "who looked at my child's data" from the audit log.

An export covers one account (``subject``): its profile, roles, contacts, the ESIA link's
status (never its identifiers' secrets: the diary stores none, and no password hash or code
hash leaves here), its guardianship links, the messages it took part in, its notifications
and the announcements addressed to it; and for every pupil the account is or is the confirmed
parent of, the school records: marks with their corrections, attendance, period marks, the
class and the homework of the class's lessons.

Who may export: the person themself (a family account: pupil or parent), the administrator of
a school the person belongs to (a written request), and the server's operator. An
administrator's export holds only that school's pupils and conversations.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import aliased

from diary_core import audit
from diary_core.actors import load_actor
from diary_core.announcements import visible_query
from diary_core.context import Ctx
from diary_core.errors import InvalidInput, NotFound
from diary_core.models import (
    Announcement,
    AnnouncementReceipt,
    Attendance,
    AuditEvent,
    ChangeLogEntry,
    Conversation,
    ConversationParticipant,
    ExternalIdentity,
    Guardianship,
    Lesson,
    Mark,
    Message,
    Notification,
    Period,
    PeriodMark,
    Pupil,
    School,
    SchoolClass,
    Subject,
    User,
    UserRole,
    WorkType,
)
from diary_core.policy import (
    Action,
    Actor,
    PupilPlace,
    PupilTarget,
    SchoolTarget,
    allowed,
    announcement_reach,
)
from diary_core.roles import ROLE_TITLES, STAFF_ROLES, Role

#: Rows read per query: an export never holds more than this many rows of a section at once.
BATCH = 500

#: The sections of an export's body, in the order :func:`export_rows` yields them.
SECTIONS = (
    "marks",
    "attendance",
    "period_marks",
    "homework",
    "messages",
    "notifications",
    "announcements",
)


@dataclass(frozen=True)
class PupilScope:
    """A pupil the export covers, with the words a reader needs."""

    place: PupilPlace
    user_id: int
    name: str
    school: str
    class_name: str


@dataclass(frozen=True)
class ExportScope:
    """Whose data an export covers and what of it: decided (and audited) by :func:`open_export`."""

    subject_id: int
    person: dict[str, Any]
    links: list[dict[str, Any]]
    pupils: list[PupilScope]
    #: conversations of these schools only (None: every school the person wrote in)
    schools: frozenset[int] | None
    #: the subject's own actor: the announcements addressed to him
    subject_actor: Actor
    exported_at: datetime
    requested_by: dict[str, Any] = field(default_factory=dict)
    #: every school of the person is in reach: notifications about no pupil (messages,
    #: announcements) are included; else only those about the pupils in the export
    whole: bool = True


def _name(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def _family_places(ctx: Ctx, user_id: int) -> list[PupilPlace]:
    """The pupil the account is, and the pupils it is the confirmed parent of."""
    own = select(Pupil.id, Pupil.school_id, Pupil.class_id).where(Pupil.user_id == user_id)
    kids = (
        select(Pupil.id, Pupil.school_id, Pupil.class_id)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .where(Guardianship.guardian_id == user_id, Guardianship.status == "confirmed")
    )
    rows = await ctx.session.execute(own.union(kids))
    return sorted((PupilPlace(*r) for r in rows), key=lambda p: p.pupil_id)


def _may_export(actor: Actor, subject_id: int, schools: set[int]) -> frozenset[int] | None:
    """The schools whose data the actor may export for the subject (None: all of them);
    :class:`NotFound` when none (another family's account looks like a missing one)."""
    if actor.system or actor.user_id == subject_id:
        return None
    managed = frozenset(s for s in schools if allowed(actor, Action.MANAGE_SCHOOL, SchoolTarget(s)))
    if not managed:
        raise NotFound("учётная запись не найдена")
    return managed


async def open_export(ctx: Ctx, subject_id: int) -> ExportScope:
    """Whose data the export of ``subject_id``'s data covers; checks access and records the
    export in the audit log (in the caller's transaction: the caller commits before it sends
    a byte, so an export that was served was audited)."""
    user = await ctx.session.get(User, subject_id)
    if user is None:
        raise NotFound("учётная запись не найдена")
    places = await _family_places(ctx, subject_id)
    schools = {p.school_id for p in places}
    if user.school_id is not None:
        schools.add(user.school_id)
    managed = _may_export(ctx.actor, subject_id, schools)
    if ctx.actor.user_id == subject_id and not ctx.actor.system:
        # the person themself: through the policy's own reach (a family reads its pupils)
        places = [
            p
            for p in places
            if allowed(
                ctx.actor, Action.READ_PUPIL, PupilTarget(p.school_id, p.class_id, p.pupil_id)
            )
        ]
    elif managed is not None:
        places = [p for p in places if p.school_id in managed]
    for p in places:
        ctx.require(Action.READ_PUPIL, PupilTarget(p.school_id, p.class_id, p.pupil_id))
    pupils = await _pupil_scopes(ctx, places)
    person = await _person(ctx, user)
    links = await _links(ctx, subject_id, managed)
    subject_actor = (
        await load_actor(ctx.session, subject_id)
        if user.is_active
        else Actor(subject_id, frozenset())
    )
    by_self = ctx.actor.user_id == subject_id and not ctx.actor.system
    requested_by = {
        "kind": "self" if by_self else "system" if ctx.actor.system else "administrator",
        "user_id": None if ctx.actor.system else ctx.actor.user_id,
    }
    audit.record(
        ctx.session,
        ctx.actor,
        "personal_data.export",
        ctx.now(),
        school_id=min(schools) if schools else None,
        object_type="user",
        object_id=subject_id,
        pupils=[p.place.pupil_id for p in pupils],
        requested_by=requested_by["kind"],
    )
    await ctx.session.flush()
    return ExportScope(
        subject_id=subject_id,
        person=person,
        links=links,
        pupils=pupils,
        schools=managed,
        subject_actor=subject_actor,
        exported_at=ctx.now(),
        requested_by=requested_by,
        whole=managed is None or schools <= managed,
    )


async def _pupil_scopes(ctx: Ctx, places: list[PupilPlace]) -> list[PupilScope]:
    if not places:
        return []
    by_id = {p.pupil_id: p for p in places}
    rows = await ctx.session.execute(
        select(Pupil.id, Pupil.user_id, User.last_name, User.first_name, User.middle_name)
        .add_columns(School.name, SchoolClass.name)
        .join(User, User.id == Pupil.user_id)
        .join(School, School.id == Pupil.school_id)
        .join(SchoolClass, SchoolClass.id == Pupil.class_id)
        .where(Pupil.id.in_(by_id))
        .order_by(Pupil.id)
    )
    return [
        PupilScope(by_id[pid], uid, _name(last, first, middle), school, cls)
        for pid, uid, last, first, middle, school, cls in rows
    ]


async def _person(ctx: Ctx, user: User) -> dict[str, Any]:
    roles = sorted(
        await ctx.session.scalars(select(UserRole.role).where(UserRole.user_id == user.id))
    )
    esia = list(
        await ctx.session.execute(
            select(ExternalIdentity.provider, ExternalIdentity.linked_at).where(
                ExternalIdentity.user_id == user.id
            )
        )
    )
    return {
        "id": user.id,
        "last_name": user.last_name,
        "first_name": user.first_name,
        "middle_name": user.middle_name,
        "birth_date": _iso(user.birth_date),
        "snils": user.snils,
        "email": user.email,
        "phone": user.phone,
        "login": user.login,
        "active": user.is_active,
        "roles": [{"code": r, "title": ROLE_TITLES.get(Role(r), r)} for r in roles],
        "esia": {
            "linked": bool(esia),
            "linked_at": _iso(min(at for _, at in esia)) if esia else None,
        },
    }


async def _links(ctx: Ctx, user_id: int, schools: frozenset[int] | None) -> list[dict[str, Any]]:
    """The guardianship links the person is on either side of: his children, his parents."""
    guardian = aliased(User)
    child = aliased(User)
    stmt = (
        select(
            Guardianship.status,
            Guardianship.source,
            Guardianship.guardian_id,
            guardian.last_name,
            guardian.first_name,
            guardian.middle_name,
            Pupil.id,
            Pupil.school_id,
            child.last_name,
            child.first_name,
            child.middle_name,
        )
        .join(guardian, guardian.id == Guardianship.guardian_id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .join(child, child.id == Pupil.user_id)
        .where(or_(Guardianship.guardian_id == user_id, Pupil.user_id == user_id))
        .order_by(Guardianship.id)
    )
    out = []
    for status, source, gid, gl, gf, gm, pid, school_id, cl, cf, cm in await ctx.session.execute(
        stmt
    ):
        if schools is not None and school_id not in schools:
            continue
        out.append(
            {
                "relation": "child" if gid == user_id else "parent",
                "status": status,
                "source": source,
                "guardian_id": gid,
                "guardian_name": _name(gl, gf, gm),
                "pupil_id": pid,
                "pupil_name": _name(cl, cf, cm),
            }
        )
    return out


async def _keyset(
    ctx: Ctx, stmt: Select[*tuple[Any, ...]], key: Any, batch: int
) -> AsyncIterator[Sequence[Any]]:
    """The rows of ``stmt`` in batches of ``batch``, by ascending ``key`` (a unique column)."""
    last: Any = None
    while True:
        page = stmt.order_by(key).limit(batch)
        if last is not None:
            page = page.where(key > last)
        rows = (await ctx.session.execute(page)).all()
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        last = rows[-1][0]


async def export_rows(
    ctx: Ctx, scope: ExportScope, batch: int = BATCH
) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """The export's body: ``(section, rows)`` in the order of :data:`SECTIONS`, each section
    in one or more batches of at most ``batch`` rows (a section without rows yields nothing)."""
    if batch < 1:
        raise InvalidInput("размер пачки должен быть положительным")
    pupil_ids = [p.place.pupil_id for p in scope.pupils]
    class_ids = sorted({p.place.class_id for p in scope.pupils})
    if pupil_ids:
        async for rows in _marks(ctx, pupil_ids, batch):
            yield "marks", rows
        async for rows in _attendance(ctx, pupil_ids, batch):
            yield "attendance", rows
        async for rows in _period_marks(ctx, pupil_ids, batch):
            yield "period_marks", rows
        async for rows in _homework(ctx, class_ids, batch):
            yield "homework", rows
    async for rows in _messages(ctx, scope, batch):
        yield "messages", rows
    async for rows in _notifications(ctx, scope, batch):
        yield "notifications", rows
    async for rows in _announcements(ctx, scope, batch):
        yield "announcements", rows


async def _marks(ctx: Ctx, pupil_ids: list[int], batch: int) -> AsyncIterator[list[dict[str, Any]]]:
    stmt = (
        select(
            Mark.id, Mark.pupil_id, Mark.date, Subject.name, Mark.value, WorkType.name,
            Mark.weight, Mark.counts, Mark.comment,
        )
        .join(Subject, Subject.id == Mark.subject_id)
        .join(WorkType, WorkType.id == Mark.work_type_id)
        .where(Mark.pupil_id.in_(pupil_ids))
    )  # fmt: skip
    async for rows in _keyset(ctx, stmt, Mark.id, batch):
        history = await _history(ctx, "mark", [r[0] for r in rows])
        yield [
            {
                "id": mid,
                "pupil_id": pid,
                "date": _iso(day),
                "subject": subject,
                "value": value,
                "work_type": work_type,
                "weight": weight,
                "counts": counts,
                "comment": comment,
                "history": history.get(mid, []),
            }
            for mid, pid, day, subject, value, work_type, weight, counts, comment in rows
        ]


async def _history(ctx: Ctx, entity: str, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The change-log entries of these records, oldest first, with their authors' names."""
    author = aliased(User)
    rows = await ctx.session.execute(
        select(
            ChangeLogEntry.entity_id, ChangeLogEntry.at, ChangeLogEntry.action,
            ChangeLogEntry.old, ChangeLogEntry.new, ChangeLogEntry.reason,
            author.last_name, author.first_name, author.middle_name,
        )
        .outerjoin(author, author.id == ChangeLogEntry.actor_id)
        .where(ChangeLogEntry.entity == entity, ChangeLogEntry.entity_id.in_(ids))
        .order_by(ChangeLogEntry.at, ChangeLogEntry.id)
    )  # fmt: skip
    out: dict[int, list[dict[str, Any]]] = {}
    for eid, at, action, old, new, reason, last, first, middle in rows:
        out.setdefault(eid, []).append(
            {
                "at": _iso(at),
                "action": action,
                "old": old,
                "new": new,
                "reason": reason,
                "by": _name(last, first, middle) or "система",
            }
        )
    return out


async def _attendance(
    ctx: Ctx, pupil_ids: list[int], batch: int
) -> AsyncIterator[list[dict[str, Any]]]:
    stmt = (
        select(Attendance.id, Attendance.pupil_id, Attendance.date, Attendance.lesson_number,
               Subject.name, Attendance.kind)
        .join(Subject, Subject.id == Attendance.subject_id)
        .where(Attendance.pupil_id.in_(pupil_ids))
    )  # fmt: skip
    async for rows in _keyset(ctx, stmt, Attendance.id, batch):
        history = await _history(ctx, "attendance", [r[0] for r in rows])
        yield [
            {
                "id": aid,
                "pupil_id": pid,
                "date": _iso(day),
                "lesson_number": number,
                "subject": subject,
                "kind": kind,
                "history": history.get(aid, []),
            }
            for aid, pid, day, number, subject, kind in rows
        ]


async def _period_marks(
    ctx: Ctx, pupil_ids: list[int], batch: int
) -> AsyncIterator[list[dict[str, Any]]]:
    stmt = (
        select(PeriodMark.id, PeriodMark.pupil_id, Subject.name, Period.name, PeriodMark.value,
               PeriodMark.locked_at)
        .join(Subject, Subject.id == PeriodMark.subject_id)
        .join(Period, Period.id == PeriodMark.period_id)
        .where(PeriodMark.pupil_id.in_(pupil_ids))
    )  # fmt: skip
    async for rows in _keyset(ctx, stmt, PeriodMark.id, batch):
        history = await _history(ctx, "period_mark", [r[0] for r in rows])
        yield [
            {
                "id": mid,
                "pupil_id": pid,
                "subject": subject,
                "period": period,
                "value": value,
                "locked": locked is not None,
                "history": history.get(mid, []),
            }
            for mid, pid, subject, period, value, locked in rows
        ]


async def _homework(
    ctx: Ctx, class_ids: list[int], batch: int
) -> AsyncIterator[list[dict[str, Any]]]:
    stmt = (
        select(Lesson.id, Lesson.class_id, Lesson.date, Lesson.lesson_number, Subject.name,
               Lesson.topic, Lesson.homework)
        .join(Subject, Subject.id == Lesson.subject_id)
        .where(Lesson.class_id.in_(class_ids), or_(Lesson.homework != "", Lesson.topic != ""))
    )  # fmt: skip
    async for rows in _keyset(ctx, stmt, Lesson.id, batch):
        yield [
            {
                "lesson_id": lid,
                "class_id": cid,
                "date": _iso(day),
                "lesson_number": number,
                "subject": subject,
                "topic": topic,
                "homework": homework,
            }
            for lid, cid, day, number, subject, topic, homework in rows
        ]


async def _messages(
    ctx: Ctx, scope: ExportScope, batch: int
) -> AsyncIterator[list[dict[str, Any]]]:
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
    async for rows in _keyset(ctx, stmt, Message.id, batch):
        yield [
            {
                "id": mid,
                "conversation_id": cid,
                "topic": topic,
                "at": _iso(at),
                "author": _name(last, first, middle),
                "own": author_id == scope.subject_id,
                "body": body,
            }
            for mid, cid, topic, at, author_id, last, first, middle, body in rows
        ]


async def _notifications(
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
    async for rows in _keyset(ctx, stmt, Notification.id, batch):
        yield [
            {
                "id": nid,
                "at": _iso(at),
                "kind": kind,
                "text": text,
                "pupil_id": pid,
                "read_at": _iso(read_at),
            }
            for nid, at, kind, text, pid, read_at in rows
        ]


async def _announcements(
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
            {"id": aid, "at": _iso(at), "title": title, "body": body, "read_at": _iso(read_at)}
            for aid, at, title, body, read_at in rows
        ]
        if len(rows) < batch:
            return
        last = rows[-1][0]


# --- who looked at my child's data ---------------------------------------------------------

#: The audit events that record a read of one pupil's marks, attendance or messages.
PUPIL_READS = (
    "pupil.marks.read",
    "pupil.attendance.read",
    "mark.history.read",
    "conversation.read",
    "portal.progress.read",
)
#: A class's gradebook read: every pupil's marks and attendance in that class and subject.
CLASS_READS = ("gradebook.read",)
#: How far back a family sees who read its child's data.
READERS_DAYS = 90
#: At most this many reads are read back for one pupil (the newest).
READERS_LIMIT = 5000


@dataclass(frozen=True)
class Reader:
    """Someone who read a pupil's data: a member of staff or a portal client."""

    kind: str  # staff | portal
    name: str
    roles: tuple[str, ...]  # staff: the Russian titles of his roles
    reads: list[tuple[datetime, str]]  # (when, the Russian phrase), newest first

    @property
    def last(self) -> datetime:
        return self.reads[0][0]


async def pupil_readers(ctx: Ctx, pupil_id: int, days: int = READERS_DAYS) -> list[Reader]:
    """Who read the pupil's marks, attendance or messages in the last ``days`` days, grouped
    by reader, the most recent reader first. Only the pupil and his parents ask this: a
    pupil not of the actor's family is "not found". Reads by the family are left out."""
    place = next((p for p in ctx.actor.family_places if p.pupil_id == pupil_id), None)
    if place is None or ctx.actor.is_staff:
        raise NotFound("обучающийся не найден")
    ctx.require(Action.READ_PUPIL, PupilTarget(place.school_id, place.class_id, place.pupil_id))
    pupil = await ctx.session.get(Pupil, pupil_id)
    if pupil is None:
        raise NotFound("обучающийся не найден")
    family = {pupil.user_id} | set(
        await ctx.session.scalars(
            select(Guardianship.guardian_id).where(Guardianship.pupil_id == pupil_id)
        )
    )
    since = ctx.now() - timedelta(days=days)
    ev = AuditEvent
    actor = aliased(User)
    rows = await ctx.session.execute(
        select(ev.at, ev.action, ev.actor_kind, ev.actor_id, ev.actor_label,
               actor.last_name, actor.first_name, actor.middle_name)
        .outerjoin(actor, actor.id == ev.actor_id)
        .where(
            ev.at >= since,
            or_(
                and_(ev.pupil_id == pupil_id, ev.action.in_(PUPIL_READS)),
                and_(
                    ev.school_id == place.school_id,
                    ev.action.in_(CLASS_READS),
                    ev.object_type == "class",
                    ev.object_id == str(place.class_id),
                ),
            ),
            or_(ev.actor_kind == "portal", and_(ev.actor_kind == "user",
                                                 ev.actor_id.not_in(sorted(family)))),
        )
        .order_by(ev.at.desc(), ev.id.desc())
        .limit(READERS_LIMIT)
    )  # fmt: skip
    grouped: dict[tuple[str, str], list[tuple[datetime, str]]] = {}
    names: dict[tuple[str, str], str] = {}
    staff_ids: set[int] = set()
    for at, action, kind, actor_id, label, last, first, middle in rows:
        if kind == "portal":
            key = ("portal", label)
            names[key] = label
        else:
            assert actor_id is not None  # a user's event names its user
            key = ("staff", str(actor_id))
            names[key] = _name(last, first, middle)
            staff_ids.add(actor_id)
        grouped.setdefault(key, []).append((at, audit.phrase(action)))
    roles: dict[int, list[str]] = {}
    if staff_ids:
        for uid, role in await ctx.session.execute(
            select(UserRole.user_id, UserRole.role)
            .where(UserRole.user_id.in_(sorted(staff_ids)))
            .order_by(UserRole.role)
        ):
            if Role(role) in STAFF_ROLES:
                roles.setdefault(uid, []).append(ROLE_TITLES[Role(role)])
    return [
        Reader(kind, names[(kind, ident)],
               tuple(roles.get(int(ident), [])) if kind == "staff" else (), reads)
        for (kind, ident), reads in grouped.items()
    ]  # fmt: skip


# --- the administrator's choice of a person ------------------------------------------------


@dataclass(frozen=True)
class PersonChoice:
    user_id: int
    name: str
    roles: tuple[str, ...]  # Russian titles


#: At most this many people are listed for one search.
PEOPLE_LIMIT = 50


async def school_people(ctx: Ctx, school_id: int, query: str) -> list[PersonChoice]:
    """The people of a school whose surname starts with ``query`` (staff, pupils, the
    pupils' parents): whom the administrator may export the data of."""
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school_id))
    needle = query.strip()
    if not needle:
        raise InvalidInput("укажите начало фамилии")
    pupils = select(Pupil.user_id).where(Pupil.school_id == school_id)
    parents = (
        select(Guardianship.guardian_id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(Pupil.school_id == school_id)
    )
    users = list(
        await ctx.session.scalars(
            select(User)
            .where(
                or_(User.school_id == school_id, User.id.in_(pupils), User.id.in_(parents)),
                User.last_name.istartswith(needle, autoescape=True),
            )
            .order_by(User.last_name, User.first_name, User.id)
            .limit(PEOPLE_LIMIT)
        )
    )
    roles: dict[int, list[str]] = {}
    if users:
        for uid, role in await ctx.session.execute(
            select(UserRole.user_id, UserRole.role)
            .where(UserRole.user_id.in_([u.id for u in users]))
            .order_by(UserRole.role)
        ):
            roles.setdefault(uid, []).append(ROLE_TITLES[Role(role)])
    return [
        PersonChoice(
            u.id, _name(u.last_name, u.first_name, u.middle_name), tuple(roles.get(u.id, []))
        )
        for u in users
    ]
