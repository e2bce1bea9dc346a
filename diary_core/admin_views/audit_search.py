"""The audit log of a school for its administrator: filters by actor, action, pupil and
dates, newest first, with keyset paging (stable however fast the log grows)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import aliased

from diary_core import audit
from diary_core.admin_views.audit_text import action_choices, describe
from diary_core.admin_views.staff import StaffMember, staff_rows
from diary_core.context import Ctx
from diary_core.errors import InvalidInput, NotFound
from diary_core.models import AuditEvent, Pupil, SchoolClass, User
from diary_core.policy import Action, SchoolTarget

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    actor_id: int | None = None
    action: str = ""
    pupil_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: str
    pupil_id: int | None
    pupil_name: str
    details: dict[str, object]
    phrase: str = ""  # the action in Russian (audit.ACTIONS)
    summary: str = ""  # the details in Russian, long texts cut
    full: str = ""  # the same, whole


@dataclass(frozen=True)
class AuditPage:
    rows: tuple[AuditRow, ...]
    next_before: int | None  # the cursor of the next (older) page, if there is one


@dataclass(frozen=True)
class PupilChoice:
    id: int
    name: str
    class_name: str


@dataclass(frozen=True)
class FilterOptions:
    actions: tuple[tuple[str, str], ...]  # (code, Russian phrase)
    staff: tuple[StaffMember, ...]
    pupils: tuple[PupilChoice, ...]


def _name(last: str | None, first: str | None, middle: str | None) -> str:
    return " ".join(p for p in (last, first, middle) if p)


def _bounds(f: AuditFilters) -> tuple[datetime | None, datetime | None]:
    if f.date_from and f.date_to and f.date_from > f.date_to:
        raise InvalidInput("дата «с» позже даты «по»", field="date_from")
    start = datetime.combine(f.date_from, time(0), tzinfo=UTC) if f.date_from else None
    end = (
        datetime.combine(f.date_to + timedelta(days=1), time(0), tzinfo=UTC) if f.date_to else None
    )
    return start, end


def _conditions(school_id: int, f: AuditFilters) -> list[ColumnElement[bool]]:
    e = AuditEvent
    where = [e.school_id == school_id]
    if f.actor_id is not None:
        where.append(e.actor_id == f.actor_id)
    if f.action:
        where.append(e.action == f.action)
    if f.pupil_id is not None:
        where.append(e.pupil_id == f.pupil_id)
    start, end = _bounds(f)
    if start is not None:
        where.append(e.at >= start)
    if end is not None:
        where.append(e.at < end)
    return where


async def _older_than(ctx: Ctx, school_id: int, before: int) -> ColumnElement[bool]:
    """Keyset paging on (at, id) descending: rows strictly older than the cursor row."""
    at = await ctx.session.scalar(
        select(AuditEvent.at).where(AuditEvent.id == before, AuditEvent.school_id == school_id)
    )
    if at is None:
        raise InvalidInput("неверная ссылка на страницу журнала", field="before")
    return or_(AuditEvent.at < at, and_(AuditEvent.at == at, AuditEvent.id < before))


async def _check_pupil(ctx: Ctx, school_id: int, pupil_id: int) -> None:
    pupil = await ctx.session.get(Pupil, pupil_id)
    if pupil is None or pupil.school_id != school_id:
        raise NotFound("обучающийся не найден")


def _row(r: Any) -> AuditRow:
    e: AuditEvent = r.AuditEvent
    if e.actor_kind == "portal":
        actor = f"портал госуслуг ({e.actor_label})"
    elif e.actor_kind == "system":
        actor = "оператор сервера"
    else:
        actor = _name(r.a_last, r.a_first, r.a_middle) or "удалённая учётная запись"
    return AuditRow(
        e.id,
        e.at,
        e.actor_kind,
        e.actor_id,
        actor,
        e.action,
        e.object_type,
        e.object_id,
        e.pupil_id,
        _name(r.p_last, r.p_first, r.p_middle),
        dict(e.details or {}),
    )


async def audit_log(
    ctx: Ctx, school_id: int, filters: AuditFilters, before: int | None = None
) -> AuditPage:
    """One page of the school's audit log, newest first (``READ_AUDIT``).

    Looking up one pupil's trail is itself an access to his personal data, so it is
    recorded in the log.
    """
    ctx.require(Action.READ_AUDIT, SchoolTarget(school_id))
    if filters.pupil_id is not None:
        await _check_pupil(ctx, school_id, filters.pupil_id)
    where = _conditions(school_id, filters)
    if before is not None:
        where.append(await _older_than(ctx, school_id, before))
    actor, pupil_user = aliased(User), aliased(User)
    query = (
        select(
            AuditEvent,
            actor.last_name.label("a_last"),
            actor.first_name.label("a_first"),
            actor.middle_name.label("a_middle"),
            pupil_user.last_name.label("p_last"),
            pupil_user.first_name.label("p_first"),
            pupil_user.middle_name.label("p_middle"),
        )
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(Pupil, Pupil.id == AuditEvent.pupil_id)
        .outerjoin(pupil_user, pupil_user.id == Pupil.user_id)
        .where(*where)
    )
    rows = list(
        await ctx.session.execute(
            query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(PAGE_SIZE + 1)
        )
    )
    base = [_row(r) for r in rows[:PAGE_SIZE]]
    texts = await describe(
        ctx.session, [(b.action, b.object_type, b.object_id, dict(b.details)) for b in base]
    )
    page = tuple(
        replace(b, phrase=audit.phrase(b.action), summary=t.short, full=t.full)
        for b, t in zip(base, texts, strict=True)
    )
    if filters.pupil_id is not None:
        audit.record(
            ctx.session,
            ctx.actor,
            "audit.read",
            ctx.now(),
            school_id=school_id,
            pupil_id=filters.pupil_id,
            object_type="pupil",
            object_id=filters.pupil_id,
        )
    return AuditPage(page, page[-1].id if len(rows) > PAGE_SIZE else None)


async def audit_filter_options(ctx: Ctx, school_id: int) -> FilterOptions:
    """What the filters offer: every action the log records (:data:`audit.ACTIONS`, not the
    values found in the table: the demo generator's service events are not offered), the
    staff, the pupils."""
    ctx.require(Action.READ_AUDIT, SchoolTarget(school_id))
    pupils = await ctx.session.execute(
        select(Pupil.id, User.last_name, User.first_name, User.middle_name, SchoolClass.name)
        .join(User, User.id == Pupil.user_id)
        .join(SchoolClass, SchoolClass.id == Pupil.class_id)
        .where(Pupil.school_id == school_id)
        .order_by(SchoolClass.grade, SchoolClass.name, User.last_name, User.first_name)
    )
    return FilterOptions(
        actions=action_choices(audit.ACTIONS.items()),
        staff=tuple(await staff_rows(ctx.session, school_id)),
        pupils=tuple(
            PupilChoice(r.id, _name(r.last_name, r.first_name, r.middle_name), r.name)
            for r in pupils
        ),
    )
