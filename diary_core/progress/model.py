"""The records a pupil's progress document is made of, and the range the portal may ask for.

The many small records (marks, absences, period marks, periods) are named tuples, cheap to
make by the hundred for every document; the change feed tells them apart by class.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from diary_core.errors import InvalidInput
from diary_core.policy import PupilPlace

MAX_RANGE_DAYS = 731


@dataclass(frozen=True)
class SchoolInfo:
    id: int
    name: str


@dataclass(frozen=True)
class PupilInfo:
    id: int
    snils: str | None  # a pupil may be enrolled before his SNILS is known
    last_name: str
    first_name: str
    middle_name: str
    class_id: int
    class_name: str
    school: SchoolInfo

    @property
    def place(self) -> PupilPlace:
        """Where he is, as the policy decides on it."""
        return PupilPlace(self.id, self.school.id, self.class_id)


class ProgressMark(NamedTuple):
    id: int
    date: date
    subject_id: int
    subject: str
    work_type: str
    weight: int
    value: str
    numeric: int | None
    counts: bool


class SubjectAverage(NamedTuple):
    subject_id: int
    subject: str
    average: Decimal | None
    marks: int


class ProgressAbsence(NamedTuple):
    """A lesson the pupil missed, was ill for or came late to (``kind``)."""

    id: int
    date: date
    lesson_number: int
    subject_id: int
    subject: str
    kind: str


class GradingPeriod(NamedTuple):
    """A quarter, half-year or the year: what a period mark is given for."""

    id: int
    kind: str
    number: int
    name: str
    starts_on: date
    ends_on: date


class PeriodMarkEntry(NamedTuple):
    id: int
    period: GradingPeriod
    subject_id: int
    subject: str
    value: str
    numeric: int | None


@dataclass(frozen=True)
class Progress:
    pupil: PupilInfo
    start: date
    end: date
    marks: tuple[ProgressMark, ...]
    averages: tuple[SubjectAverage, ...]
    attendance: tuple[ProgressAbsence, ...]
    period_marks: tuple[PeriodMarkEntry, ...]


def check_range(start: date, end: date) -> None:
    """A range the portal may ask for: ordered, and at most two years long."""
    if start > end:
        raise InvalidInput("дата начала периода позже даты окончания", field="from")
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise InvalidInput(f"период длиннее {MAX_RANGE_DAYS} дней", field="to")
