"""A weekly timetable for every class of a school, with no teacher in two rooms at once.

Lessons are dealt position by position (all first lessons of the week, then all second ones
…), each time choosing the subject with most hours left whose teacher is free and that the
class has not had that day yet; only when nothing fits are those wishes relaxed, in that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

DAYS = (1, 2, 3, 4, 5)  # Monday … Friday
#: Which days get the extra lessons when the week does not divide evenly (mid-week is the
#: heaviest, as the sanitary rules have it).
_EXTRA_DAY_ORDER = (2, 3, 4, 1, 5)
_REPAIR_PASSES = 60


@dataclass(frozen=True)
class Slot:
    weekday: int
    number: int
    subject: str
    teacher: int  # index into the school's teachers
    room: str


@dataclass(frozen=True)
class Course:
    """One subject of one class: who teaches it, how many hours a week, in which room."""

    subject: str
    teacher: int
    hours: int
    room: str


def day_sizes(total_hours: int) -> dict[int, int]:
    base, extra = divmod(total_hours, len(DAYS))
    sizes = dict.fromkeys(DAYS, base)
    for day in _EXTRA_DAY_ORDER[:extra]:
        sizes[day] += 1
    return sizes


def _pick(
    left: dict[str, int],
    courses: dict[str, Course],
    busy: set[tuple[int, int, int]],
    taken_today: set[str],
    day: int,
    number: int,
    rng: Random,
) -> str:
    candidates = [s for s, n in left.items() if n > 0]
    for relax in range(3):
        fits = [
            s
            for s in candidates
            if (relax >= 2 or (courses[s].teacher, day, number) not in busy)
            and (relax >= 1 or s not in taken_today)
        ]
        if fits:
            best = max(left[s] for s in fits)
            return rng.choice(sorted(s for s in fits if left[s] == best))
    raise AssertionError("no subject left for a timetable position")


def class_week(courses: list[Course], busy: set[tuple[int, int, int]], rng: Random) -> list[Slot]:
    """One class's week; ``busy`` (teacher, day, lesson) is shared across the school's classes
    and updated."""
    by_subject = {c.subject: c for c in courses}
    left = {c.subject: c.hours for c in courses}
    sizes = day_sizes(sum(left.values()))
    today: dict[int, set[str]] = {d: set() for d in DAYS}
    slots: list[Slot] = []
    for number in range(1, max(sizes.values()) + 1):
        for day in DAYS:
            if number > sizes[day]:
                continue
            subject = _pick(left, by_subject, busy, today[day], day, number, rng)
            course = by_subject[subject]
            left[subject] -= 1
            today[day].add(subject)
            busy.add((course.teacher, day, number))
            slots.append(Slot(day, number, subject, course.teacher, course.room))
    return sorted(slots, key=lambda s: (s.weekday, s.number))


def _clashes(weeks: list[list[Slot]]) -> dict[tuple[int, int, int], int]:
    load: dict[tuple[int, int, int], int] = {}
    for week in weeks:
        for s in week:
            key = (s.teacher, s.weekday, s.number)
            load[key] = load.get(key, 0) + 1
    return load


def _moved(slot: Slot, to: Slot) -> Slot:
    return Slot(to.weekday, to.number, slot.subject, slot.teacher, slot.room)


def _key(s: Slot) -> tuple[int, int, int]:
    return (s.teacher, s.weekday, s.number)


def _swap_gain(load: dict[tuple[int, int, int], int], x: Slot, y: Slot) -> int:
    """How many clashes swapping lessons ``x`` and ``y`` of one class removes."""
    before = sum(load[_key(s)] > 1 for s in (x, y))
    after = sum(load.get(_key(s), 0) > 0 for s in (_moved(x, y), _moved(y, x)))
    return before - after


def _repair(week: list[Slot], load: dict[tuple[int, int, int], int], rng: Random) -> None:
    """Swap each clashing lesson with another lesson of the same class when that removes a
    clash (or, now and then, when it removes none, to get out of a dead end); ``week`` and
    ``load`` are updated in place."""
    for i in range(len(week)):
        slot = week[i]
        if load[_key(slot)] < 2:
            continue
        options = [j for j, o in enumerate(week) if o.teacher != slot.teacher]
        gains = {j: _swap_gain(load, slot, week[j]) for j in options}
        best = max(gains.values(), default=-1)
        if best < 0 or (best == 0 and rng.random() < 0.5):
            continue
        j = rng.choice([j for j in options if gains[j] == best])
        other = week[j]
        a, b = _moved(slot, other), _moved(other, slot)
        for old, new in ((slot, a), (other, b)):
            load[_key(old)] -= 1
            load[_key(new)] = load.get(_key(new), 0) + 1
        week[i], week[j] = b, a


def school_week(classes: list[list[Course]], rng: Random) -> tuple[list[list[Slot]], int]:
    """Every class's week, the most loaded classes first, clashes repaired by swaps; also how
    many teacher clashes remain (zero for a sane curriculum and staff)."""
    busy: set[tuple[int, int, int]] = set()
    weeks: list[list[Slot]] = [[] for _ in classes]
    order = sorted(range(len(classes)), key=lambda i: -sum(c.hours for c in classes[i]))
    for index in order:
        weeks[index] = class_week(classes[index], busy, rng)
    load = _clashes(weeks)
    for _ in range(_REPAIR_PASSES):
        if all(n < 2 for n in load.values()):
            break
        for week in weeks:
            _repair(week, load, rng)
    for week in weeks:
        week.sort(key=lambda s: (s.weekday, s.number))
    return weeks, sum(n - 1 for n in load.values() if n > 1)
