"""The demo school's test persons: accounts that sign in through the state services portal,
whether the portal trusts each, the children it lists for him, and what each is for.

Plain facts read from the diary's own user rows (so the SNILS match what linking will look
up); the portal's own person format is the gateway's (gateway/demo/esia_persons.py). The
generator records the roles (user ids, trust, children) in its audit event, so the persons
can be rebuilt from the database at any later start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.models import User

#: A test person's portal id is this plus his user id (stable for an account).
OID_BASE = 1_000_000_000


def oid_of(user_id: int) -> str:
    """The portal person id (an external identity's subject) a test person gets."""
    return str(OID_BASE + user_id)


@dataclass(frozen=True)
class PersonRole:
    """Who a test person is: his account, whether the portal trusts him, the children it
    lists, and a note on what he is for."""

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
    def from_json(cls, raw: dict[str, Any]) -> PersonRole:
        return cls(
            int(raw["user_id"]),
            bool(raw["trusted"]),
            tuple(int(k) for k in raw.get("kid_user_ids", ())),
            str(raw.get("note", "")),
        )


@dataclass(frozen=True)
class PersonData:
    """What the portal knows of a person: his account's name, birth date, SNILS, contacts."""

    user_id: int
    last_name: str
    first_name: str
    middle_name: str
    birth_date: date | None
    snils: str
    email: str
    phone: str

    @classmethod
    def of(cls, user: User) -> PersonData:
        return cls(
            user.id,
            user.last_name,
            user.first_name,
            user.middle_name,
            user.birth_date,
            user.snils or "",
            user.email,
            user.phone,
        )

    @property
    def full_name(self) -> str:
        return f"{self.last_name} {self.first_name} {self.middle_name}"


@dataclass(frozen=True)
class DemoPerson:
    """A test person as the emulator lists him: his portal id, data, trust, children, note."""

    oid: str
    data: PersonData
    trusted: bool
    kids: tuple[PersonData, ...]
    note: str


async def demo_persons(session: AsyncSession, roles: list[PersonRole]) -> list[DemoPerson]:
    """The test persons of ``roles``, read from the accounts they describe (a child whose
    account is gone is left out)."""
    wanted = {r.user_id for r in roles} | {k for r in roles for k in r.kid_user_ids}
    users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(wanted)))}
    return [
        DemoPerson(
            oid_of(role.user_id),
            PersonData.of(users[role.user_id]),
            role.trusted,
            tuple(PersonData.of(users[k]) for k in role.kid_user_ids if k in users),
            role.note,
        )
        for role in roles
    ]
