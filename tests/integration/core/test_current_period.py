"""One rule for the current period, the same for the family's diary and the staff console:
the latest term begun by the day, else the first term; a school without terms, its year.

School А's year 2025/2026 runs 01.09.2025–31.05.2026; here its quarters get the holidays of
a usual calendar: 01.09–26.10, 05.11–28.12, 12.01–22.03, 31.03–26.05.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, update

from diary_core import gradebook, school
from diary_core.clock import FixedClock
from diary_core.context import Ctx
from diary_core.models import Period
from diary_core.periods import (
    SchoolPeriod,
    current_period,
    period_containing,
    pupil_periods,
    school_periods,
)
from diary_core.policy import Actor, PupilPlace
from tests.support.world import World

QUARTERS = [
    (date(2025, 9, 1), date(2025, 10, 26)),
    (date(2025, 11, 5), date(2025, 12, 28)),
    (date(2026, 1, 12), date(2026, 3, 22)),
    (date(2026, 3, 31), date(2026, 5, 26)),
]


def _period(pid: int, kind: str, start: date, end: date) -> SchoolPeriod:
    return SchoolPeriod(pid, kind, f"{pid}", start, end)


TERMS = [_period(i + 1, "quarter", s, e) for i, (s, e) in enumerate(QUARTERS)]
YEAR = _period(9, "year", date(2025, 9, 1), date(2026, 5, 31))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 10, 15), 1),  # inside the first quarter
        (date(2025, 11, 1), 1),  # autumn holidays: the quarter just finished
        (date(2026, 1, 5), 2),  # winter holidays
        (date(2025, 8, 25), 1),  # before the first quarter: the first one
        (date(2026, 5, 28), 4),  # after the last quarter, the year not over
        (date(2026, 7, 1), 4),  # after the year
    ],
)
def test_the_rule_on_a_list_of_periods(day: date, expected: int) -> None:
    found = current_period([*TERMS, YEAR], day)
    assert found is not None and found.id == expected
    assert current_period([YEAR, *reversed(TERMS)], day) == found  # whatever the order


def test_a_school_with_only_year_periods_gets_its_year() -> None:
    next_year = _period(10, "year", date(2026, 9, 1), date(2027, 5, 31))
    assert current_period([YEAR, next_year], date(2025, 10, 1)) == YEAR
    assert current_period([YEAR, next_year], date(2026, 7, 1)) == YEAR  # summer: the last one
    assert current_period([YEAR, next_year], date(2025, 8, 1)) == YEAR  # before any: the first
    assert current_period([], date(2025, 10, 1)) is None


def test_the_period_holding_a_day_is_its_term_else_its_year() -> None:
    assert period_containing([*TERMS, YEAR], date(2025, 11, 10)) == TERMS[1]
    assert period_containing([*TERMS, YEAR], date(2025, 11, 1)) == YEAR  # a holiday
    assert period_containing([*TERMS, YEAR], date(2026, 7, 1)) is None


async def _with_holidays(world: World) -> list[int]:
    """School А's quarters moved to the calendar above; their ids in order."""
    for pid, (start, end) in zip(world.a.quarter_ids, QUARTERS, strict=True):
        await world.session.execute(
            update(Period).where(Period.id == pid).values(starts_on=start, ends_on=end)
        )
    await world.session.commit()
    return world.a.quarter_ids


async def _ctx(world: World, user_id: int, day: date) -> Ctx:
    actor: Actor = await world.actor(user_id)
    return Ctx(
        world.session, actor, FixedClock(datetime(day.year, day.month, day.day, 9, tzinfo=UTC))
    )


async def _family_and_staff(world: World, day: date) -> tuple[int | None, int | None, int]:
    """The period the diary opens on for the parent, the one the console's start page names
    for the teacher, and the one his journal opens on."""
    pupil = PupilPlace(world.pupil_a1, world.a.id, world.class_5a)
    parent = await _ctx(world, world.parent_a1, day)
    family = current_period(await pupil_periods(parent, pupil), day)
    teacher = await _ctx(world, world.teacher_math, day)
    staff = current_period(await school_periods(teacher, world.a.id), day)
    view = await gradebook.gradebook_view(teacher, world.class_5a, world.math_a, None)
    return family and family.id, staff and staff.id, view.grid.period_id


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        (date(2025, 10, 15), 0),
        (date(2025, 11, 1), 0),
        (date(2026, 1, 5), 1),
        (date(2025, 8, 25), 0),
        (date(2026, 6, 15), 3),
    ],
)
async def test_family_and_staff_open_the_same_period(world: World, day: date, quarter: int) -> None:
    ids = await _with_holidays(world)
    assert await _family_and_staff(world, day) == (ids[quarter], ids[quarter], ids[quarter])


async def test_after_the_year_a_new_year_not_begun_does_not_take_over(world: World) -> None:
    ids = await _with_holidays(world)
    system = await world.ctx()
    await school.create_year(system, world.a.id, "2026/2027", date(2026, 9, 1), date(2027, 5, 31))
    await world.session.commit()
    day = date(2026, 7, 1)
    assert await _family_and_staff(world, day) == (ids[3], ids[3], ids[3])
    parent = await _ctx(world, world.parent_a1, day)
    shown = await pupil_periods(parent, PupilPlace(world.pupil_a1, world.a.id, world.class_5a))
    assert [p.id for p in shown] == [*ids, world.a.year_period_id]  # the year just finished
    later = date(2026, 9, 2)
    family, staff, grid = await _family_and_staff(world, later)
    assert family == staff == grid and family not in ids


async def test_a_school_with_only_a_year_period_opens_its_year(world: World) -> None:
    await world.session.execute(delete(Period).where(Period.id.in_(world.a.quarter_ids)))
    await world.session.commit()
    year = world.a.year_period_id
    for day in (date(2025, 8, 25), date(2025, 10, 15), date(2026, 6, 15)):
        assert await _family_and_staff(world, day) == (year, year, year)
