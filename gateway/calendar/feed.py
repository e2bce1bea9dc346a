"""The timetable as iCalendar (RFC 5545): what lessons a feed holds, and how they are written.

A feed covers :data:`WEEKS_BACK` weeks before the current one, the current week and
:data:`WEEKS_AHEAD` weeks after it, read through the core's timetable (published timetables
with their per-date changes applied) under the policy of the feed's owner:

- a lesson as it will be given is an event at its bell times, in the school's zone, the room
  as its LOCATION; a substitute teacher is named, a changed room shown as changed;
- a cancelled lesson stays in the calendar with ``STATUS:CANCELLED``;
- a moved lesson is one event at its new time (the UID of its original slot, so calendars
  move it rather than add a second one); while its new time lies beyond the feed's weeks it
  shows at its old time as cancelled, naming where it went;
- the lesson's topic and homework are in its DESCRIPTION.

An event's UID names the lesson slot and date and the reader (the pupil and the subscriber,
or the teacher), so it is the same in every render. Its SEQUENCE and DTSTAMP come from
:mod:`gateway.calendar.versions`: SEQUENCE grows by one whenever what the event says changes.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vDuration
from sqlalchemy import select

from diary_core import families, lessons, timetable
from diary_core.context import Ctx
from diary_core.models import SchoolClass, TimetableChange, TimetableSlot
from diary_core.models import Timetable as TimetableRow
from diary_core.policy import Actor, ClassTarget, PupilPlace
from diary_core.roles import Role
from diary_core.timetable import Cell, Slot

WEEKS_BACK = 4
WEEKS_AHEAD = 8
REFRESH = timedelta(hours=1)  # how often calendar apps are asked to poll (RFC 7986)
PRODID = "-//ediary-gateway//Электронный дневник//RU"
#: Part of every ETag: raise it when :func:`render` writes the same events differently.
FORMAT = "1"


@dataclass(frozen=True)
class Window:
    """The feed's days: Monday of :data:`WEEKS_BACK` weeks ago … Saturday of the last week."""

    mondays: tuple[date, ...]

    @classmethod
    def around(cls, today: date) -> Window:
        monday = today - timedelta(days=today.isoweekday() - 1)
        weeks = range(-WEEKS_BACK, WEEKS_AHEAD + 1)
        return cls(tuple(monday + timedelta(weeks=w) for w in weeks))

    @property
    def first(self) -> date:
        return self.mondays[0]

    @property
    def last(self) -> date:
        return self.mondays[-1] + timedelta(days=timetable.SCHOOL_DAYS - 1)


