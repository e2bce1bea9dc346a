"""A pupil's newest marks, the diary's "new marks": those put in or corrected since a moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, select

from diary_core import audit
from diary_core.context import Ctx
from diary_core.models import (
    Mark,
    Subject,
    WorkType,
)
from diary_core.policy import (
    Action,
    PupilPlace,
    PupilTarget,
)

RECENT_MARKS_LIMIT = 20


def _require_pupil(ctx: Ctx, pupil: PupilPlace) -> None:
    """The policy's ``READ_PUPIL`` on a pupil whose place the caller has just read from the
    database (the diary reads it with the family's children, :func:`families.my_pupils`)."""
    ctx.require(Action.READ_PUPIL, PupilTarget(pupil.school_id, pupil.class_id, pupil.pupil_id))


def _audit_staff_read(ctx: Ctx, action: str, pupil: PupilPlace) -> None:
    """Staff reads of a pupil's personal data are audited; a family's own reads are not."""
    if ctx.actor.is_staff or ctx.actor.system:
        audit.record(
            ctx.session,
            ctx.actor,
            action,
            ctx.now(),
            school_id=pupil.school_id,
            pupil_id=pupil.pupil_id,
            object_type="pupil",
            object_id=pupil.pupil_id,
        )


@dataclass(frozen=True)
class RecentMark:
    created_at: datetime
    date: date
    subject: str
    value: str
    work_type: str
    weight: int


async def recent_marks(ctx: Ctx, pupil: PupilPlace, since: datetime) -> list[RecentMark]:
    """The pupil's marks put in (or corrected) since a moment, newest first: the diary's
    "new marks"."""
    _require_pupil(ctx, pupil)
    rows = await ctx.session.execute(
        _RECENT_MARKS, {"pupil_id": pupil.pupil_id, "since": since, "limit": RECENT_MARKS_LIMIT}
    )
    _audit_staff_read(ctx, "pupil.marks.read", pupil)
    return [RecentMark(*r) for r in rows]


def _recent_marks_query() -> Select[Any]:
    m, subject, work_type = Mark.__table__.c, Subject.__table__.c, WorkType.__table__.c
    return (
        select(m.updated_at, m.date, subject.name, m.value, work_type.name, m.weight)
        .join(Subject.__table__, subject.id == m.subject_id)
        .join(WorkType.__table__, work_type.id == m.work_type_id)
        .where(m.pupil_id == bindparam("pupil_id"), m.updated_at >= bindparam("since"))
        .order_by(m.updated_at.desc(), m.id.desc())
        .limit(bindparam("limit"))
    )


_RECENT_MARKS = _recent_marks_query()
