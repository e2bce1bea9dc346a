"""The demo accounts people try the demo with (an administrator, a teacher, a class teacher,
a parent and a pupil, with a known password), and the ESIA test persons the emulator offers
for the demo school.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core import accounts
from diary_core.demo import names
from diary_core.demo.identities import PersonRole
from diary_core.demo.life import Cast
from diary_core.demo.structure import Built
from diary_core.models import (
    User,
)
from diary_core.roles import Role

DEMO_PASSWORD = "demo-password-2025"  # noqa: S105 — published on purpose: demo accounts only


DEMO_LOGINS: dict[str, Role] = {
    "admin": Role.ADMINISTRATOR,
    "teacher": Role.TEACHER,
    "classteacher": Role.CLASS_TEACHER,
    "parent": Role.PARENT,
    "pupil": Role.PUPIL,
}


@dataclass(frozen=True)
class DemoAccount:
    login: str
    password: str
    role: str  # a Role value
    full_name: str


def demo_people(b: Built, cast: Cast) -> dict[str, tuple[int, str]]:
    plan = b.plan
    ct = plan.classes[cast.focus_class].class_teacher
    assert ct is not None
    return {
        "admin": (b.deputy_id, plan.deputy.full_name),
        "teacher": (b.teacher_ids[cast.teacher], plan.teachers[cast.teacher].person.full_name),
        "classteacher": (b.teacher_ids[ct], plan.teachers[ct].person.full_name),
        "parent": (cast.parent, _parent_name(b, cast)),
        "pupil": (b.pupil_user_ids[cast.child], plan.pupils[cast.child].person.full_name),
    }


def _parent_name(b: Built, cast: Cast) -> str:
    family = b.plan.families[b.plan.pupils[cast.child].family]
    return next(p.full_name for p in family.parents if b.user_id_of(p) == cast.parent)


async def set_passwords(session: AsyncSession, people: dict[str, tuple[int, str]]) -> None:
    """Only the demo accounts get a password (argon2 is slow by design): a known one, not a
    one-time password, so people can try the demo at once."""
    params = [
        {"uid": uid, "login": login, "hash": accounts.hash_password(DEMO_PASSWORD)}
        for login, (uid, _) in people.items()
    ]
    table = cast(Table, User.__table__)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("uid"))
        .values(
            login=bindparam("login"), password_hash=bindparam("hash"), must_change_password=False
        )
    )
    await session.execute(stmt, params)


def esia_roles(b: Built, cast: Cast, rng: Random) -> list[PersonRole]:
    """The demo parent (trusted, his two children); a trusted roster parent; an untrusted
    one; a parent whose ESIA children include one the roster does not back; a pupil of the
    ninth grade with his own account; the guardian whose ESIA link is pending."""
    plan = b.plan

    def kids(family: int) -> tuple[int, ...]:
        return tuple(b.pupil_user_ids[p] for p in plan.families[family].pupils)

    demo_family = plan.pupils[cast.child].family
    busy = {demo_family}
    if plan.pending_pupil is not None:
        busy.add(plan.pupils[plan.pending_pupil].family)
    pool = [i for i, f in enumerate(plan.families) if f.parents and i not in busy]
    trusted, untrusted, extra = rng.sample(pool, 3)
    stranger = rng.choice(
        [p for p in range(len(plan.pupils)) if plan.pupils[p].family not in (extra, *busy)]
    )
    oldest = max(c.grade for c in plan.classes)
    senior = rng.choice(
        [p for p, pp in enumerate(plan.pupils) if plan.classes[pp.class_index].grade == oldest]
    )
    notes = names.ESIA_NOTES

    def parent_of(family: int) -> int:
        return b.user_id_of(plan.families[family].parents[0])

    stranger_id = b.pupil_user_ids[stranger]
    roles = [
        PersonRole(cast.parent, True, kids(demo_family), notes["demo_parent"]),
        PersonRole(parent_of(trusted), True, kids(trusted), notes["trusted"]),
        PersonRole(parent_of(untrusted), False, kids(untrusted), notes["untrusted"]),
        PersonRole(parent_of(extra), True, (*kids(extra), stranger_id), notes["extra_kid"]),
        PersonRole(b.pupil_user_ids[senior], True, (), notes["pupil"]),
    ]
    if b.extra_parent_id is not None and b.pending_pupil is not None:
        pending_kid = (b.pupil_user_ids[b.pending_pupil],)
        roles.append(PersonRole(b.extra_parent_id, True, pending_kid, notes["pending"]))
    return roles


async def demo_accounts(session: AsyncSession) -> list[DemoAccount]:
    users = {
        u.login: u for u in await session.scalars(select(User).where(User.login.in_(DEMO_LOGINS)))
    }
    return [
        DemoAccount(login, DEMO_PASSWORD, role.value, users[login].full_name)
        for login, role in DEMO_LOGINS.items()
        if login in users
    ]
