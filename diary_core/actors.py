"""Loading the access policy's records (who is asking, whom he targets) from the database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, bindparam, null, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from diary_core.errors import NotFound
from diary_core.models import Guardianship, Pupil, SchoolClass, TeachingAssignment, User, UserRole
from diary_core.policy import Actor, PupilPlace, UserTarget
from diary_core.roles import STAFF_ROLES, Role

# Built once: a request's hot path pays neither for building nor for the cache key.
_OWN = aliased(Pupil, name="own_pupil")
_CHILD = aliased(Pupil, name="child")
_ACCOUNT = (
    # The account, its roles, the pupil's own enrolment and the confirmed children, in one
    # statement: one row per role × child (a family has a handful), every part outer-joined.
    select(
        User.is_active,
        User.school_id,
        UserRole.role,
        _OWN.id,
        _OWN.school_id,
        _OWN.class_id,
        _CHILD.id,
        _CHILD.school_id,
        _CHILD.class_id,
    )
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .outerjoin(_OWN, _OWN.user_id == User.id)
    .outerjoin(
        Guardianship,
        and_(Guardianship.guardian_id == User.id, Guardianship.status == "confirmed"),
    )
    .outerjoin(_CHILD, _CHILD.id == Guardianship.pupil_id)
    .where(User.id == bindparam("user_id"))
)
_TEACHING = (
    # Teaching assignments (class, subject) and led classes (class, NULL) in one statement.
    select(TeachingAssignment.class_id, TeachingAssignment.subject_id)
    .where(TeachingAssignment.teacher_id == bindparam("user_id"))
    .union_all(
        select(SchoolClass.id, null()).where(SchoolClass.class_teacher_id == bindparam("user_id"))
    )
)


async def roles_of(session: AsyncSession, user_id: int) -> frozenset[Role]:
    rows = await session.scalars(select(UserRole.role).where(UserRole.user_id == user_id))
    return frozenset(Role(r) for r in rows)


async def _own_pupil(session: AsyncSession, user_id: int) -> PupilPlace | None:
    row = (
        await session.execute(
            select(Pupil.id, Pupil.school_id, Pupil.class_id).where(Pupil.user_id == user_id)
        )
    ).first()
    return PupilPlace(row.id, row.school_id, row.class_id) if row else None


async def _teaching(
    session: AsyncSession, user_id: int
) -> tuple[frozenset[tuple[int, int]], frozenset[int]]:
    """(class, subject) pairs the user teaches, and the classes he is class teacher of."""
    taught: set[tuple[int, int]] = set()
    led: set[int] = set()
    for class_id, subject_id in await session.execute(_TEACHING, {"user_id": user_id}):
        if subject_id is None:
            led.add(class_id)
        else:
            taught.add((class_id, subject_id))
    return frozenset(taught), frozenset(led)


def _place(row: Sequence[Any]) -> PupilPlace | None:
    return PupilPlace(*row) if row[0] is not None else None


async def load_actor(session: AsyncSession, user_id: int) -> Actor:
    """The actor for an account; a disabled or unknown account is :class:`NotFound`.

    A family account is one statement; staff add one for teaching assignments and led
    classes, which the policy consults only for staff (``Actor.staff_of``)."""
    rows = (await session.execute(_ACCOUNT, {"user_id": user_id})).all()
    if not rows or not rows[0][0]:
        raise NotFound("учётная запись не найдена")
    roles = frozenset(Role(r[2]) for r in rows if r[2] is not None)
    no_classes: tuple[frozenset[tuple[int, int]], frozenset[int]] = (frozenset(), frozenset())
    taught, led = await _teaching(session, user_id) if roles & STAFF_ROLES else no_classes
    own = _place(rows[0][3:6])  # a user is at most one pupil: the same on every row
    children = {place for r in rows if (place := _place(r[6:9]))}
    return Actor(
        user_id=user_id,
        roles=roles,
        school_id=rows[0][1],
        taught=taught,
        led_classes=led,
        own_pupil=own if Role.PUPIL in roles else None,
        children=frozenset(children) if Role.PARENT in roles else frozenset(),
    )


async def load_user_target(session: AsyncSession, user_id: int) -> UserTarget:
    """Another account as the policy sees it; unknown accounts are :class:`NotFound`."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("пользователь не найден")
    roles = await roles_of(session, user_id)
    places: set[PupilPlace] = set()
    if Role.PUPIL in roles and (own := await _own_pupil(session, user_id)):
        places.add(own)
    if Role.PARENT in roles:
        places |= await _all_children(session, user_id)
    taught, led = await _teaching(session, user_id)
    return UserTarget(
        user_id=user_id,
        roles=roles,
        school_id=user.school_id,
        family_places=frozenset(places),
        taught_classes=frozenset(c for c, _ in taught) | led,
    )


async def _all_children(session: AsyncSession, user_id: int) -> set[PupilPlace]:
    """Children of any guardianship status: a class teacher issues credentials to a parent
    whose link is still pending (from the roster) too."""
    rows = await session.execute(
        select(Pupil.id, Pupil.school_id, Pupil.class_id)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .where(Guardianship.guardian_id == user_id, Guardianship.status != "rejected")
    )
    return {PupilPlace(r.id, r.school_id, r.class_id) for r in rows}
