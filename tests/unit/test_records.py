"""One field mapping per record kind (diary_core.records): every view of a mark, an
attendance entry or a period mark gives the same values under the core's names."""

from __future__ import annotations

from datetime import UTC, date, datetime

from diary_core import api_views, records
from diary_core.changes import mark_snapshot
from diary_core.journal import MarkEntry
from diary_core.models import Attendance, Mark, PeriodMark
from diary_core.progress import model as progress
from gateway.api import serialize
from gateway.portal import documents

DAY = date(2025, 10, 1)
STORED = {
    "id": 7,
    "pupil_id": 3,
    "subject_id": 20,
    "lesson_id": 11,
    "date": DAY,
    "value": "4",
    "numeric": 4,
    "work_type_id": 2,
    "weight": 2,
    "counts": True,
    "comment": "у доски",
}


def test_a_stored_mark_and_the_values_written_for_it_map_alike() -> None:
    mark = Mark(**STORED)
    assert records.mark_record(mark) == records.mark_record(STORED)
    assert list(records.mark_record(mark)) == list(records.MARK_FIELDS)
    assert records.mark_record(mark)["date"] == "2025-10-01"
    assert mark_snapshot(mark) == mark_snapshot(STORED)


def test_every_view_of_a_mark_has_the_same_values() -> None:
    entry = MarkEntry(7, 20, DAY, "4", 4, 2, True, "Ответ на уроке", "у доски", 11, "Дроби")
    portal = progress.ProgressMark(7, DAY, 20, "Математика", "Ответ на уроке", 2, "4", 4, True)
    stored = Mark(**STORED)
    assert records.mark_values(entry) == records.mark_values(portal) == records.mark_values(stored)


def test_the_surfaces_rename_the_core_values() -> None:
    stored = Mark(**STORED, created_at=datetime(2025, 10, 1, 9, tzinfo=UTC))
    api = serialize.mark(stored)
    assert {k: api[k] for k in records.MARK_FIELDS} == records.mark_record(stored)
    portal = progress.ProgressMark(7, DAY, 20, "Математика", "Ответ на уроке", 2, "4", 4, True)
    assert documents.mark_json(portal) == {
        "id": 7,
        "date": "2025-10-01",
        "subjectId": 20,
        "subject": "Математика",
        "workType": "Ответ на уроке",
        "weight": 2,
        "value": "4",
        "numeric": 4,
        "countsInAverage": True,
    }


def test_every_view_of_an_attendance_entry_has_the_same_values() -> None:
    stored = Attendance(
        id=5, pupil_id=3, subject_id=20, lesson_id=11, date=DAY, lesson_number=2, kind="н"
    )
    api = api_views.LessonAbsence(DAY, 2, 20, "Математика", "н")
    portal = progress.ProgressAbsence(5, DAY, 2, 20, "Математика", "н")
    assert (
        records.attendance_values(stored)
        == records.attendance_values(api)
        == records.attendance_values(portal)
    )
    assert records.attendance_record(stored)["id"] == 5


def test_a_period_mark_record_says_whether_it_is_signed_off() -> None:
    open_mark = PeriodMark(id=1, pupil_id=3, subject_id=20, period_id=4, value="5", numeric=5)
    assert records.period_mark_record(open_mark)["locked"] is False
    open_mark.locked_at = datetime(2025, 10, 30, tzinfo=UTC)
    assert records.period_mark_record(open_mark)["locked"] is True
    assert records.period_mark_values(open_mark) == {
        "id": 1,
        "subject_id": 20,
        "value": "5",
        "numeric": 5,
    }
