"""Who looked at my child's data: the reads of a pupil's marks, attendance or messages by
staff and portal clients, from the audit log, for the pupil and his parents only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from diary_core import audit
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.models import AuditEvent, Guardianship, Pupil, User, UserRole
from diary_core.personal_data.rows import full_name
from diary_core.policy import Action, PupilTarget
from diary_core.roles import ROLE_TITLES, STAFF_ROLES, Role

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
            names[key] = full_name(last, first, middle)
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
