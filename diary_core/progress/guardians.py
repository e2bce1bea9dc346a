"""The confirmed children of a parent known by his ESIA identity, as the portal may see them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from diary_core.errors import NotFound
from diary_core.models import ExternalIdentity, Guardianship, Pupil, User
from diary_core.policy import PortalReader, PortalScope, portal_may_read, require_portal
from diary_core.progress.model import PupilInfo
from diary_core.progress.statements import pupil_info_of, pupils_query

#: Both refusals say the same: a client cannot tell an unknown parent from one whose children
#: are all out of its reach.
_NOT_FOUND = "нет родителя с такой учётной записью ЕСИА и с детьми"


@dataclass(frozen=True)
class GuardianPupils:
    guardian_user_id: int
    pupils: tuple[PupilInfo, ...]


async def guardian_pupils(
    session: AsyncSession | AsyncConnection, reader: PortalReader, esia_oid: str
) -> GuardianPupils:
    """The confirmed children of the parent whose ESIA identity (oid) is linked to an
    account, those of the schools the reader serves; pending links are left out. NotFound
    alike when no account is linked to that oid and when none of his children is in the
    reader's reach; Forbidden without ``progress.read``."""
    require_portal(reader, PortalScope.READ_PROGRESS)
    user_id = await session.scalar(
        select(ExternalIdentity.user_id).where(
            ExternalIdentity.provider == "esia", ExternalIdentity.subject == esia_oid
        )
    )
    if user_id is None:
        raise NotFound(_NOT_FOUND)
    rows = await session.execute(
        pupils_query()
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .where(Guardianship.guardian_id == user_id, Guardianship.status == "confirmed")
        .order_by(User.last_name, User.first_name, Pupil.id)
    )
    pupils = [pupil_info_of(r) for r in rows]
    visible = tuple(p for p in pupils if portal_may_read(reader, p.place))
    if not visible:
        raise NotFound(_NOT_FOUND)
    return GuardianPupils(user_id, visible)
