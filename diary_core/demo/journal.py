"""The class journal of a generated year: lessons with topics and homework, marks, attendance
and period marks, each mark, attendance record and period mark with its change-log entry.

Generated day by day across the whole school, so ids and the change log follow the calendar.
Marks and attendance exist only for lessons that have ended by the "as of" moment, only for
the pupils of the lesson's class, and only from the lesson's own teacher (a substituted lesson
gets none: the substitute has no assignment there). First grade is marked without marks, as
Russian schools do; PE in grades 2–4 is pass/fail.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from random import Random
from types import SimpleNamespace
from typing import Any, cast

from diary_core.changes import attendance_snapshot, change_row, mark_snapshot
from diary_core.demo import names
from diary_core.demo.bulk import CHUNK, Row, Writer
from diary_core.demo.calendar import LOCAL, clamp, local_dt
from diary_core.demo.period_marks import Grades, Passes, PeriodMarks
from diary_core.demo.structure import Built
from diary_core.demo.timetable import Slot
from diary_core.models import Attendance, ChangeLogEntry, Lesson, Mark
from diary_core.school import DEFAULT_BELLS

ANSWER, HOMEWORK = "Ответ на уроке", "Домашняя работа"
ILLNESS_START = 0.006  # chance a healthy pupil falls ill on a school day
SKIP_RATE = 0.004  # per pupil and lesson: absent without illness (н)
LATE_FIRST, LATE_OTHER = 0.015, 0.002  # per pupil: late (оп) to the first / a later lesson
MARK_SHARE = 0.1  # marks per pupil in an ordinary lesson (a class of 12 gets one or two)
ASKED_AT_MOST = 15  # a big class is not asked more often than a class of 15
WEEKS = 33


@dataclass(frozen=True)
class DayChange:
    """A per-date timetable change the journal must honour."""

    class_index: int
    day: date
    number: int
    kind: str  # substitution | cancellation | room_change
    substitute: int | None = None  # teacher plan index
    room: str = ""


@dataclass
class _Lesson:
    ci: int
    day: date
    slot: Slot
    teacher_id: int
    test_work_type: str | None
    substituted: bool
    id: int = 0


def _test_every(hours: int) -> int:
    """A check lesson every few weeks: every 14th lesson of a 5-hour subject, every 6th of a
    1-hour one."""
    return max(6, 2 * hours + 4)


class Journal:
    """Writes one school's journal up to ``asof`` (the caller commits)."""

    def __init__(
        self,
        w: Writer,
        b: Built,
        rng: Random,
        asof: datetime,
        changes: dict[tuple[int, date, int], DayChange],
        *,
        lock_after: timedelta | None = None,
    ) -> None:
        self.w, self.b, self.rng, self.asof = w, b, rng, asof
        self.today = asof.astimezone(LOCAL).date()
        self.changes = changes
        self.lock_after = lock_after
        self.plan = b.plan
        self.marks: list[Row] = []
        self.attendance: list[Row] = []
        self.grades: Grades = {}
        self.passes: Passes = {}
        self.queues: dict[tuple[int, str], list[int]] = {}
        self.ill: dict[int, int] = {}
        self.hours = [{c.subject: c.hours for c in courses} for courses in self.plan.courses]

    # ------------------------------------------------------------ lessons

    def _days(self) -> list[date]:
        year = self.plan.year
        last = min(self.today, year.ends_on)
        return [year.starts_on + timedelta(days=i) for i in range((last - year.starts_on).days + 1)]

    def _lessons(self) -> tuple[list[_Lesson], list[Row]]:
        plan = self.plan
        by_day: list[defaultdict[int, list[Slot]]] = [defaultdict(list) for _ in plan.classes]
        for ci, week in enumerate(plan.weeks):
            for s in week:
                by_day[ci][s.weekday].append(s)
        counter: dict[tuple[int, str], int] = defaultdict(int)
        lessons: list[_Lesson] = []
        rows: list[Row] = []
        for day in self._days():
            for ci, cls in enumerate(plan.classes):
                if not plan.year.is_school_day(day, cls.grade):
                    continue
                for slot in by_day[ci][day.isoweekday()]:
                    change = self.changes.get((ci, day, slot.number))
                    if change and change.kind == "cancellation":
                        continue
                    k = counter[(ci, slot.subject)]
                    counter[(ci, slot.subject)] += 1
                    lesson, row = self._lesson(ci, cls.grade, day, slot, k, change)
                    lessons.append(lesson)
                    rows.append(row)
        return lessons, rows

    def _lesson(
        self, ci: int, grade: int, day: date, slot: Slot, k: int, change: DayChange | None
    ) -> tuple[_Lesson, Row]:
        b = self.b
        hours = self.hours[ci][slot.subject]
        topics = names.topics_for(slot.subject, grade)
        topic = topics[min(k * len(topics) // (hours * WEEKS), len(topics) - 1)]
        test = grade >= 2 and (k + 1) % _test_every(hours) == 0
        work_type = None
        homework = ""
        if test:
            work_type = names.TEST_WORK_TYPE.get(slot.subject, names.DEFAULT_TEST_WORK_TYPE)
            topic = names.test_topic(slot.subject, work_type, topic)
        elif grade >= 2:
            homework = names.homework_text(slot.subject, k, self.rng.randrange(1000))
        substituted = change is not None and change.kind == "substitution"
        teacher = b.teacher_ids[slot.teacher]
        if substituted:
            assert change is not None and change.substitute is not None
            teacher = b.teacher_ids[change.substitute]
        at = clamp(local_dt(day, DEFAULT_BELLS[slot.number - 1][0]), self.asof)
        row = {
            "school_id": b.school_id,
            "class_id": b.class_ids[ci],
            "subject_id": b.subjects[slot.subject],
            "teacher_id": teacher,
            "date": day,
            "lesson_number": slot.number,
            "topic": topic,
            "homework": homework,
            "created_at": at,
            "created_by_id": teacher,
            "updated_at": at,
            "updated_by_id": teacher,
        }
        return _Lesson(ci, day, slot, teacher, work_type, substituted), row

    # ------------------------------------------------------------ the year

    async def run(self) -> None:
        lessons, rows = self._lessons()
        ids = await self.w.take(Lesson, len(rows))
        for lesson, row, lid in zip(lessons, rows, ids, strict=True):
            lesson.id = row["id"] = lid
        await self.w.insert(Lesson, rows)
        del rows
        day: date | None = None
        ill_today: set[int] = set()
        for lesson in lessons:
            if lesson.day != day:
                day = lesson.day
                ill_today = self._illness(day)
                await asyncio.sleep(0)  # let the writer feed the database meanwhile
            end = local_dt(lesson.day, DEFAULT_BELLS[lesson.slot.number - 1][1])
            if end > self.asof or lesson.substituted:
                continue
            absent = self._attendance(lesson, ill_today, end)
            if self.plan.classes[lesson.ci].grade >= 2:
                self._marks(lesson, absent, end)
            if len(self.marks) >= CHUNK:
                await self._flush_marks()
            if len(self.attendance) >= CHUNK:
                await self._flush_attendance()
        await self._flush_marks()
        await self._flush_attendance()
        await PeriodMarks(
            self.w, self.b, self.asof, self.grades, self.passes, lock_after=self.lock_after
        ).run()

    # ------------------------------------------------------------ attendance

    def _illness(self, day: date) -> set[int]:
        """Who is ill today: an illness lasts two to six school days."""
        ill: set[int] = set()
        for cls in self.plan.classes:
            if not self.plan.year.is_school_day(day, cls.grade):
                continue
            for p in cls.pupils:
                left = self.ill.get(p, 0)
                if left > 0:
                    self.ill[p] = left - 1
                    ill.add(p)
                elif self.rng.random() < ILLNESS_START:
                    self.ill[p] = self.rng.randint(1, 5)
                    ill.add(p)
        return ill

    def _attendance(self, lesson: _Lesson, ill: set[int], end: datetime) -> set[int]:
        pupils = self.plan.classes[lesson.ci].pupils
        absent = {p for p in pupils if p in ill}
        marks = [(p, "б") for p in pupils if p in absent]
        rng, n = self.rng, len(pupils)
        if rng.random() < n * SKIP_RATE:
            p = rng.choice(pupils)
            if p not in absent:
                absent.add(p)
                marks.append((p, "н"))
        late = LATE_FIRST if lesson.slot.number == 1 else LATE_OTHER
        if rng.random() < n * late:
            p = rng.choice(pupils)
            if p not in absent:
                marks.append((p, "оп"))
        at = clamp(end - timedelta(minutes=30), self.asof)
        for p, kind in marks:
            self.attendance.append(self._attendance_row(lesson, p, kind, at))
        return absent

    def _attendance_row(self, lesson: _Lesson, p: int, kind: str, at: datetime) -> Row:
        b = self.b
        return {
            "school_id": b.school_id,
            "pupil_id": b.pupil_ids[p],
            "lesson_id": lesson.id,
            "subject_id": b.subjects[lesson.slot.subject],
            "date": lesson.day,
            "lesson_number": lesson.slot.number,
            "kind": kind,
            "created_at": at,
            "created_by_id": lesson.teacher_id,
            "updated_at": at,
            "updated_by_id": lesson.teacher_id,
        }

    # ------------------------------------------------------------ marks

    def _next_pupils(self, ci: int, subject: str, eligible: set[int], count: int) -> list[int]:
        """The teacher asks round the class: the pupils asked least recently come first."""
        queue = self.queues.get((ci, subject))
        if queue is None:
            queue = list(self.plan.classes[ci].pupils)
            self.rng.shuffle(queue)
            self.queues[(ci, subject)] = queue
        chosen: list[int] = []
        for p in list(queue):
            if len(chosen) == count:
                break
            if p in eligible:
                chosen.append(p)
                queue.remove(p)
                queue.append(p)
        return chosen

    def _marks(self, lesson: _Lesson, absent: set[int], end: datetime) -> None:
        subject = lesson.slot.subject
        grade = self.plan.classes[lesson.ci].grade
        pupils = self.plan.pupils
        eligible = {
            p
            for p in self.plan.classes[lesson.ci].pupils
            if p not in absent and not (subject == names.PE and pupils[p].pe_exempt)
        }
        if lesson.test_work_type:
            chosen = sorted(eligible)
            work_type = lesson.test_work_type
        else:
            n = len(self.plan.classes[lesson.ci].pupils)
            count = int(MARK_SHARE * min(n, ASKED_AT_MOST) + self.rng.random())
            chosen = self._next_pupils(lesson.ci, subject, eligible, count)
            homework = any(names.HOMEWORK[subject])
            work_type = HOMEWORK if homework and self.rng.random() < 0.4 else ANSWER
        quarter = self.plan.year.quarter_of(lesson.day)
        pass_fail = names.pass_fail(subject, grade)
        for p in chosen:
            value, numeric = self._value(p, pass_fail, lesson.test_work_type is not None)
            at = clamp(end + timedelta(minutes=self.rng.randrange(5, 240)), self.asof)
            self.marks.append(self._mark_row(lesson, p, value, numeric, work_type, at))
            if quarter is None:
                continue
            if pass_fail:
                self.passes.setdefault((p, subject), [[], [], [], []])[quarter].append(value)
            else:
                weight = self.b.work_types[work_type][1]
                entry = (numeric, weight, True)
                self.grades.setdefault((p, subject), [[], [], [], []])[quarter].append(entry)

    def _value(self, p: int, pass_fail: bool, test: bool) -> tuple[str, int | None]:
        if pass_fail:
            return ("незач" if self.rng.random() < 0.03 else "зач"), None
        level = self.plan.pupils[p].level - (0.2 if test else 0.0)
        numeric = min(5, max(2, int(self.rng.gauss(level, 0.75) + 0.5)))
        return str(numeric), numeric

    def _mark_row(
        self,
        lesson: _Lesson,
        p: int,
        value: str,
        numeric: int | None,
        work_type: str,
        at: datetime,
    ) -> Row:
        b = self.b
        wt_id, weight = b.work_types[work_type]
        return {
            "school_id": b.school_id,
            "pupil_id": b.pupil_ids[p],
            "subject_id": b.subjects[lesson.slot.subject],
            "lesson_id": lesson.id,
            "date": lesson.day,
            "value": value,
            "numeric": numeric,
            "work_type_id": wt_id,
            "weight": weight,
            "counts": True,
            "comment": "",
            "created_at": at,
            "created_by_id": lesson.teacher_id,
            "updated_at": at,
            "updated_by_id": lesson.teacher_id,
        }

    # ------------------------------------------------------------ writing

    async def _write_logged(self, table: Any, rows: list[Row], entity: str, snapshot: Any) -> None:
        """Rows with reserved ids, then their change-log 'create' entries, by their author
        (a queued job: it runs on the writer's consumer)."""
        if not rows:
            return
        ids = await self.w.ids.take(table, len(rows))
        for row, rid in zip(rows, ids, strict=True):
            row["id"] = rid
        await self.w.write(table, rows)
        log = [
            change_row(
                school_id=row["school_id"],
                pupil_id=row["pupil_id"],
                entity=entity,
                entity_id=row["id"],
                action="create",
                old=None,
                new=snapshot(SimpleNamespace(**row)),
                actor_id=row["created_by_id"],
                at=row["created_at"],
            )
            for row in rows
        ]
        await self.w.write(ChangeLogEntry, log)

    async def _flush_marks(self) -> None:
        rows, self.marks = self.marks, []
        if rows:
            snapshot = _snap(mark_snapshot)
            await self.w.submit(lambda: self._write_logged(Mark, rows, "mark", snapshot))

    async def _flush_attendance(self) -> None:
        rows, self.attendance = self.attendance, []
        if rows:
            snapshot = _snap(attendance_snapshot)
            await self.w.submit(
                lambda: self._write_logged(Attendance, rows, "attendance", snapshot)
            )


def _snap(fn: Any) -> Any:
    """The change module's snapshot function applied to a plain row (no ORM object per row)."""

    def snapshot(row: SimpleNamespace) -> dict[str, Any]:
        return cast(dict[str, Any], fn(row))

    return snapshot
