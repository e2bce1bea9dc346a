"""The plan of one generated school, before anything is written: classes and their sizes,
pupils in families, staff and who teaches what, class teachers and the weekly timetable.

Pure and deterministic: the same random stream gives the same plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from random import Random

from diary_core.demo import names
from diary_core.demo.calendar import SchoolYear
from diary_core.demo.people import Family, PeopleMaker, Person, SnilsSource, birth_range
from diary_core.demo.timetable import Course, Slot, school_week

LETTERS = "АБВГДЕЖИКЛ"
MAX_TEACHER_HOURS = 27  # one and a half of the 18-hour teaching rate
_SPECIALTY_ORDER = (
    "russian", "math", "english", "history", "geography", "biochem", "physics", "arts",
    "technology", "pe",
)  # fmt: skip
#: A pupil's usual mark: strong, good, fair and weak pupils in a rural class.
_LEVELS = ((0.25, 4.6), (0.45, 4.1), (0.24, 3.6), (0.06, 3.1))


@dataclass
class ClassPlan:
    name: str
    grade: int
    pupils: list[int] = field(default_factory=list)
    class_teacher: int | None = None
    room: str = ""


@dataclass
class PupilPlan:
    person: Person
    class_index: int
    family: int
    level: float
    pe_exempt: bool = False


@dataclass
class TeacherPlan:
    person: Person
    specialty: str
    room: str
    hours: int = 0


@dataclass
class SchoolPlan:
    index: int
    name: str
    year: SchoolYear
    classes: list[ClassPlan]
    pupils: list[PupilPlan]
    families: list[Family]
    director: Person
    deputy: Person
    teachers: list[TeacherPlan]
    courses: list[list[Course]]  # per class
    weeks: list[list[Slot]]  # per class
    demo_family: int | None = None  # the demo parent's family (the demo school only)
    demo_teacher: int | None = None  # the demo subject teacher (not a class teacher)
    pending_parent: Person | None = None  # a guardian from ESIA the class teacher must confirm
    pending_pupil: int | None = None

    def teacher_of(self, class_index: int, subject: str) -> int:
        return next(c.teacher for c in self.courses[class_index] if c.subject == subject)


def class_layout(
    rng: Random, pupils_per_school: int | None, per_class: int | None
) -> list[tuple[str, int, int]]:
    """``(name, grade, size)`` of every class: one class of 8–15 per grade for the small
    school, or ~``pupils_per_school`` spread over grades 1–9 in classes of up to 25."""
    if pupils_per_school is None:
        return [(f"{g}А", g, per_class or rng.randint(8, 15)) for g in range(1, 10)]
    layout = []
    for grade in range(1, 10):
        total = max(1, round(pupils_per_school / 9 * rng.uniform(0.9, 1.1)))
        count = math.ceil(total / 25)
        for i in range(count):
            size = total // count + (1 if i < total % count else 0)
            layout.append((f"{grade}{LETTERS[i]}", grade, size))
    return layout


def _level(rng: Random) -> float:
    roll = rng.random()
    for share, level in _LEVELS:
        if roll < share:
            return level + rng.uniform(-0.2, 0.2)
        roll -= share
    return _LEVELS[-1][1]


class _Builder:
    def __init__(self, rng: Random, school_index: int, year: SchoolYear) -> None:
        self.rng = rng
        self.year = year
        self.people = PeopleMaker(rng, SnilsSource(school_index))
        self.classes: list[ClassPlan] = []
        self.pupils: list[PupilPlan] = []
        self.families: list[Family] = []

    def add_pupil(self, class_index: int, family_index: int, gender: str | None = None) -> None:
        cls = self.classes[class_index]
        family = self.families[family_index]
        gender = gender or self.rng.choice("MF")
        person = self.people.child(family, gender, birth_range(self.year.start_year, cls.grade))
        pe_exempt = cls.grade >= 5 and self.rng.random() < 0.04
        self.pupils.append(
            PupilPlan(person, class_index, family_index, _level(self.rng), pe_exempt)
        )
        cls.pupils.append(len(self.pupils) - 1)
        family.pupils.append(len(self.pupils) - 1)

    def new_family(self, grade: int) -> int:
        youngest = birth_range(self.year.start_year, grade)[1]
        self.families.append(self.people.family(youngest))
        return len(self.families) - 1

    def sibling_family(self, grade: int) -> int | None:
        """Now and then a pupil is the brother or sister of a pupil two or more grades apart."""
        if not self.families or self.rng.random() >= 0.12:
            return None
        index = self.rng.randrange(len(self.families))
        family = self.families[index]
        grades = [self.classes[self.pupils[p].class_index].grade for p in family.pupils]
        if len(family.pupils) >= 2 or any(abs(g - grade) < 2 for g in grades):
            return None
        return index

    def fill(self, layout: list[tuple[str, int, int]], demo: bool) -> int | None:
        self.classes = [ClassPlan(name, grade) for name, grade, _ in layout]
        demo_family = None
        if demo:
            demo_family = self.new_family(5)
            family = self.families[demo_family]
            family.father = family.father or self.people.adult(
                "M", _adult_born(self.year, 36, 45), family.surname, family.father_name[0]
            )
            self.add_pupil(_class_named(self.classes, "5А"), demo_family, "M")
            self.add_pupil(_class_named(self.classes, "2А"), demo_family, "F")
        for index, (_, grade, size) in enumerate(layout):
            while len(self.classes[index].pupils) < size:
                sibling = self.sibling_family(grade)
                self.add_pupil(index, sibling if sibling is not None else self.new_family(grade))
        return demo_family


def _adult_born(year: SchoolYear, youngest: int, oldest: int) -> tuple[date, date]:
    y = year.start_year
    return date(y - oldest, 1, 1), date(y - youngest, 12, 31)


def _class_named(classes: list[ClassPlan], name: str) -> int:
    return next(i for i, c in enumerate(classes) if c.name == name)


def _teacher(people: PeopleMaker, year: SchoolYear, specialty: str, room: str) -> TeacherPlan:
    men = names.SPECIALTY_MEN.get(specialty, 0.1)
    gender = "M" if people.rng.random() < men else "F"
    person = people.adult(gender, _adult_born(year, 24, 62))
    return TeacherPlan(person, specialty, room)


def _deal(
    b: _Builder,
    spec: str,
    classes: list[ClassPlan],
    teachers: list[TeacherPlan],
    courses: list[list[Course]],
) -> None:
    """Deal a specialty's classes to as few teachers as the hour limit allows, evenly, the
    largest blocks first (a class keeps one teacher for all its subjects of the specialty)."""
    blocks = []
    for index, cls in enumerate(classes):
        block = [
            (s, h) for s, h in names.CURRICULUM[cls.grade] if names.specialty(s, cls.grade) == spec
        ]
        if block:
            blocks.append((index, block, sum(h for _, h in block)))
    if not blocks:
        return
    count = math.ceil(sum(h for *_, h in blocks) / MAX_TEACHER_HOURS)
    first = len(teachers)
    for _ in range(count):
        teachers.append(_teacher(b.people, b.year, spec, str(len(teachers) + 1)))
    for index, block, hours in sorted(blocks, key=lambda x: -x[2]):
        current = min(range(first, first + count), key=lambda t: (teachers[t].hours, t))
        teachers[current].hours += hours
        for subject, h in block:
            room = names.SUBJECT_ROOMS.get(subject, teachers[current].room)
            courses[index].append(Course(subject, current, h, room))


def _staff(b: _Builder, classes: list[ClassPlan]) -> tuple[list[TeacherPlan], list[list[Course]]]:
    """Teachers and their courses: the class's own teacher for the primary subjects, subject
    teachers filled up to :data:`MAX_TEACHER_HOURS` class by class."""
    teachers: list[TeacherPlan] = []
    courses: list[list[Course]] = [[] for _ in classes]
    for cls in classes:
        if cls.grade <= 4:
            teachers.append(_teacher(b.people, b.year, "primary", str(len(teachers) + 1)))
            cls.class_teacher = len(teachers) - 1
    for spec in _SPECIALTY_ORDER:
        _deal(b, spec, classes, teachers, courses)
    for index, cls in enumerate(classes):
        if cls.grade <= 4:
            own = cls.class_teacher
            assert own is not None
            for subject, h in names.CURRICULUM[cls.grade]:
                if names.specialty(subject, cls.grade) == "primary":
                    room = names.SUBJECT_ROOMS.get(subject, teachers[own].room)
                    courses[index].append(Course(subject, own, h, room))
                    teachers[own].hours += h
            cls.room = teachers[own].room
    return teachers, courses


def _class_teachers(
    classes: list[ClassPlan], courses: list[list[Course]], avoid: int | None
) -> None:
    """A class teacher for every class of grades 5–9: the teacher with most hours in it who
    leads no other class yet."""
    leading = {c.class_teacher for c in classes if c.class_teacher is not None}
    for index, cls in enumerate(classes):
        if cls.class_teacher is not None:
            continue
        hours: dict[int, int] = {}
        for course in courses[index]:
            hours[course.teacher] = hours.get(course.teacher, 0) + course.hours
        ranked = sorted(hours, key=lambda t: (-hours[t], t))
        free = [t for t in ranked if t not in leading and t != avoid]
        cls.class_teacher = free[0] if free else ranked[0]
        leading.add(cls.class_teacher)


def _senior_rooms(classes: list[ClassPlan], teachers: list[TeacherPlan]) -> None:
    for cls in classes:
        if cls.grade >= 5 and cls.class_teacher is not None:
            cls.room = teachers[cls.class_teacher].room


def build_plan(
    rng: Random,
    *,
    school_index: int,
    name: str,
    year: SchoolYear,
    pupils_per_school: int | None = None,
    pupils_per_class: int | None = None,
    demo: bool = False,
) -> SchoolPlan:
    """The whole plan of one school."""
    b = _Builder(rng, school_index, year)
    layout = class_layout(rng, pupils_per_school, pupils_per_class)
    demo_family = b.fill(layout, demo)
    director = b.people.adult(rng.choice("MF"), _adult_born(year, 40, 60))
    deputy = b.people.adult("F", _adult_born(year, 35, 55))
    teachers, courses = _staff(b, b.classes)
    demo_teacher = (
        next(i for i, t in enumerate(teachers) if t.specialty == "math") if demo else None
    )
    _class_teachers(b.classes, courses, demo_teacher)
    _senior_rooms(b.classes, teachers)
    weeks, _clashes = school_week(courses, rng)
    pending_parent, pending_pupil = _pending(b, demo_family) if demo else (None, None)
    return SchoolPlan(
        index=school_index,
        name=name,
        year=year,
        classes=b.classes,
        pupils=b.pupils,
        families=b.families,
        director=director,
        deputy=deputy,
        teachers=teachers,
        courses=courses,
        weeks=weeks,
        demo_family=demo_family,
        demo_teacher=demo_teacher,
        pending_parent=pending_parent,
        pending_pupil=pending_pupil,
    )


def _pending(b: _Builder, demo_family: int | None) -> tuple[Person, int]:
    """A grandmother, her grandchild's guardian, who linked her ESIA account: her link to a
    pupil of 5А is not on the roster, so it waits for the class teacher."""
    cls = b.classes[_class_named(b.classes, "5А")]
    pool = [p for p in cls.pupils if b.pupils[p].family != demo_family]
    pupil = b.rng.choice(pool or cls.pupils)
    base = b.families[b.pupils[pupil].family].surname
    return b.people.adult("F", _adult_born(b.year, 55, 70), base), pupil
