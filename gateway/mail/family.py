"""Whom a notification is about, as its recipient may be told: his own children only.

A mail names a child only if the recipient is that pupil or his confirmed parent, checked
here again when the mail is written, whatever the notification row says: a parent never
reads another family's child's name in a mail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.models import Guardianship, Pupil, SchoolClass, User


@dataclass(frozen=True)
class Child:
    pupil_id: int
    name: str  # «Пётр Иванов»
    class_name: str  # «7А»

    @property
    def label(self) -> str:
        return f"{self.name}, {self.class_name}"


async def family_of(session: AsyncSession, user_id: int) -> dict[int, Child]:
    """The pupils ``user_id`` may hear about: himself if a pupil, his confirmed wards."""
    rows = await session.execute(
        select(Pupil.id, User.first_name, User.last_name, SchoolClass.name)
        .join(User, User.id == Pupil.user_id)
        .join(SchoolClass, SchoolClass.id == Pupil.class_id)
        .outerjoin(
            Guardianship,
            and_(
                Guardianship.pupil_id == Pupil.id,
                Guardianship.guardian_id == user_id,
                Guardianship.status == "confirmed",
            ),
        )
        .where(or_(Pupil.user_id == user_id, Guardianship.id.is_not(None)))
    )
    return {pid: Child(pid, f"{first} {last}", cls) for pid, first, last, cls in rows}


def child_of(family: dict[int, Child], pupil_id: int | None, text: str) -> str | None:
    """Whom the notification is about. With a pupil: that child, if of this family. Without
    one (a timetable change tells a whole class): the family's children whose class the
    text names, e.g. «Изменение расписания 7А …»."""
    if pupil_id is not None:
        child = family.get(pupil_id)
        return child.label if child else None
    named = [
        c for c in family.values() if re.search(rf"(?<!\w){re.escape(c.class_name)}(?!\w)", text)
    ]
    return "; ".join(c.label for c in sorted(named, key=lambda c: c.name)) or None


def _names_class(text: str, class_name: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(class_name)}(?!\w)", text) is not None
