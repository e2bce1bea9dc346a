"""A progress document is rendered from the rows its progress is read as (PupilRows), not from
records of them; the changes feed renders marks, absences and period marks from the records.
The two must say the same: here the document from rows is held, byte for byte, to one built
from the records the way the changes feed builds each object, for every pupil and range of a
world with corrected, deleted, pass/fail and non-counting marks, two marks on one day and two
subjects of one name; the one-pupil statement's rows to the batch's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from diary_core.progress.model import (
    GradingPeriod,
    PeriodMarkEntry,
    Progress,
    ProgressAbsence,
    ProgressMark,
)
from diary_core.progress.reading import load_progress_batch, load_progress_rows, load_pupil_rows
from diary_core.progress.rows import ABSENCE_ROW, MARK_ROW, PERIOD_MARK_ROW
from diary_core.progress.summary import iter_pupil_rows, progress_of
from gateway.portal import documents
from tests.integration.core.test_progress_reads import RANGES, READER, _pupil_ids, records
from tests.support.world import World

__all__ = ["records"]  # the fixture, from the core's tests of these reads

META = documents.Meta(
    "https://diary.example",
    datetime(2025, 10, 15, 9, tzinfo=UTC),
    datetime(2025, 10, 15, 9, tzinfo=UTC),
)


def from_records(p: Progress) -> dict[str, Any]:
    """The document as the records give it: each object as the changes feed writes it."""
    subjects = []
    for a in p.averages:
        marks = []
        for m in p.marks:
            if m.subject_id == a.subject_id:
                mark = documents.mark_json(m)
                del mark["subjectId"], mark["subject"]  # the enclosing subject's
                marks.append(mark)
        assert len(marks) == a.marks
        average = None if a.average is None else str(a.average)
        subjects.append({"id": a.subject_id, "name": a.subject, "average": average, "marks": marks})
    return {
        "type": "progress",
        "version": 1,
        "issuer": META.issuer,
        "issuedAt": "2025-10-15T09:00:00Z",
        "asOf": "2025-10-15T09:00:00Z",
        "range": {"from": p.start.isoformat(), "to": p.end.isoformat()},
        "school": {"id": p.pupil.school.id, "name": p.pupil.school.name},
        "pupil": documents.pupil_json(p.pupil),
        "subjects": subjects,
        "attendance": [documents.absence_json(a) for a in p.attendance],
        "periodMarks": [documents.period_mark_json(pm) for pm in p.period_marks],
    }


def test_the_row_layouts_are_the_records_fields_after_the_pupil() -> None:
    assert MARK_ROW[0] == ABSENCE_ROW[0] == PERIOD_MARK_ROW[0] == "pupil_id"
    assert MARK_ROW[1:] == ProgressMark._fields
    assert ABSENCE_ROW[1:] == ProgressAbsence._fields
    period = tuple(f"period_{f}" if f in ("id", "kind", "number", "name") else f
                   for f in GradingPeriod._fields)  # fmt: skip
    marks_own = tuple(f for f in PeriodMarkEntry._fields if f != "period")
    assert PERIOD_MARK_ROW[1:] == (marks_own[0], *period, *marks_own[1:])


@pytest.mark.parametrize(("start", "end"), RANGES)
async def test_a_document_from_rows_is_the_document_from_records(
    records: World, start: date, end: date
) -> None:
    session = records.session
    ids = await _pupil_ids(session)
    batch = await load_progress_batch(session, READER, ids, start, end)
    rendered = 0
    for rows in iter_pupil_rows(await load_progress_rows(session, READER, ids, start, end)):
        one = await load_pupil_rows(session, READER, rows.pupil, start, end)
        assert [
            list(map(tuple, part)) for part in (one.marks, one.attendance, one.period_marks)
        ] == [list(part) for part in (rows.marks, rows.attendance, rows.period_marks)]
        assert progress_of(rows) == batch[rows.pupil.id]
        expected = documents.dumps(from_records(batch[rows.pupil.id]))
        assert documents.dumps(documents.progress_json(rows, META)) == expected
        assert documents.dumps(documents.progress_json(one, META)) == expected
        rendered += len(rows.marks) + len(rows.attendance) + len(rows.period_marks)
    if (start, end) == RANGES[0]:
        assert rendered == 12 + 5 + 6  # every row of the world's year (test_progress_reads)
