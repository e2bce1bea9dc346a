"""Loading the access policy's records (who is asking, whom he targets) from the database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.errors import NotFound
from diary_core.models import Guardianship, Pupil, SchoolClass, TeachingAssignment, User, UserRole
from diary_core.policy import Actor, PupilPlace, UserTarget
from diary_core.roles import STAFF_ROLES, Role


@dataclass(frozen=True)
class Account:
    """An account as sign-in checks see it: active or not, its school and its roles."""

    is_active: bool
    school_id: int | None
    roles: frozenset[Role]


async def account_of(session: AsyncSession, user_id: int) -> Account | None:
    """The account and its roles in one query (a request's hot path); None if unknown."""
    rows = (
        await session.execute(
            select(User.is_active, User.school_id, UserRole.role)
            .outerjoin(UserRole, UserRole.user_id == User.id)
            .where(User.id == user_id)
        )
    ).all()
    if not rows:
        return None
    roles = frozenset(Role(r.role) for r in rows if r.role is not None)
    return Account(rows[0].is_active, rows[0].school_id, roles)


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


async def _children(session: AsyncSession, user_id: int) -> frozenset[PupilPlace]:
    rows = await session.execute(
        select(Pupil.id, Pupil.school_id, Pupil.class_id)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .where(Guardianship.guardian_id == user_id, Guardianship.status == "confirmed")
    )
    return frozenset(PupilPlace(r.id, r.school_id, r.class_id) for r in rows)


async def _teaching(
    session: AsyncSession, user_id: int
) -> tuple[frozenset[tuple[int, int]], frozenset[int]]:
    taught = await session.execute(
        select(TeachingAssignment.class_id, TeachingAssignment.subject_id).where(
            TeachingAssignment.teacher_id == user_id
        )
    )
    led = await session.scalars(
        select(SchoolClass.id).where(SchoolClass.class_teacher_id == user_id)
    )
    return frozenset((r.class_id, r.subject_id) for r in taught), frozenset(led)


async def load_actor(session: AsyncSession, user_id: int) -> Actor:
    """The actor for an account; a disabled or unknown account is :class:`NotFound`.

    Teaching assignments and led classes are read for staff only: the policy consults them
    only for staff (``Actor.staff_of``), so a family account skips those two queries."""
    account = await account_of(session, user_id)
    if account is None or not account.is_active:
        raise NotFound("учётная запись не найдена")
    roles = account.roles
    no_classes: tuple[frozenset[tuple[int, int]], frozenset[int]] = (frozenset(), frozenset())
    taught, led = await _teaching(session, user_id) if roles & STAFF_ROLES else no_classes
    return Actor(
        user_id=user_id,
        roles=roles,
        school_id=account.school_id,
        taught=taught,
        led_classes=led,
        own_pupil=await _own_pupil(session, user_id) if Role.PUPIL in roles else None,
        children=await _children(session, user_id) if Role.PARENT in roles else frozenset(),
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
