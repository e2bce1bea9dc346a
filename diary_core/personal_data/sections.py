"""The body of a personal-data export: its sections in order, each read in bounded batches
(:func:`export_rows`), once :func:`~diary_core.personal_data.access.open_export` has decided
whose data it covers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from diary_core.personal_data import correspondence, records
from diary_core.personal_data.access import ExportScope

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
        async for rows in records.marks(ctx, pupil_ids, batch):
            yield "marks", rows
        async for rows in records.attendance(ctx, pupil_ids, batch):
            yield "attendance", rows
        async for rows in records.period_marks(ctx, pupil_ids, batch):
            yield "period_marks", rows
        async for rows in records.homework(ctx, class_ids, batch):
            yield "homework", rows
    async for rows in correspondence.messages(ctx, scope, batch):
        yield "messages", rows
    async for rows in correspondence.notifications(ctx, scope, batch):
        yield "notifications", rows
    async for rows in correspondence.announcements(ctx, scope, batch):
        yield "announcements", rows
