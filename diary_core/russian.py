"""Russian grammar for the texts people read: plural forms of counted nouns, the genitive
of a person's full name («от Харитоновой Алёны Вадимовны»), and where a lesson takes place
(«в кабинете 12», «в актовом зале»).

Names are declined by ``pytrovich`` (the petrovich project's rules for Russian first names,
patronymics and surnames, with its gender detection); room names by a few rules for the
usual words, falling back to «кабинет: …» when the name is not one they know how to decline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from functools import cache

from pytrovich.detector import PetrovichGenderDetector
from pytrovich.enums import Case, Gender, NamePart
from pytrovich.maker import PetrovichDeclinationMaker


def full_name(*parts: str | None) -> str:
    """A person's name as written: surname, first name and patronymic (or any of them) in the
    order given, the empty ones left out."""
    return " ".join(p for p in parts if p)


def plural(n: int, one: str, few: str, many: str) -> str:
    """The form of a noun counted ``n`` times: ``plural(n, "день", "дня", "дней")``
    (1, 21, 101 → one; 2–4, 22–24 → few; 0, 5–20, 25–30, 111–114 → many)."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def counted(n: int, one: str, few: str, many: str) -> str:
    """``n`` with its noun: ``counted(5, "день", "дня", "дней")`` → ``5 дней``."""
    return f"{n} {plural(n, one, few, many)}"


def days(n: int) -> str:
    """``1 день``, ``2 дня``, ``5 дней``."""
    return counted(n, "день", "дня", "дней")


def waiting(delta: timedelta) -> str:
    """How long something has waited, in whole days: ``меньше дня``, ``1 день``, ``5 дней``
    (a negative wait, a clock's skew, counts as less than a day)."""
    return "меньше дня" if delta.days < 1 else days(delta.days)


@cache
def _maker() -> PetrovichDeclinationMaker:
    return PetrovichDeclinationMaker()


@cache
def _detector() -> PetrovichGenderDetector:
    return PetrovichGenderDetector()


def _decline(part: NamePart, gender: Gender, case: Case, word: str) -> str:
    """One part of a name in ``case``; a double-barrelled part declines piece by piece."""
    pieces = word.split("-")
    return "-".join(_maker().make(part, gender, case, p) if p else p for p in pieces)


def _gender(last_name: str, first_name: str, middle_name: str) -> Gender:
    if not (last_name or first_name or middle_name):
        return Gender.ANDROGYNOUS
    # pytrovich is not annotated: its detector's result is declared here, where it is used.
    detect: Callable[..., Gender] = _detector().detect
    return detect(
        firstname=first_name or None, lastname=last_name or None, middlename=middle_name or None
    )


def genitive_name(last_name: str, first_name: str, middle_name: str = "") -> str:
    """«Харитонова Алёна Вадимовна» → «Харитоновой Алёны Вадимовны» (as in «от …»).

    The gender comes from the patronymic, else from the first name and surname; when none
    tells it (an unknown foreign name without a patronymic) the name is left as written
    rather than declined wrongly."""
    gender = _gender(last_name, first_name, middle_name)
    if gender == Gender.ANDROGYNOUS:
        return " ".join(p for p in (last_name, first_name, middle_name) if p)
    parts = (
        (NamePart.LASTNAME, last_name),
        (NamePart.FIRSTNAME, first_name),
        (NamePart.MIDDLENAME, middle_name),
    )
    return " ".join(_decline(part, gender, Case.GENITIVE, word) for part, word in parts if word)


# ---------------------------------------------------------------- rooms

_NUMBERED = re.compile(r"^(?:№\s*)?\d+[\wА-Яа-яЁё./-]*$")
#: Adjective endings (nominative → prepositional) of the words a room name may start with.
_ADJECTIVES = (
    ("ский", "ском"), ("цкий", "цком"), ("ный", "ном"), ("ой", "ом"), ("ый", "ом"),
    ("ий", "ем"), ("ская", "ской"), ("ная", "ной"), ("ая", "ой"), ("яя", "ей"),
)  # fmt: skip
#: Nouns a room name ends with, in the prepositional case after «в».
_NOUNS = {
    "зал": "зале", "спортзал": "спортзале", "класс": "классе",
    "кабинет": "кабинете", "мастерская": "мастерской", "библиотека": "библиотеке",
    "лаборатория": "лаборатории", "столовая": "столовой", "рекреация": "рекреации",
    "студия": "студии", "аудитория": "аудитории", "бассейн": "бассейне", "музей": "музее",
    "центр": "центре", "холл": "холле", "корпус": "корпусе", "тир": "тире",
    "медиатека": "медиатеке", "учительская": "учительской", "площадка": "площадке",
    "стадион": "стадионе", "лекторий": "лектории",
}  # fmt: skip