@dataclass(frozen=True)
class Lesson:
    """One event of a feed, before its revision is known."""

    uid: str
    day: date
    lesson_number: int
    starts: time | None  # None: the school has no bell times (an all-day event)
    ends: time | None
    summary: str
    location: str
    description: str
    cancelled: bool

    def fingerprint(self) -> str:
        """What a calendar shows of the event: a change of any of it is a new revision."""
        parts = (
            self.day.isoformat(),
            str(self.lesson_number),
            self.starts.isoformat() if self.starts else "",
            self.ends.isoformat() if self.ends else "",
            self.summary,
            self.location,
            self.description,
            "cancelled" if self.cancelled else "confirmed",
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Revision:
    sequence: int
    changed_at: datetime


@dataclass(frozen=True)
class _Reader:
    """Whose view of a class the events take: a pupil (named for a parent) or a teacher."""

    uid_suffix: str  # "p<pupil id>-u<subscriber's user id>" or "t<teacher id>"
    prefix: str  # "Маша: " in a parent's feed
    teacher_id: int | None  # a teacher's feed keeps only his lessons


def room_label(room: str) -> str:
    """«кабинет 12» for a numbered room, a named one as it is named («актовый зал»)."""
    return f"кабинет {room}" if room[:1].isdigit() else room


def _uid(day: date, number: int, class_id: int, reader: _Reader, host: str) -> str:
    return f"{day:%Y%m%d}-{number}-c{class_id}-{reader.uid_suffix}@{host}"


def _teacher_line(planned: Slot | None, actual: Slot) -> str:
    if planned is not None and planned.teacher_id != actual.teacher_id:
        return f"Замена: урок ведёт {actual.teacher_name} вместо {planned.teacher_name}"
    return f"Учитель: {actual.teacher_name}"


def _room_line(planned: Slot | None, actual: Slot) -> str | None:
    if planned is not None and planned.room != actual.room and actual.room:
        was = f" (было: {room_label(planned.room)})" if planned.room else ""
        return f"Другой кабинет: {room_label(actual.room)}{was}"
    return None


@dataclass
class _Collector:
    """Events of one class's weeks for one reader; firm events win over fallbacks (a moved
    lesson's cancelled stand-in at its old time, a planned lesson displaced by a moved one)."""

    class_id: int
    class_name: str
    reader: _Reader
    host: str
    work: dict[tuple[date, int], lessons.LessonRow]
    firm: dict[str, Lesson]
    fallback: dict[str, Lesson]

    def _description(self, number: int, lines: Iterable[str | None], day: date) -> str:
        out = [f"{number}-й урок, {self.class_name}"]
        out += [line for line in lines if line]
        given = self.work.get((day, number))
        if given is not None and given.topic:
            out.append(f"Тема: {given.topic}")
        if given is not None and given.homework:
            out.append(f"Домашнее задание: {given.homework}")
        return "\n".join(out)

    def _summary(self, slot: Slot, *, cancelled: bool, substituted: bool) -> str:
        text = self.reader.prefix + slot.subject_name
        if self.reader.teacher_id is not None:
            text += f", {self.class_name}"
        if cancelled:
            return text + " — отменён"
        return text + " — замена" if substituted else text

    def _event(
        self,
        uid_at: tuple[date, int],
        cell: Cell,
        day: date,
        slot: Slot,
        *,
        cancelled: bool,
        lines: Sequence[str | None],
        substituted: bool = False,
    ) -> Lesson:
        number = cell.lesson_number
        return Lesson(
            uid=_uid(uid_at[0], uid_at[1], self.class_id, self.reader, self.host),
            day=day,
            lesson_number=number,
            starts=cell.starts_at,
            ends=cell.ends_at,
            summary=self._summary(slot, cancelled=cancelled, substituted=substituted),
            location="" if cancelled or not slot.room else room_label(slot.room),
            description=self._description(number, [*lines, cell.note or None], day),
            cancelled=cancelled,
        )

    def _mine(self, slot: Slot | None) -> bool:
        return slot is not None and (
            self.reader.teacher_id is None or slot.teacher_id == self.reader.teacher_id
        )

    def add(self, day: date, cell: Cell) -> None:
        here = (day, cell.lesson_number)
        planned, actual = cell.planned, cell.actual
        if cell.change == "moved_in" and cell.moved_from is not None and actual is not None:
            if self._mine(actual):
                src_day, src_n = cell.moved_from
                moved = f"Урок перенесён с {src_day:%d.%m.%Y}, {src_n}-го урока"
                event = self._event(
                    cell.moved_from, cell, day, actual, cancelled=False, lines=[moved]
                )
                self.firm[event.uid] = event
            if self._mine(planned) and planned is not None:
                # The lesson planned here gave way: cancelled, or itself moved elsewhere
                # (then its firm event at the new time replaces this stand-in).
                gone = self._event(here, cell, day, planned, cancelled=True, lines=["Урок отменён"])
                self.fallback[gone.uid] = gone
            return
        if planned is None:
            return
        if cell.change == "moved" and cell.moved_to is not None:
            if self._mine(planned):
                to_day, to_n = cell.moved_to
                where = f"Урок перенесён на {to_day:%d.%m.%Y}, {to_n}-й урок"
                stand_in = self._event(here, cell, day, planned, cancelled=True, lines=[where])
                self.fallback[stand_in.uid] = stand_in
            return
        if actual is None:
            if self._mine(planned):
                event = self._event(
                    here, cell, day, planned, cancelled=True, lines=["Урок отменён"]
                )
                self.firm[event.uid] = event
            return
        if self._mine(actual):
            lines = [_teacher_line(planned, actual), _room_line(planned, actual)]
            substituted = planned.teacher_id != actual.teacher_id
            event = self._event(
                here, cell, day, actual, cancelled=False, lines=lines, substituted=substituted
            )
            self.firm[event.uid] = event
        elif self._mine(planned):
            # A teacher's lesson given by a substitute: gone from his day.
            line = f"Замена: урок ведёт {actual.teacher_name}"
            event = self._event(here, cell, day, planned, cancelled=True, lines=[line])
            self.firm[event.uid] = event


async def _class_lessons(
    ctx: Ctx, target: ClassTarget, class_name: str, window: Window, reader: _Reader, host: str
) -> list[Lesson]:
    """The reader's events in one class over the window, read under ``ctx``'s policy."""
    given = await lessons.class_lessons(ctx, target.class_id, window.first, window.last)
    work = {(g.date, g.lesson_number): g for g in given}
    collector = _Collector(target.class_id, class_name, reader, host, work, {}, {})
    for monday in window.mondays:
        week = await timetable.class_week(ctx, target, class_name, monday)
        for day in week.days:
            for cell in day.cells:
                collector.add(day.date, cell)
    return list(({**collector.fallback, **collector.firm}).values())


async def family_lessons(ctx: Ctx, window: Window, host: str) -> list[Lesson]:
    """A parent's feed: every confirmed child's lessons, the child's first name in each
    event; a pupil's: his own. The children are read from the actor's places (confirmed
    guardianships only), so a child whose guardianship ended is no longer in it."""
    pupils = await families.my_pupils(ctx)
    named = Role.PARENT in ctx.actor.roles
    out: list[Lesson] = []
    for p in pupils:
        first_name = p.full_name.split(" ")[1] if " " in p.full_name else p.full_name
        # The UID names the subscriber too: a parent's and a pupil's events of the same
        # lesson differ (the child's name), and each keeps its own revisions.
        suffix = f"p{p.pupil_id}-u{ctx.actor.user_id}"
        reader = _Reader(suffix, f"{first_name}: " if named else "", None)
        target = ClassTarget(p.school_id, p.class_id)
        out += await _class_lessons(ctx, target, p.class_name, window, reader, host)
    return out


async def _taught_classes(ctx: Ctx, teacher_id: int, window: Window) -> list[SchoolClass]:
    """Classes where the teacher has a lesson in the window: in a published timetable that
    may apply, or as a substitute."""
    t, s, c = TimetableRow.__table__.c, TimetableSlot.__table__.c, TimetableChange.__table__.c
    planned = (
        select(t.class_id)
        .join(TimetableSlot.__table__, s.timetable_id == t.id)
        .where(s.teacher_id == teacher_id, t.published_at.is_not(None), t.valid_from <= window.last)
    )
    substituting = select(c.class_id).where(
        c.teacher_id == teacher_id, c.date.between(window.first, window.last)
    )
    ids = set(await ctx.session.scalars(planned)) | set(await ctx.session.scalars(substituting))
    if not ids:
        return []
    rows = await ctx.session.scalars(
        select(SchoolClass)
        .where(SchoolClass.id.in_(ids), SchoolClass.school_id == ctx.actor.school_id)
        .order_by(SchoolClass.name)
    )
    return list(rows)


async def teacher_lessons(ctx: Ctx, window: Window, host: str) -> list[Lesson]:
    """A teacher's feed: the lessons he gives (substitutions included), and his lessons
    cancelled or given by a substitute as cancelled.

    The classes are read as their families see them: published timetables only, a draft
    correction being a working copy not in force. The reading actor is the teacher narrowed
    to those classes (never more than his staff rights: staff read every class of their
    school), so the core's ``READ_CLASS`` check still guards each read."""
    teacher = ctx.actor
    if teacher.school_id is None or not teacher.is_staff:
        return []
    classes = await _taught_classes(ctx, teacher.user_id, window)
    places = frozenset(PupilPlace(0, c.school_id, c.id) for c in classes)
    reading = Ctx(
        ctx.session,
        Actor(
            user_id=teacher.user_id,
            roles=frozenset({Role.PARENT}),
            school_id=teacher.school_id,
            children=places,
        ),
        ctx.clock,
        ctx.zone,
    )
    reader = _Reader(f"t{teacher.user_id}", "", teacher.user_id)
    out: list[Lesson] = []
    for c in classes:
        target = ClassTarget(c.school_id, c.id)
        out += await _class_lessons(reading, target, c.name, window, reader, host)
    return out


def _at(day: date, moment: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=zone)


def etag(
    name: str, zone: ZoneInfo, window: Window, events: Sequence[tuple[Lesson, Revision]]
) -> str:
    """A strong ETag of what :func:`render` writes for these arguments, known without
    rendering: the events' fingerprints and revisions determine their text, and the rest is
    the name, the zone and the window's years (the VTIMEZONE's span). A poll that matches
    costs the reads, not the writing of hundreds of events."""
    digest = hashlib.sha256(f"{FORMAT}\x1e{name}\x1e{zone.key}\x1e".encode())
    digest.update(f"{window.first.year}\x1e{window.last.year}".encode())
    for lesson, revision in sorted(events, key=lambda e: e[0].uid):
        stamp = revision.changed_at.isoformat()
        digest.update(
            f"\x1e{lesson.uid}\x1f{lesson.fingerprint()}\x1f{revision.sequence}\x1f{stamp}".encode()
        )
    return digest.hexdigest()[:40]


@functools.lru_cache(maxsize=16)
def _vtimezone(zone: ZoneInfo, first_year: int, last_year: int) -> Timezone:
    """The zone's VTIMEZONE for whole years around the window (it changes once a year, not
    with the window); built once per zone and span, as building it walks the zone's rules."""
    return Timezone.from_tzinfo(
        zone, tzid=zone.key, first_date=date(first_year, 1, 1), last_date=date(last_year, 1, 1)
    )


def render(
    name: str,
    zone: ZoneInfo,
    window: Window,
    events: Sequence[tuple[Lesson, Revision]],
) -> bytes:
    """The calendar: its VTIMEZONE for the window's dates, then the events in time order."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", zone.key)
    cal.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    cal.add_component(_vtimezone(zone, window.first.year - 1, window.last.year + 2))
    ordered = sorted(events, key=lambda e: (e[0].day, e[0].starts or time(0), e[0].uid))
    for lesson, revision in ordered:
        ev = Event()
        ev.add("uid", lesson.uid)
        ev.add("dtstamp", revision.changed_at)
        ev.add("last-modified", revision.changed_at)
        ev.add("sequence", revision.sequence)
        if lesson.starts is not None and lesson.ends is not None:
            ev.add("dtstart", _at(lesson.day, lesson.starts, zone))
            ev.add("dtend", _at(lesson.day, lesson.ends, zone))
        else:
            ev.add("dtstart", lesson.day)
            ev.add("dtend", lesson.day + timedelta(days=1))
        ev.add("summary", lesson.summary)
        if lesson.location:
            ev.add("location", lesson.location)
        ev.add("description", lesson.description)
        ev.add("status", "CANCELLED" if lesson.cancelled else "CONFIRMED")
        ev.add("transp", "TRANSPARENT" if lesson.cancelled else "OPAQUE")
        ev.add("class", "PRIVATE")
        cal.add_component(ev)
    body: bytes = cal.to_ical()
    return body
