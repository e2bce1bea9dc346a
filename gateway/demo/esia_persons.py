"""Test persons for the ESIA emulator, in its persons-file format (docs/esia.md): ESIA's own field
names, birth dates as dd.MM.yyyy, gender "M"/"F", and children under ``kids``.

Made from the demo school's test persons (diary_core.demo.identities), which the diary reads
from its own user rows, so the SNILS match what linking will look up.
"""

from __future__ import annotations

from typing import Any

from diary_core.demo.identities import DemoPerson, PersonData

#: A child's ESIA id is this plus his user id.
KID_ID_BASE = 2_000_000_000


def gender_of(middle_name: str) -> str:
    """Russian patronymics tell the gender: -ич (man), -на (woman)."""
    return "F" if middle_name.endswith("на") else "M"


def _mobile(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"+7({digits[1:4]}){digits[4:]}" if len(digits) == 11 else ""


def _names(person: PersonData) -> dict[str, Any]:
    return {
        "lastName": person.last_name,
        "firstName": person.first_name,
        "middleName": person.middle_name,
        "birthDate": person.birth_date.strftime("%d.%m.%Y") if person.birth_date else "",
        "gender": gender_of(person.middle_name),
        "snils": person.snils,
    }


def esia_persons(persons: list[DemoPerson]) -> list[dict[str, Any]]:
    """The emulator's persons file for ``persons``."""
    return [
        {
            "oid": p.oid,
            **_names(p.data),
            "trusted": p.trusted,
            "email": p.data.email,
            "mobile": _mobile(p.data.phone),
            "kids": [{"id": str(KID_ID_BASE + k.user_id), **_names(k)} for k in p.kids],
        }
        for p in persons
    ]
