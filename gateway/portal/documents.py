"""The portal's documents as JSON: the payload of the JWS, and the unsigned representation.

The XML documents (:mod:`gateway.portal.xml`) carry exactly the same data in the same order.
Every document states its issuer, when it was issued and the moment its data is as of.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from diary_core import records
from diary_core.progress.summary import subject_marks

if TYPE_CHECKING:  # plain data in, JSON out: no database code is needed to render
    from diary_core.progress.changes import Change, ChangesPage
    from diary_core.progress.model import GradingPeriod as PeriodInfo
    from diary_core.progress.model import PeriodMarkEntry, ProgressMark, PupilInfo, SchoolInfo
    from diary_core.progress.model import ProgressAbsence as AttendanceEntry
    from diary_core.progress.rows import PupilRows

Json = dict[str, Any]
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Meta:
    """Who issued a document and when; ``as_of`` is when its data was read."""

    issuer: str
    issued_at: datetime
    as_of: datetime


def timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dumps(doc: Json) -> bytes:
    """The canonical bytes of a JSON document: UTF-8, no insignificant whitespace, members
    in the order built. (orjson: the same bytes as ``json.dumps(doc, ensure_ascii=False,
    separators=(",", ":")).encode()``, a test holds it to that, at a tenth of the cost.)"""
    return orjson.dumps(doc)


def _header(kind: str, meta: Meta) -> Json:
    return {
        "type": kind,
        "version": 1,
        "issuer": meta.issuer,
        "issuedAt": timestamp(meta.issued_at),
        "asOf": timestamp(meta.as_of),
    }


def school_json(s: SchoolInfo) -> Json:
    return {"id": s.id, "name": s.name}


def pupil_json(p: PupilInfo, *, with_school: bool = False) -> Json:
    doc: Json = {
        "snils": p.snils,
        "lastName": p.last_name,
        "firstName": p.first_name,
        "middleName": p.middle_name,
        "class": p.class_name,
    }
    if with_school:
        doc["school"] = school_json(p.school)
    return doc


#: The published names of a record's fields, in the published order: (name, the core's name).
#: The values are the core's (:mod:`diary_core.records`); names the core has not (a subject's
#: or work type's name) are the read view's.
_MARK_NAMES = (
    ("id", "id"),
    ("date", "date"),
    ("subjectId", "subject_id"),
    ("subject", "subject"),
    ("workType", "work_type"),
    ("weight", "weight"),
    ("value", "value"),
    ("numeric", "numeric"),
    ("countsInAverage", "counts"),
)
_ABSENCE_NAMES = (
    ("id", "id"),
    ("date", "date"),
    ("lessonNumber", "lesson_number"),
    ("subjectId", "subject_id"),
    ("subject", "subject"),
    ("kind", "kind"),
)
_PERIOD_MARK_NAMES = (
    ("id", "id"),
    ("period", "period"),
    ("subjectId", "subject_id"),
    ("subject", "subject"),
    ("value", "value"),
    ("numeric", "numeric"),
)


def _published(fields: Json, names: tuple[tuple[str, str], ...]) -> Json:
    return {name: fields[key] for name, key in names}


def mark_json(m: ProgressMark) -> Json:
    """A mark with its subject (the changes feed; a progress document's marks are in their
    subject: :func:`progress_json`)."""
    fields = {**records.mark_values(m), "subject": m.subject, "work_type": m.work_type}
    return _published(fields, _MARK_NAMES)


def absence_json(a: AttendanceEntry) -> Json:
    fields = {**records.attendance_values(a), "id": a.id, "subject": a.subject}
    return _published(fields, _ABSENCE_NAMES)


def period_json(p: PeriodInfo) -> Json:
    return {
        "id": p.id,
        "kind": p.kind,
        "number": p.number,
        "name": p.name,
        "from": p.starts_on.isoformat(),
        "to": p.ends_on.isoformat(),
    }


def period_mark_json(pm: PeriodMarkEntry) -> Json:
    fields = {
        **records.period_mark_values(pm),
        "period": period_json(pm.period),
        "subject": pm.subject,
    }
    return _published(fields, _PERIOD_MARK_NAMES)


def _subjects(marks: Sequence[Row]) -> list[Json]:
    return [
        {
            "id": average.subject_id,
            "name": average.subject,
            "average": None if average.average is None else str(average.average),
            "marks": [
                {
                    "id": mark_id,
                    "date": day.isoformat(),
                    "workType": work_type,
                    "weight": weight,
                    "value": value,
                    "numeric": numeric,
                    "countsInAverage": counts,
                }
                for _, mark_id, day, _, _, work_type, weight, value, numeric, counts in rows
            ],
        }
        for average, rows in subject_marks(marks)
    ]


def _period_marks(rows: Sequence[Row]) -> list[Json]:
    periods: dict[int, Json] = {}  # one object per period: orjson writes it where it is used
    out = []
    for (_, mark_id, period_id, kind, number, name, starts_on, ends_on,
         subject_id, subject, value, numeric) in rows:  # fmt: skip
        period = periods.get(period_id)
        if period is None:
            period = periods[period_id] = {
                "id": period_id,
                "kind": kind,
                "number": number,
                "name": name,
                "from": starts_on.isoformat(),
                "to": ends_on.isoformat(),
            }
        out.append({"id": mark_id, "period": period, "subjectId": subject_id,
                    "subject": subject, "value": value, "numeric": numeric})  # fmt: skip
    return out


def progress_json(p: PupilRows, meta: Meta) -> Json:
    """A pupil's progress for a range: marks by subject with averages, attendance, period
    marks of the periods overlapping the range.

    It is rendered from the rows the progress is read as (diary_core.progress.PupilRows),
    not from records of them: the marks of a year are a few hundred, and a record each
    cost as much again as the rendering. The changes feed renders the same objects from
    records (:func:`mark_json`, :func:`absence_json`, :func:`period_mark_json`); a test
    holds the two to the same output."""
    return {
        **_header("progress", meta),
        "range": {"from": p.start.isoformat(), "to": p.end.isoformat()},
        "school": school_json(p.pupil.school),
        "pupil": pupil_json(p.pupil),
        "subjects": _subjects(p.marks),
        "attendance": [
            {
                "id": absence_id,
                "date": day.isoformat(),
                "lessonNumber": lesson,
                "subjectId": subject_id,
                "subject": subject,
                "kind": kind,
            }
            for _, absence_id, day, lesson, subject_id, subject, kind in p.attendance
        ],
        "periodMarks": _period_marks(p.period_marks),
    }


def guardian_json(esia_oid: str, pupils: list[PupilInfo], meta: Meta) -> Json:
    """The confirmed children of a parent (those the client may see)."""
    return {
        **_header("guardianPupils", meta),
        "guardian": {"esiaOid": esia_oid},
        "pupils": [pupil_json(p, with_school=True) for p in pupils],
    }


def _change_state(c: Change) -> tuple[str, Json] | None:
    from diary_core.progress.model import PeriodMarkEntry, ProgressMark
    from diary_core.progress.model import ProgressAbsence as AttendanceEntry

    state = c.state
    if isinstance(state, ProgressMark):
        return "mark", mark_json(state)
    if isinstance(state, AttendanceEntry):
        return "absence", absence_json(state)
    if isinstance(state, PeriodMarkEntry):
        return "periodMark", period_mark_json(state)
    return None


def change_json(c: Change) -> Json:
    doc: Json = {
        "cursor": str(c.seq),
        "at": timestamp(c.at),
        "entity": c.entity,
        "id": c.entity_id,
        "action": c.action,
        "schoolId": c.school_id,
        "pupilSnils": c.pupil_snils,
    }
    state = _change_state(c)
    if state is not None:
        doc[state[0]] = state[1]
    return doc


def changes_json(page: ChangesPage, cursor: int, meta: Meta) -> Json:
    """One page of the changes feed; a deletion is a tombstone (no state)."""
    return {
        **_header("changes", meta),
        "cursor": str(cursor),
        "nextCursor": str(page.next_cursor),
        "hasMore": page.has_more,
        "changes": [change_json(c) for c in page.changes],
    }
