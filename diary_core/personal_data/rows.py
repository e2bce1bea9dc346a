"""What the sections of a personal-data export share: reading rows in batches by key, and
writing a name and a date the way every section writes them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select

from diary_core.context import Ctx


def full_name(*parts: str | None) -> str:
    """The parts of a name that are there (surname, first name, patronymic), spaced."""
    return " ".join(p for p in parts if p)


def iso(value: date | datetime | None) -> str | None:
    """A date or moment as ISO 8601, as the export's JSON holds it (None stays None)."""
    return value.isoformat() if value is not None else None


async def keyset(
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
