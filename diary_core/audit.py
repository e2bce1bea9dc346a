"""Writing to the append-only audit log (access to personal data, and every change)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.models import AuditEvent
from diary_core.policy import Actor


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    at: datetime,
    *,
    school_id: int | None = None,
    pupil_id: int | None = None,
    object_type: str = "",
    object_id: object = "",
    **details: Any,
) -> None:
    """Add an audit event to the caller's transaction: it is written exactly when the
    change it describes is, and never without it."""
    session.add(
        AuditEvent(
            at=at,
            actor_kind="system" if actor.system else "user",
            actor_id=None if actor.system else actor.user_id,
            action=action,
            school_id=school_id,
            pupil_id=pupil_id,
            object_type=object_type,
            object_id=str(object_id),
            details=details,
        )
    )


def record_portal(
    session: AsyncSession,
    client_label: str,
    action: str,
    at: datetime,
    *,
    school_id: int | None = None,
    pupil_id: int | None = None,
    **details: Any,
) -> None:
    """An access by the state services portal (a machine client, not a user)."""
    session.add(
        AuditEvent(
            at=at,
            actor_kind="portal",
            actor_label=client_label,
            action=action,
            school_id=school_id,
            pupil_id=pupil_id,
            object_type="pupil" if pupil_id else "",
            object_id=str(pupil_id or ""),
            details=details,
        )
    )
