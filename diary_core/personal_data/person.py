"""The person and family sections of a personal-data export: the account's profile (roles,
contacts, whether it is linked to Gosuslugi, never an ESIA identifier or a secret) and the
guardianship links the person is on either side of."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from diary_core.context import Ctx
from diary_core.models import ExternalIdentity, Guardianship, Pupil, User, UserRole
from diary_core.personal_data.rows import full_name, iso
from diary_core.roles import ROLE_TITLES, Role


async def profile(ctx: Ctx, user: User) -> dict[str, Any]:
    """The ``person`` section: the account's profile, roles and whether (since when) it is
    linked to Gosuslugi; no ESIA identifier, password or code hash."""
    roles = sorted(
        await ctx.session.scalars(select(UserRole.role).where(UserRole.user_id == user.id))
    )
    esia = list(
        await ctx.session.execute(
            select(ExternalIdentity.provider, ExternalIdentity.linked_at).where(
                ExternalIdentity.user_id == user.id
            )
        )
    )
    return {
        "id": user.id,
        "last_name": user.last_name,
        "first_name": user.first_name,
        "middle_name": user.middle_name,
        "birth_date": iso(user.birth_date),
        "snils": user.snils,
        "email": user.email,
        "phone": user.phone,
        "login": user.login,
        "active": user.is_active,
        "roles": [{"code": r, "title": ROLE_TITLES.get(Role(r), r)} for r in roles],
        "esia": {
            "linked": bool(esia),
            "linked_at": iso(min(at for _, at in esia)) if esia else None,
        },
    }


async def family_links(
    ctx: Ctx, user_id: int, schools: frozenset[int] | None
) -> list[dict[str, Any]]:
    """The guardianship links the person is on either side of: his children, his parents."""
    guardian = aliased(User)
    child = aliased(User)
    stmt = (
        select(
            Guardianship.status,
            Guardianship.source,
            Guardianship.guardian_id,
            guardian.last_name,
            guardian.first_name,
            guardian.middle_name,
            Pupil.id,
            Pupil.school_id,
            child.last_name,
            child.first_name,
            child.middle_name,
        )
        .join(guardian, guardian.id == Guardianship.guardian_id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .join(child, child.id == Pupil.user_id)
        .where(or_(Guardianship.guardian_id == user_id, Pupil.user_id == user_id))
        .order_by(Guardianship.id)
    )
    out = []
    for status, source, gid, gl, gf, gm, pid, school_id, cl, cf, cm in await ctx.session.execute(
        stmt
    ):
        if schools is not None and school_id not in schools:
            continue
        out.append(
            {
                "relation": "child" if gid == user_id else "parent",
                "status": status,
                "source": source,
                "guardian_id": gid,
                "guardian_name": full_name(gl, gf, gm),
                "pupil_id": pid,
                "pupil_name": full_name(cl, cf, cm),
            }
        )
    return out
