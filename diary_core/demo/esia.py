"""Test persons for the ESIA emulator, in its persons-file format (docs/esia.md): ESIA's own field
names, birth dates as dd.MM.yyyy, gender "M"/"F", and children under ``kids``.

Built from the diary's own user rows, so the SNILS match what linking will look up. The
generator records who they are (user ids, trust, children) in its audit event, so the list can
be rebuilt from the database at any later start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.models import User

OID_BASE = 1_000_000_000
KID_ID_BASE = 2_000_000_000


@dataclass(frozen=True)
class EsiaRole:
    """Who a test person is: his account, whether ESIA trusts him, the children ESIA lists."""

    user_id: int
    trusted: bool
    kid_user_ids: tuple[int, ...] = ()
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "trusted": self.trusted,
            "kid_user_ids": list(self.kid_user_ids),
            "note": self.note,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> EsiaRole:
        return cls(
            int(raw["user_id"]),
            bool(raw["trusted"]),
            tuple(int(k) for k in raw.get("kid_user_ids", ())),
            str(raw.get("note", "")),
        )


def oid_of(user_id: int) -> str:
    """The portal person id a test person gets (stable for an account)."""
    return str(OID_BASE + user_id)


def gender_of(middle_name: str) -> str:
    """Russian patronymics tell the gender: -ич (man), -на (woman)."""
    return "F" if middle_name.endswith("на") else "M"


def _mobile(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"+7({digits[1:4]}){digits[4:]}" if len(digits) == 11 else ""


def _names(user: User) -> dict[str, Any]:
    return {
        "lastName": user.last_name,
        "firstName": user.first_name,
        "middleName": user.middle_name,
        "birthDate": user.birth_date.strftime("%d.%m.%Y") if user.birth_date else "",
        "gender": gender_of(user.middle_name),
        "snils": user.snils or "",
    }


async def esia_persons(session: AsyncSession, roles: list[EsiaRole]) -> list[dict[str, Any]]:
    """The persons file for ``roles``, read from the accounts they describe."""
    wanted = {r.user_id for r in roles} | {k for r in roles for k in r.kid_user_ids}
    users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(wanted)))}
    persons = []
    for role in roles:
        user = users[role.user_id]
        kids = [
            {"id": str(KID_ID_BASE + k), **_names(users[k])}
            for k in role.kid_user_ids
            if k in users
        ]
        persons.append(
            {
                "oid": oid_of(user.id),
                **_names(user),
                "trusted": role.trusted,
                "email": user.email,
                "mobile": _mobile(user.phone),
                "kids": kids,
            }
        )
    return persons
