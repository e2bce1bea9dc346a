"""A school's periods as the pages list them (its terms — quarters, trimesters or halves —
and the ``year`` period of each academic year), and the one rule for which of them is the
current one, used by the family's diary and by the staff console alike.

The rule (:func:`current_period`): the latest term that has begun by the day, else the
first term; a school without terms uses its year periods the same way. So inside a term it
is that term; in the holidays between terms and after the year it is the term just finished
(its marks and its period marks are what a family reads and a teacher completes then, and
its period overlaps the year, so the year mark shows beside it); before the first term it
is the first term (nothing is over yet, and that is where the first marks will go); and a
school whose year has no terms gets its year period, so its journal still opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, bindparam, select

from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.models import Period
from diary_core.policy import Action, PupilPlace, PupilTarget


@dataclass(frozen=True)
class SchoolPeriod:
    """One of a school's periods: a term or the year (its year marks)."""

    id: int
    kind: str  # quarter | trimester | half | year
    name: str
    starts_on: date
    ends_on: date


class _Dated(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def starts_on(self) -> date: ...
    @property
    def ends_on(self) -> date: ...


P = TypeVar("P", bound=_Dated)


def current_period(periods: Sequence[P], day: date) -> P | None:
    """The period the diary and the journal open on for ``day`` (the module's rule): the
    latest term begun by the day, else the first term; the year periods likewise when there
    are no terms; ``None`` only for no periods at all."""
    terms = [p for p in periods if p.kind != "year"] or list(periods)
    if not terms:
        return None
    terms.sort(key=lambda p: (p.starts_on, p.ends_on))
    begun = [p for p in terms if p.starts_on <= day]
    return begun[-1] if begun else terms[0]


def period_containing(periods: Sequence[P], day: date) -> P | None:
    """The period whose dates hold a day: its term, else (a day between terms) its year."""
    holding = [p for p in periods if p.starts_on <= day <= p.ends_on]
    terms = [p for p in holding if p.kind != "year"]
    found = terms or holding
    return found[0] if found else None


def _periods_query() -> Select[Any]:
    p = Period.__table__.c
    return (
        select(p.id, p.kind, p.name, p.starts_on, p.ends_on, p.year_id)
        .where(p.school_id == bindparam("school_id"))
        .order_by(p.kind == "year", p.starts_on, p.number)
    )


_PERIODS = _periods_query()


async def _all_periods(ctx: Ctx, school_id: int) -> list[tuple[SchoolPeriod, int]]:
    rows = await ctx.session.execute(_PERIODS, {"school_id": school_id})
    return [(SchoolPeriod(*r[:5]), r.year_id) for r in rows]


async def school_periods(ctx: Ctx, school_id: int) -> list[SchoolPeriod]:
    """The school's terms (quarters …) of all its years, oldest first, then the year periods;
    for the school's own staff (the operator too)."""
    if not (ctx.actor.system or ctx.actor.staff_of(school_id)):
        raise NotFound("школа не найдена")
    return [p for p, _ in await _all_periods(ctx, school_id)]


async def pupil_periods(ctx: Ctx, pupil: PupilPlace) -> list[SchoolPeriod]:
    """The periods of the academic year whose period is current for the pupil's school
    (:func:`current_period`): its terms in order, then the year. The policy's ``READ_PUPIL``
    on a pupil whose place the caller has just read from the database."""
    ctx.require(Action.READ_PUPIL, PupilTarget(pupil.school_id, pupil.class_id, pupil.pupil_id))
    rows = await _all_periods(ctx, pupil.school_id)
    year_of = {p.id: year_id for p, year_id in rows}
    current = current_period([p for p, _ in rows], ctx.today())
    if current is None:
        return []
    return [p for p, year_id in rows if year_id == year_of[current.id]]


async def period_of_day(ctx: Ctx, school_id: int, day: date) -> int | None:
    """The period that holds a day (:func:`period_containing`), for links back to the
    journal that shows it."""
    found = period_containing(await school_periods(ctx, school_id), day)
    return found.id if found else None
