"""Generated people: staff, pupils and their families, with names in the right gender forms,
plausible birth dates, contacts and valid, unique SNILS."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from random import Random

from diary_core.accounts import transliterate
from diary_core.demo import names
from diary_core.snils import make_snils

_SNILS_BASE = 200_000_000
_SNILS_PER_SCHOOL = 100_000
_SNILS_STRIDE = 7_919  # coprime with the block size: numbers look scattered, never repeat


class SnilsSource:
    """Unique, valid SNILS for one school's people: a block of numbers per school index, so
    schools generated separately never collide."""

    def __init__(self, school_index: int) -> None:
        self._base = _SNILS_BASE + school_index * _SNILS_PER_SCHOOL
        self._count = 0

    def next(self) -> str:
        offset = (self._count * _SNILS_STRIDE) % _SNILS_PER_SCHOOL
        self._count += 1
        return make_snils(self._base + offset)


@dataclass
class Person:
    last_name: str
    first_name: str
    middle_name: str
    gender: str  # "M" | "F"
    birth_date: date
    snils: str
    email: str = ""
    phone: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.last_name} {self.first_name} {self.middle_name}".strip()


@dataclass
class Family:
    surname: str  # masculine form
    father_name: tuple[str, str, str]
    father: Person | None = None
    mother: Person | None = None
    pupils: list[int] = field(default_factory=list)  # indexes into the pupil list

    @property
    def parents(self) -> list[Person]:
        return [p for p in (self.father, self.mother) if p is not None]


class PeopleMaker:
    """Makes people from one random stream; the same stream gives the same people."""

    def __init__(self, rng: Random, snils: SnilsSource) -> None:
        self.rng = rng
        self.snils = snils

    def birth_date(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randrange((last - first).days + 1))

    def phone(self) -> str:
        r = self.rng
        code, a, b, c = (
            r.randrange(10, 100),
            r.randrange(100, 1000),
            r.randrange(100),
            r.randrange(100),
        )
        return f"+7 9{code} {a}-{b:02d}-{c:02d}"

    def email(self, person: Person) -> str:
        first = transliterate(person.first_name)
        last = transliterate(person.last_name)
        return f"{first}.{last}{self.rng.randrange(10, 100)}@example.org"

    def adult(
        self,
        gender: str,
        born: tuple[date, date],
        surname_base: str | None = None,
        first: str | None = None,
    ) -> Person:
        base = surname_base or self.rng.choice(names.MALE_SURNAMES)
        father = self.rng.choice(names.MALE_ADULT_NAMES)
        if gender == "M":
            first, middle = first or self.rng.choice(names.MALE_ADULT_NAMES)[0], father[1]
        else:
            first, middle = first or self.rng.choice(names.FEMALE_ADULT_NAMES), father[2]
        person = Person(
            last_name=names.surname(base, gender),
            first_name=first,
            middle_name=middle,
            gender=gender,
            birth_date=self.birth_date(*born),
            snils=self.snils.next(),
        )
        person.email = self.email(person)
        person.phone = self.phone()
        return person

    def family(self, youngest_birth: date) -> Family:
        """A family whose parents were born 22–40 years before their child."""
        base = self.rng.choice(names.MALE_SURNAMES)
        father_name = self.rng.choice(names.MALE_ADULT_NAMES)
        family = Family(surname=base, father_name=father_name)
        born = (
            youngest_birth - timedelta(days=365 * 40),
            youngest_birth - timedelta(days=365 * 22),
        )
        shape = self.rng.random()
        if shape < 0.95:  # mother on the roster
            family.mother = self.adult("F", born, base)
        if shape < 0.55 or shape >= 0.90:  # father on the roster
            family.father = self.adult("M", born, base, father_name[0])
        return family

    def child(self, family: Family, gender: str, born: tuple[date, date]) -> Person:
        first = self.rng.choice(names.BOY_NAMES if gender == "M" else names.GIRL_NAMES)
        return Person(
            last_name=names.surname(family.surname, gender),
            first_name=first,
            middle_name=family.father_name[1 if gender == "M" else 2],
            gender=gender,
            birth_date=self.birth_date(*born),
            snils=self.snils.next(),
        )


def birth_range(start_year: int, grade: int) -> tuple[date, date]:
    """Pupils of ``grade`` in the year starting ``start_year`` were 6½–8 when they began."""
    first_year = start_year - grade + 1  # the autumn they started school
    return date(first_year - 8, 9, 1), date(first_year - 6, 3, 1)
