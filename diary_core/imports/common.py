"""What both imports share: the permission check, the report counts, chunked bulk reads."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from diary_core import audit, school
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.journal_writes import actor_id as actor_id  # the imports' author, as any write's
from diary_core.models import AcademicYear, School
from diary_core.policy import Action, SchoolTarget

#: Rows per bulk statement: large enough to amortise round trips, small enough to stay under
#: the bind-parameter limits of both databases (SQLite 32766, PostgreSQL 32767).
CHUNK = 2000

#: ``progress(done, total)``: rows of the file written so far, of all rows.
ProgressFn = Callable[[int, int], None]

T = TypeVar("T")


@dataclass
class Counts:
    """What an import did to one kind of record."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


async def import_target(ctx: Ctx, school_id: int) -> tuple[School, AcademicYear]:
    """The school and its current academic year, for an actor allowed to import into it.

    Imports change a whole school at once, so they are the administrator's act
    (``MANAGE_SCHOOL``); another school's administrator is told the school does not exist.
    """
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school_id))
    target = await ctx.session.get(School, school_id)
    if target is None:
        raise NotFound("школа не найдена")
    year = await school.current_year(ctx, school_id, ctx.now().date())
    return target, year


async def record_import(
    ctx: Ctx, kind: str, school_id: int, file_name: str, year: AcademicYear, counts: dict[str, Any]
) -> None:
    """One audit event per import (``roster.import`` / ``marks.import``), in its transaction."""
    audit.record(
        ctx.session,
        ctx.actor,
        f"{kind}.import",
        ctx.now(),
        school_id=school_id,
        object_type="import",
        file=file_name,
        year=year.name,
        **counts,
    )
    await ctx.session.flush()


def table(model: type[Any]) -> Table:
    """A model's table, for bulk Core statements."""
    return cast(Table, model.__table__)


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def select_in_chunks(
    session: AsyncSession, build: Callable[[Sequence[Any]], Executable], keys: Sequence[Any]
) -> list[Any]:
    """Rows of ``build(chunk)`` for every chunk of ``keys``: one query per chunk, not per key."""
    rows: list[Any] = []
    async with _planned_with_values(session):
        for part in chunked(keys):
            rows.extend((await session.execute(build(part))).all())
    return rows


@asynccontextmanager
async def _planned_with_values(session: AsyncSession) -> AsyncIterator[None]:
    """PostgreSQL: plan the lookups with their actual keys.

    A lookup runs the same ``IN (…2000 parameters…)`` statement many times; after five runs
    PostgreSQL may switch the prepared statement to a generic plan, which cannot hash the list
    and compares every row with every key (measured: 1.6 s instead of 10 ms per chunk on a
    30,000-user table). Only the lookups: re-planning every bulk insert would cost more than
    it saves. The setting is local to the transaction and restored afterwards.
    """
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    before = await session.scalar(text("SELECT current_setting('plan_cache_mode')"))
    await session.execute(_SET_PLAN_MODE, {"mode": "force_custom_plan"})
    try:
        yield
    finally:
        await session.execute(_SET_PLAN_MODE, {"mode": before})


_SET_PLAN_MODE = text("SELECT set_config('plan_cache_mode', :mode, true)")


def name_key(name: str) -> str:
    """How names of subjects and work types are matched: case and spacing do not matter."""
    return " ".join(name.split()).casefold().replace("ё", "е")
