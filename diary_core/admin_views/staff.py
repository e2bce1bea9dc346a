"""The administrator's view of his school's staff: roles, sign-in state, what each leads."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.context import Ctx
from diary_core.models import ExternalIdentity, SchoolClass, User, UserRole
from diary_core.policy import Action, SchoolTarget
from diary_core.roles import STAFF_ROLES, Role


@dataclass(frozen=True)
class StaffMember:
    """One staff account as the administrator sees it (never its password hash)."""

    id: int
    full_name: str
    roles: tuple[Role, ...]
    login: str | None
    has_password: bool
    must_change_password: bool
    esia_linked: bool
    is_active: bool
    led_classes: tuple[str, ...]

    @property
    def short_name(self) -> str:
        return short_name(self.full_name)


def short_name(full_name: str) -> str:
    """``Иванова Анна Петровна`` → ``Иванова А. П.``."""
    last, *rest = full_name.split()
    return " ".join([last, *(f"{p[0]}." for p in rest)])


_ROLE_ORDER = (Role.ADMINISTRATOR, Role.CLASS_TEACHER, Role.TEACHER)


async def _roles(session: AsyncSession, user_ids: list[int]) -> dict[int, set[Role]]:
    rows = await session.execute(
        select(UserRole.user_id, UserRole.role).where(
            UserRole.user_id.in_(user_ids), UserRole.role.in_(STAFF_ROLES)
        )
    )
    out: dict[int, set[Role]] = {}
    for r in rows:
        out.setdefault(r.user_id, set()).add(Role(r.role))
    return out


async def _led(session: AsyncSession, school_id: int) -> dict[int, list[str]]:
    rows = await session.execute(
        select(SchoolClass.class_teacher_id, SchoolClass.name)
        .where(SchoolClass.school_id == school_id, SchoolClass.class_teacher_id.is_not(None))
        .order_by(SchoolClass.grade, SchoolClass.name)
    )
    out: dict[int, list[str]] = {}
    for r in rows:
        out.setdefault(r.class_teacher_id, []).append(r.name)
    return out


async def staff_list(ctx: Ctx, school_id: int, *, active_only: bool = False) -> list[StaffMember]:
    """The school's staff by name, with roles and sign-in state (``MANAGE_SCHOOL``)."""
    ctx.require(Action.MANAGE_SCHOOL, SchoolTarget(school_id))
    return await staff_rows(ctx.session, school_id, active_only=active_only)


async def staff_rows(
    session: AsyncSession, school_id: int, *, active_only: bool = False
) -> list[StaffMember]:
    """Unchecked: for callers that have already asked the policy about this school."""
    is_staff = exists().where(UserRole.user_id == User.id, UserRole.role.in_(STAFF_ROLES))
    linked = exists().where(ExternalIdentity.user_id == User.id)
    query = select(User, linked.label("linked")).where(User.school_id == school_id, is_staff)
    if active_only:
        query = query.where(User.is_active)
    rows = list(await session.execute(query.order_by(User.last_name, User.first_name, User.id)))
    roles = await _roles(session, [r.User.id for r in rows])
    led = await _led(session, school_id)
    return [
        StaffMember(
            id=r.User.id,
            full_name=r.User.full_name,
            roles=tuple(x for x in _ROLE_ORDER if x in roles.get(r.User.id, set())),
            login=r.User.login,
            has_password=r.User.password_hash is not None,
            must_change_password=r.User.must_change_password,
            esia_linked=bool(r.linked),
            is_active=r.User.is_active,
            led_classes=tuple(led.get(r.User.id, [])),
        )
        for r in rows
    ]
