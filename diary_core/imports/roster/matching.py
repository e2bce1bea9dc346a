"""Checking a roster file against the database, in a few bulk reads: the classes, people and
guardianships it names that already exist, and the rows that contradict them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from diary_core.context import Ctx
from diary_core.imports.common import (
    select_in_chunks,
    table,
)
from diary_core.imports.csvfile import Errors
from diary_core.imports.roster.file import RosterFile
from diary_core.models import AcademicYear, Guardianship, Pupil, SchoolClass, User, UserRole

USERS = table(User)
PUPILS = table(Pupil)
ROLES = table(UserRole)
LINKS = table(Guardianship)
CLASSES = table(SchoolClass)


@dataclass
class Known:
    """What the database already holds for the people and classes of the file."""

    classes: dict[str, int]
    users: dict[str, Any]  # SNILS → users row
    pupils: dict[int, Any]  # users.id → pupils row (user_id, id, school_id, class_id)
    roles: dict[int, set[str]]
    links: dict[tuple[int, int], str]  # (guardian user id, pupil id) → status


async def load_known(ctx: Ctx, school_id: int, year: AcademicYear, roster: RosterFile) -> Known:
    session = ctx.session
    result = await session.execute(
        select(SchoolClass.name, SchoolClass.id).where(
            SchoolClass.school_id == school_id, SchoolClass.year_id == year.id
        )
    )
    classes: dict[str, int] = dict(result.all())
    snils = list(roster.pupils.keys() | roster.parents.keys())
    # Single-table reads by indexed keys: right after a big import the planner's statistics
    # are stale, and a join could then turn into a nested loop over whole tables.
    user_rows = await select_in_chunks(
        session, lambda part: select(USERS).where(USERS.c.snils.in_(part)), snils
    )
    users = {r.snils: r for r in user_rows}
    user_ids = [r.id for r in user_rows]
    enrolled = await select_in_chunks(
        session,
        lambda part: select(
            PUPILS.c.user_id, PUPILS.c.id, PUPILS.c.school_id, PUPILS.c.class_id
        ).where(PUPILS.c.user_id.in_(part)),
        user_ids,
    )
    pupils = {r.user_id: r for r in enrolled}
    roles: dict[int, set[str]] = {}
    for user_id, role in await select_in_chunks(
        session,
        lambda part: select(ROLES.c.user_id, ROLES.c.role).where(ROLES.c.user_id.in_(part)),
        user_ids,
    ):
        roles.setdefault(user_id, set()).add(role)
    link_rows = await select_in_chunks(
        session,
        lambda part: select(LINKS.c.guardian_id, LINKS.c.pupil_id, LINKS.c.status).where(
            LINKS.c.pupil_id.in_(part)
        ),
        [r.id for r in enrolled],
    )
    links = {(g, p): status for g, p, status in link_rows}
    return Known(classes, users, pupils, roles, links)


def check_against(
    roster: RosterFile,
    known: Known,
    school_id: int,
    year: AcademicYear,
    create: bool,
    errors: Errors,
) -> None:
    if not create:
        for snils, pupil in roster.pupils.items():
            if pupil.class_name not in known.classes:
                errors.add(
                    roster.first_line[snils],
                    "class",
                    f"класса {pupil.class_name} нет в учебном году {year.name}",
                )
    for snils in roster.pupils:
        user = known.users.get(snils)
        if user is None:
            continue
        enrolment = known.pupils.get(user.id)
        if enrolment is None:
            reason = "этот СНИЛС уже принадлежит другому пользователю (не обучающемуся)"
        elif enrolment.school_id != school_id:
            reason = "этот СНИЛС принадлежит обучающемуся другой школы"
        else:
            continue
        errors.add(roster.first_line[snils], "pupil_snils", reason)
    for snils in roster.parents:
        user = known.users.get(snils)
        if user is not None and user.id in known.pupils:
            errors.add(
                roster.first_line[snils], "parent_snils", "этот СНИЛС принадлежит обучающемуся"
            )
