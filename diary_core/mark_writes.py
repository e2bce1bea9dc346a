"""The one write path for marks: the checks of a mark's fields, and :class:`MarkWrites`, which
creates, corrects and deletes marks in the caller's transaction, each change with its
change-log entry, and tells the families at the end.

A mark saved in the journal (the gradebook, the API) and the marks of an import take the same
checks and the same statements: a save is a batch of one. What differs is how a family is
told: a save tells each change as it happens (:func:`diary_core.mark_notices.tell_each`), an
import sends each family account one digest of all its changes
(:func:`diary_core.mark_notices.tell_digests`), when the batch is finished.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, update

from diary_core import audit, mark_notices
from diary_core.changes import change_row, mark_snapshot
from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from diary_core.journal_writes import actor_id
from diary_core.mark_notices import Told
from diary_core.models import ChangeLogEntry, Mark
from diary_core.text import clean_text

MAX_COMMENT = 500
MAX_WEIGHT = 10

MARKS = cast(Table, Mark.__table__)
CHANGES = cast(Table, ChangeLogEntry.__table__)

#: The fields a correction may change.
CORRECTABLE = ("value", "numeric", "weight", "counts", "comment", "lesson_id")

_CORRECT = (
    update(MARKS)
    .where(MARKS.c.id == bindparam("b_id"))
    .values(
        {name: bindparam(name) for name in CORRECTABLE}
        | {"updated_at": bindparam("updated_at"), "updated_by_id": bindparam("updated_by_id")}
    )
)
_CREATE = insert(MARKS).returning(MARKS.c.id, sort_by_parameter_order=True)


# --- the checks of a mark's fields (each raises InvalidInput naming its field) --------------


def checked_weight(raw: int | None, default: int) -> int:
    """The mark's weight: ``raw``, or the work type's ``default`` when none is given."""
    weight = default if raw is None else raw
    if not 1 <= weight <= MAX_WEIGHT:
        raise InvalidInput(f"вес отметки должен быть от 1 до {MAX_WEIGHT}", field="weight")
    return weight


def checked_comment(text: str) -> str:
    text = clean_text(text or "", "comment", "Комментарий").strip()
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"комментарий длиннее {MAX_COMMENT} символов", field="comment")
    return text


def check_day(day: date, today: date, year: tuple[date, date] | None, year_name: str = "") -> None:
    """A mark's date lies in the academic year (``None``: in none of the school's years) and
    not in the future."""
    if year is None or not year[0] <= day <= year[1]:
        named = f" {year_name}" if year_name else ""
        raise InvalidInput(f"дата вне учебного года{named}", field="date")
    if day > today:
        raise InvalidInput("нельзя поставить отметку на будущую дату", field="date")


# --- writing -------------------------------------------------------------------------------


class MarkWrites:
    """Marks written in the caller's transaction: every create, correction and deletion with
    its change-log entry (``reason`` on each), the families told by :meth:`finish`.

    ``bulk`` (an import): each family account gets one digest of the batch's new and
    corrected marks, and the changes get no audit event each (the import records one). Else
    each change is told on its own and audited beside its change-log entry, as every single
    journal write is (:func:`diary_core.changes.log_change`)."""

    def __init__(self, ctx: Ctx, *, reason: str = "", bulk: bool = False) -> None:
        self.ctx = ctx
        self.reason = reason
        self.bulk = bulk
        self.now = ctx.now()
        self.who = actor_id(ctx)
        self._told: list[Told] = []

    def _change(
        self, stored: Mapping[str, Any], mark_id: int, action: str, old: Any, new: Any
    ) -> dict[str, Any]:
        return change_row(
            school_id=stored["school_id"],
            pupil_id=stored["pupil_id"],
            entity="mark",
            entity_id=mark_id,
            action=action,
            old=old,
            new=new,
            actor_id=self.who,
            at=self.now,
            reason=self.reason,
        )

    async def _log(self, changes: list[dict[str, Any]]) -> None:
        if not changes:
            return
        await self.ctx.session.execute(insert(CHANGES), changes)
        if not self.bulk:
            for change in changes:
                audit.record_change(self.ctx.session, **change)

    async def create(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """New marks (checked fields: school_id, pupil_id, subject_id, lesson_id, date, value,
        numeric, work_type_id, weight, counts, comment); their ids, in order."""
        if not rows:
            return []
        stamps = {
            "created_at": self.now,
            "created_by_id": self.who,
            "updated_at": self.now,
            "updated_by_id": self.who,
        }
        values = [{**row, **stamps} for row in rows]
        ids = list((await self.ctx.session.execute(_CREATE, values)).scalars().all())
        await self._log(
            [
                self._change(row, mark_id, "create", None, mark_snapshot(row))
                for row, mark_id in zip(values, ids, strict=True)
            ]
        )
        self._told.extend(Told.of(row, None) for row in values)
        return ids

    async def correct(self, fixes: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> int:
        """Corrections: each a stored mark (its fields and school_id) and the fields to change
        (of :data:`CORRECTABLE`). A correction that changes nothing is left out. Returns how
        many marks changed."""
        params: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        for stored, fields in fixes:
            new = {**stored, **fields}
            old_snapshot, new_snapshot = mark_snapshot(stored), mark_snapshot(new)
            if new_snapshot == old_snapshot:
                continue
            params.append(
                {name: new[name] for name in CORRECTABLE}
                | {"b_id": stored["id"], "updated_at": self.now, "updated_by_id": self.who}
            )
            changes.append(self._change(stored, stored["id"], "update", old_snapshot, new_snapshot))
            self._told.append(Told.of(new, stored["value"]))
        if params:
            await self.ctx.session.execute(_CORRECT, params)
            await self._log(changes)
        return len(params)

    async def delete(self, stored: Mapping[str, Any]) -> None:
        """Remove a stored mark; the change log keeps a tombstone with its last value. (A
        family is not told of a deletion.)"""
        await self._log([self._change(stored, stored["id"], "delete", mark_snapshot(stored), None)])
        await self.ctx.session.execute(delete(MARKS).where(MARKS.c.id == stored["id"]))

    async def finish(self) -> int:
        """Tell the families of what was written since the last call; returns how many
        notifications were written."""
        told, self._told = self._told, []
        if self.bulk:
            return await mark_notices.tell_digests(self.ctx, told)
        return await mark_notices.tell_each(self.ctx, told)
