"""What a school's bulk export of progress documents reads besides the progress itself
(``ediary feed export``): its pupils a batch at a time, and the year to export."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.errors import InvalidInput
from diary_core.models import AcademicYear, Pupil


async def school_pupil_ids(
    session: AsyncSession, school_id: int, after_id: int, batch: int
) -> list[int]:
    """The next ``batch`` pupil ids of a school after ``after_id`` (keyset pagination)."""
    rows = await session.scalars(
        select(Pupil.id)
        .where(Pupil.school_id == school_id, Pupil.id > after_id)
        .order_by(Pupil.id)
        .limit(batch)
    )
    return list(rows)


async def school_year_range(
    session: AsyncSession, school_id: int, today: date
) -> tuple[date, date]:
    """The school's academic year that contains ``today``, else its latest one."""
    rows = await session.execute(
        select(AcademicYear.starts_on, AcademicYear.ends_on)
        .where(AcademicYear.school_id == school_id, AcademicYear.starts_on <= today)
        .order_by(AcademicYear.starts_on.desc())
        .limit(1)
    )
    row = rows.first()
    if row is None:
        raise InvalidInput("у школы нет учебного года: укажите --from и --to", field="from")
    return row[0], row[1]