def _adjective_locative(word: str) -> str | None:
    for nominative, prepositional in _ADJECTIVES:
        if word.endswith(nominative) and len(word) > len(nominative) + 1:
            return word[: -len(nominative)] + prepositional
    return None


def where_room(room: str) -> str:
    """Where a lesson takes place: «в кабинете 12», «в актовом зале», «в спортзале»; a name
    these rules cannot decline safely reads «кабинет: …» instead of a wrong case."""
    name = " ".join(room.split())
    if not name:
        return ""
    if _NUMBERED.match(name):
        return f"в кабинете {name}"
    words = name.split(" ")
    lower = [w.lower() for w in words]
    if " ".join(lower) in _NOUNS:
        return f"в {_NOUNS[' '.join(lower)]}"
    if lower[-1] in _NOUNS:  # «актовый зал», «малый спортзал»: adjectives, then the noun
        declined = [_adjective_locative(w) for w in lower[:-1]]
        if all(declined):
            return "в " + " ".join([*(d or "" for d in declined), _NOUNS[lower[-1]]])
    if lower[0] in _NOUNS:  # «кабинет физики», «зал № 2», «Кабинет 12»
        return "в " + " ".join([_NOUNS[lower[0]], *words[1:]])
    return f"кабинет: {name}"


# ---------------------------------------------------------------- pronouns and subjects


def pronoun(last_name: str, first_name: str, middle_name: str = "") -> str:
    """«она» or «он» for a person (the gender as :func:`genitive_name` finds it); an empty
    string when the name does not tell, so the caller says «сотрудник» instead."""
    gender = _gender(last_name, first_name, middle_name)
    if gender == Gender.FEMALE:
        return "она"
    if gender == Gender.MALE:
        return "он"
    return ""


#: Adjective endings (nominative → dative) of the words a subject's name may start with.
_ADJECTIVES_DATIVE = (
    ("ский", "скому"), ("цкий", "цкому"), ("кий", "кому"), ("гий", "гому"), ("хий", "хому"),
    ("жий", "жему"), ("ший", "шему"), ("чий", "чему"), ("щий", "щему"), ("ний", "нему"),
    ("ый", "ому"), ("ой", "ому"), ("ая", "ой"), ("яя", "ей"), ("ое", "ому"), ("ее", "ему"),
)  # fmt: skip
#: Noun endings (nominative → dative singular), longest first.
_NOUNS_DATIVE = (("ия", "ии"), ("ие", "ию"), ("о", "у"), ("а", "е"), ("я", "е"))
_HARD_CONSONANTS = set("бвгдзклмнпрстфхжшцчщ")


def _noun_dative(word: str) -> str | None:
    for nominative, dative in _NOUNS_DATIVE:
        if word.endswith(nominative) and len(word) > len(nominative) + 1:
            return word[: -len(nominative)] + dative
    if len(word) > 2 and word[-1] in _HARD_CONSONANTS:
        return word + "у"
    return None


def by_subject(name: str) -> str:
    """A school subject after «по»: «по математике», «по русскому языку», «по физической
    культуре», «по истории России»; a name these rules cannot decline safely (an
    abbreviation, a plural, several subjects joined by «и») reads «по предмету «…»»."""
    name = " ".join(name.split())
    fallback = f"по предмету «{name}»"
    words = name.split(" ")
    if not name or (words[0].isupper() and len(words[0]) > 1):  # «ОБЖ», «ИЗО»
        return fallback
    declined: list[str] = []
    for i, word in enumerate(words):
        lower = word.lower() if i == 0 else word
        adjective = next(
            (lower[: -len(n)] + d for n, d in _ADJECTIVES_DATIVE if lower.endswith(n)), None
        )
        if adjective is not None and i + 1 < len(words) and len(lower) > 4:
            declined.append(adjective)
            continue
        noun = _noun_dative(lower) if lower.isalpha() else None
        rest = words[i + 1 :]
        if noun is None or "и" in rest:
            return fallback
        return "по " + " ".join([*declined, noun, *rest])
    return fallback
