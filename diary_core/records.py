"""The canonical field mapping of each kind of journal record: a mark, an attendance entry,
a period mark. Plain values (a date as ISO 8601 text), named as the core names them.

Every surface renders a record from here: the change log's snapshots
(:mod:`diary_core.changes`), the JSON API, the portal's documents and changes feed. A surface
whose published format names a field otherwise (``subjectId``, ``countsInAverage``) maps the
name; the value comes from here.

A record is read from a model object or from any object or mapping with the same field names
(a row of a bulk read, the values of a bulk insert, a read view such as the journal's), so a
bulk writer and a single write map a record alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

Record = dict[str, Any]

#: What every view of a mark carries, whoever reads it.
MARK_VALUES = ("id", "subject_id", "date", "value", "numeric", "weight", "counts")
#: A mark as stored (without the who-and-when stamps).
MARK_FIELDS = (
    "id",
    "pupil_id",
    "subject_id",
    "lesson_id",
    "date",
    "value",
    "numeric",
    "work_type_id",
    "weight",
    "counts",
    "comment",
)
#: An attendance entry as stored.
ATTENDANCE_FIELDS = ("id", "pupil_id", "subject_id", "lesson_id", "date", "lesson_number", "kind")
#: What every view of an attendance entry carries.
ATTENDANCE_VALUES = ("date", "lesson_number", "subject_id", "kind")
#: What every view of a period mark carries.
PERIOD_MARK_VALUES = ("id", "subject_id", "value", "numeric")
#: A period mark as stored (``locked``: signed off).
PERIOD_MARK_FIELDS = ("id", "pupil_id", "subject_id", "period_id", "value", "numeric", "locked")


def _reader(source: object) -> Callable[[str], Any]:
    if isinstance(source, Mapping):
        return source.__getitem__
    return lambda name: getattr(source, name)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def pick(source: object, names: tuple[str, ...]) -> Record:
    """``names`` of ``source`` (an object's attributes or a mapping's keys), in that order,
    as plain values."""
    read = _reader(source)
    return {name: _plain(read(name)) for name in names}


def mark_values(mark: object) -> Record:
    """The fields every view of a mark has (the stored row, the journal's entry, the portal's
    mark): id, subject, date, value, its number, weight and whether it counts."""
    return pick(mark, MARK_VALUES)


def mark_record(mark: object) -> Record:
    """A stored mark's fields (:data:`MARK_FIELDS`)."""
    return pick(mark, MARK_FIELDS)


def attendance_values(entry: object) -> Record:
    """The fields every view of an attendance entry has: date, lesson number, subject, kind."""
    return pick(entry, ATTENDANCE_VALUES)


def attendance_record(entry: object) -> Record:
    """A stored attendance entry's fields (:data:`ATTENDANCE_FIELDS`)."""
    return pick(entry, ATTENDANCE_FIELDS)


def period_mark_values(mark: object) -> Record:
    """The fields every view of a period mark has: id, subject, value and its number."""
    return pick(mark, PERIOD_MARK_VALUES)


def period_mark_record(mark: object) -> Record:
    """A stored period mark's fields (:data:`PERIOD_MARK_FIELDS`); ``locked`` is whether it
    is signed off (read from ``locked_at`` of a stored row)."""
    read = _reader(mark)
    values = {name: read(name) for name in PERIOD_MARK_FIELDS if name != "locked"}
    return {**values, "locked": read("locked_at") is not None}
