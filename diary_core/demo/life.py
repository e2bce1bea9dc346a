"""School life around the journal: per-date timetable changes with their notifications,
conversations between parents and staff (answered, overdue, fresh, a question to the
administration), and announcements (school-wide, a class parent meeting, a timetable change).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from random import Random

from diary_core.demo import names
from diary_core.demo.bulk import Row, Writer
from diary_core.demo.calendar import LOCAL, days_before, local_dt
from diary_core.demo.conversations import Conversations
from diary_core.demo.journal import DayChange
from diary_core.demo.structure import Built
from diary_core.models import (
    Announcement,
    AnnouncementReceipt,
    Notification,
    TimetableChange,
)


@dataclass(frozen=True)
class _Notice:
    class_index: int | None  # None: the whole school
    kind: str
    title: str
    body: str
    by: int
    at: datetime
    until: datetime | None


@dataclass(frozen=True)
class Cast:
    """Who school life is about: the demo accounts in the demo school."""

    teacher: int  # teacher plan index: a subject teacher who leads no class
    focus_class: int  # class index (5А)
    parent: int  # users.id of a parent of ``child``
    child: int  # pupil plan index, in the focus class


@dataclass(frozen=True)
class PlannedChange:
    change: DayChange
    created_at: datetime


def _ordinal(n: int) -> str:
    return f"{n}-й урок"


def _short(b: Built, teacher: int) -> str:
    p = b.plan.teachers[teacher].person
    return f"{p.last_name} {p.first_name[0]}. {p.middle_name[0]}."


class Life:
    def __init__(self, w: Writer, b: Built, rng: Random, asof: datetime, cast: Cast) -> None:
        self.w, self.b, self.rng, self.asof, self.cast = w, b, rng, asof, cast
        self.plan = b.plan
        self.today = asof.astimezone(LOCAL).date()
        self.counts = {"messages": 0, "announcements": 0, "notifications": 0}

    # ------------------------------------------------------------ timetable changes

    def _school_days(self, first: date, last: date) -> list[date]:
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        return [d for d in days if self.plan.year.is_school_day(d, 5)]

    def _free_teacher(self, ci: int, weekday: int, number: int, busy_teacher: int) -> int:
        busy = {(s.teacher, s.weekday, s.number) for week in self.plan.weeks for s in week}
        spec = self.plan.teachers[busy_teacher].specialty
        free = [
            t
            for t in range(len(self.plan.teachers))
            if t != busy_teacher and (t, weekday, number) not in busy
        ]
        same = [t for t in free if self.plan.teachers[t].specialty == spec]
        return (same or free or [busy_teacher])[0]

    def plan_changes(self) -> list[PlannedChange]:
        """Three changes in the last weeks and up to three for the coming school days; the
        demo class gets a substitution in the past and a cancellation ahead."""
        past = self._school_days(self.today - timedelta(days=21), self.today - timedelta(days=1))
        ahead = self._school_days(
            self.today + timedelta(days=1),
            min(self.plan.year.ends_on, self.today + timedelta(days=10)),
        )
        senior = [i for i, c in enumerate(self.plan.classes) if c.grade >= 2]
        other = [i for i in senior if i != self.cast.focus_class] or senior
        wanted: list[tuple[int, list[date], int, str]] = [
            (self.cast.focus_class, past, 0, "substitution"),
            (self.rng.choice(other), past, len(past) // 2, "cancellation"),
            (self.rng.choice(other), past, len(past) - 1, "room_change"),
            (self.cast.focus_class, ahead, 0, "cancellation"),
            (self.rng.choice(other), ahead, 0, "room_change"),
            (self.rng.choice(other), ahead, 1, "substitution"),
        ]
        planned: list[PlannedChange] = []
        taken: set[tuple[int, date, int]] = set()
        for ci, days, index, kind in wanted:
            if not days or index >= len(days):
                continue
            change = self._change(ci, days[index], kind, taken)
            if change is None:
                continue
            ahead_of_us = change.day > self.today
            made = self.asof - timedelta(hours=3) if ahead_of_us else None
            made = made or local_dt(change.day - timedelta(days=1), time(16, 0))
            planned.append(PlannedChange(change, made))
        return planned

    def _change(
        self, ci: int, day: date, kind: str, taken: set[tuple[int, date, int]]
    ) -> DayChange | None:
        slots = [s for s in self.plan.weeks[ci] if s.weekday == day.isoweekday()]
        slots = [s for s in slots if (ci, day, s.number) not in taken]
        if not slots:
            return None
        slot = self.rng.choice(slots[1:] or slots)
        taken.add((ci, day, slot.number))
        if kind == "substitution":
            sub = self._free_teacher(ci, slot.weekday, slot.number, slot.teacher)
            return DayChange(ci, day, slot.number, kind, substitute=sub)
        if kind == "room_change":
            return DayChange(ci, day, slot.number, kind, room="актовый зал")
        return DayChange(ci, day, slot.number, kind)

    async def write_changes(self, planned: list[PlannedChange]) -> None:
        b = self.b
        rows: list[Row] = []
        notes: list[Row] = []
        for item in planned:
            c = item.change
            slot = next(
                s
                for s in self.plan.weeks[c.class_index]
                if s.weekday == c.day.isoweekday() and s.number == c.number
            )
            text = self._change_text(c, slot.subject)
            rows.append(
                {
                    "school_id": b.school_id,
                    "class_id": b.class_ids[c.class_index],
                    "date": c.day,
                    "lesson_number": c.number,
                    "kind": c.kind,
                    "subject_id": b.subjects[slot.subject],
                    "teacher_id": b.teacher_ids[c.substitute] if c.substitute is not None else None,
                    "room": c.room,
                    "moved_to_date": None,
                    "moved_to_lesson": None,
                    "note": text,
                    "created_at": item.created_at,
                    "created_by_id": b.deputy_id,
                    "updated_at": item.created_at,
                    "updated_by_id": b.deputy_id,
                }
            )
            notes += self._class_notifications(
                c.class_index, "timetable_change", text, item.created_at
            )
        await self.w.insert(TimetableChange, rows)
        await self._notify(notes)

    def _change_text(self, c: DayChange, subject: str) -> str:
        cls = self.plan.classes[c.class_index].name
        head = f"Изменение в расписании {cls} класса на {c.day:%d.%m.%Y}: {_ordinal(c.number)}"
        if c.kind == "cancellation":
            return f"{head} ({subject}) отменён."
        if c.kind == "substitution":
            assert c.substitute is not None
            return f"{head} ({subject}) проведёт {_short(self.b, c.substitute)} (замена)."
        return f"{head} ({subject}) пройдёт в другом помещении: {c.room}."

    def _class_notifications(self, ci: int, kind: str, text: str, at: datetime) -> list[Row]:
        """The pupils of the class and their confirmed parents (docs/regulation.md, clause 4.1)."""
        rows = []
        read = at + timedelta(hours=5)
        for p in self.plan.classes[ci].pupils:
            targets: list[tuple[int, int | None]] = [(self.b.pupil_user_ids[p], None)]
            targets += [(parent, self.b.pupil_ids[p]) for parent in self.b.parents_of.get(p, [])]
            for user_id, pupil_id in targets:
                seen = read <= self.asof and self.rng.random() < 0.7
                rows.append(
                    {
                        "user_id": user_id,
                        "kind": kind,
                        "text": text,
                        "pupil_id": pupil_id,
                        "created_at": at,
                        "read_at": read if seen else None,
                    }
                )
        return rows

    async def _notify(self, rows: list[Row]) -> None:
        await self.w.insert(Notification, rows)
        self.counts["notifications"] += len(rows)

    # ------------------------------------------------------------ conversations

    async def write_conversations(self) -> None:
        """The school's conversations (:class:`~diary_core.demo.conversations.Conversations`)."""
        await Conversations(self.w, self.b, self.rng, self.asof, self.cast, self.counts).write()

    # ------------------------------------------------------------ announcements

    async def write_announcements(self, planned: list[PlannedChange]) -> None:
        """Two school-wide announcements (holidays, signing in through Gosuslugi), a parent
        meeting of the demo class, and the coming timetable change of a class."""
        b, year = self.b, self.plan.year
        y = year.start_year
        items = [
            _Notice(None, "general", names.HOLIDAYS_TITLE.format(year=year.name),
                    names.HOLIDAYS_TEXT.format(y=y, n=y + 1), b.director_id,
                    local_dt(year.starts_on, time(9, 0)), local_dt(year.ends_on, time(23, 0))),
            _Notice(None, "general", names.ESIA_TITLE, names.ESIA_TEXT, b.deputy_id,
                    local_dt(year.starts_on + timedelta(days=9), time(10, 0)), None),
            self._meeting(),
        ]  # fmt: skip
        ahead = [p for p in planned if p.change.day > self.today]
        if ahead:
            c = ahead[0].change
            title = f"Изменение расписания {self.plan.classes[c.class_index].name} на {c.day:%d.%m}"
            text = self._change_text(c, self._subject_at(c))
            until = local_dt(c.day, time(23, 0))
            items.append(
                _Notice(c.class_index, "timetable_change", title, text, b.deputy_id,
                        ahead[0].created_at, until)
            )  # fmt: skip
        items = [i for i in items if i.at <= self.asof]
        ids = await self.w.take(Announcement, len(items))
        rows = [
            {
                "id": aid,
                "school_id": b.school_id,
                "class_id": b.class_ids[n.class_index] if n.class_index is not None else None,
                "audience": "class" if n.class_index is not None else "school",
                "kind": n.kind,
                "title": n.title,
                "body": n.body,
                "created_by_id": n.by,
                "created_at": n.at,
                "expires_at": n.until,
            }
            for aid, n in zip(ids, items, strict=True)
        ]
        await self.w.insert(Announcement, rows)
        self.counts["announcements"] += len(rows)
        await self._receipts(rows, items)

    def _subject_at(self, c: DayChange) -> str:
        return next(
            s.subject
            for s in self.plan.weeks[c.class_index]
            if s.weekday == c.day.isoweekday() and s.number == c.number
        )

    def _meeting(self) -> _Notice:
        """A parent meeting of the demo class on a Thursday at least three days ahead."""
        ci = self.cast.focus_class
        day = self.today + timedelta(days=(3 - self.today.weekday()) % 7 or 7)
        if day - self.today < timedelta(days=3):
            day += timedelta(days=7)
        cls = self.plan.classes[ci]
        text = names.MEETING_TEXT.format(day=f"{day:%d.%m.%Y}", room=cls.room, cls=cls.name)
        created = min(self.asof, days_before(self.asof, 2, time(16, 0)))
        title = names.MEETING_TITLE.format(cls=cls.name)
        until = local_dt(day, time(21, 0))
        return _Notice(
            ci, "parent_meeting", title, text, self.b.class_teacher_ids[ci], created, until
        )

    async def _receipts(self, rows: list[Row], items: list[_Notice]) -> None:
        """Read receipts: most parents of the class read a class announcement within a day,
        a score of parents the school-wide ones. A meeting also notifies the class's parents."""
        receipts: list[Row] = []
        notes: list[Row] = []
        for row, item in zip(rows, items, strict=True):
            everyone = range(len(self.plan.classes))
            classes = everyone if item.class_index is None else [item.class_index]
            readers = self._parents_of_classes(classes)
            if item.class_index is None:
                readers = readers[:20]
            elif item.kind == "parent_meeting":
                notes += [
                    n
                    for n in self._class_notifications(
                        item.class_index, "meeting", item.title, item.at
                    )
                    if n["pupil_id"] is not None
                ]
            for user in readers:
                read = item.at + timedelta(minutes=self.rng.randrange(20, 1440))
                if read <= self.asof and self.rng.random() < 0.75:
                    receipts.append(
                        {"announcement_id": row["id"], "user_id": user, "read_at": read}
                    )
        await self.w.insert(AnnouncementReceipt, receipts)
        await self._notify(notes)

    def _parents_of_classes(self, classes: Iterable[int]) -> list[int]:
        seen: dict[int, None] = {}
        for ci in classes:
            for p in self.plan.classes[ci].pupils:
                for parent in self.b.parents_of.get(p, []):
                    seen[parent] = None
        return list(seen)
