"""Writing to the append-only audit log (access to personal data, and every change)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Insert, bindparam, insert, literal, null, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from diary_core.driver import unnest
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


#: An access by the state services portal, as one plain INSERT built once (see
#: :func:`portal_event`); its bound parameters are named ``audit_*``.
PORTAL_EVENT = insert(AuditEvent).values(
    at=bindparam("audit_at", type_=AuditEvent.at.type),
    actor_kind="portal",
    actor_id=None,
    actor_label=bindparam("audit_label", type_=AuditEvent.actor_label.type),
    action=bindparam("audit_action", type_=AuditEvent.action.type),
    school_id=bindparam("audit_school", type_=AuditEvent.school_id.type),
    pupil_id=bindparam("audit_pupil", type_=AuditEvent.pupil_id.type),
    object_type=bindparam("audit_object_type", type_=AuditEvent.object_type.type),
    object_id=bindparam("audit_object_id", type_=AuditEvent.object_id.type),
    details=bindparam("audit_details", type_=AuditEvent.details.type),
)

#: :data:`PORTAL_EVENT`'s parameters and the columns they fill.
_PORTAL_COLUMNS = {
    "audit_at": "at",
    "audit_label": "actor_label",
    "audit_action": "action",
    "audit_school": "school_id",
    "audit_pupil": "pupil_id",
    "audit_object_type": "object_type",
    "audit_object_id": "object_id",
    "audit_details": "details",
}
PORTAL_EVENT_PARAMS = tuple(_PORTAL_COLUMNS)


def _portal_events() -> Insert:
    table = AuditEvent.__table__
    rows = unnest({name: table.c[column].type for name, column in _PORTAL_COLUMNS.items()})
    values = select(
        *(rows.c[name] for name in _PORTAL_COLUMNS), literal("portal", table.c.actor_kind.type),
        null(),
    ).order_by(rows.c.n)  # fmt: skip
    return insert(AuditEvent).from_select(
        [*_PORTAL_COLUMNS.values(), "actor_kind", "actor_id"], values
    )


#: Any number of :data:`PORTAL_EVENT`\ s in one statement (PostgreSQL), in the order given:
#: each of its parameters as an array (:func:`diary_core.driver.unnest`), named alike.
PORTAL_EVENTS = _portal_events()


def portal_event(
    client_label: str,
    action: str,
    at: datetime,
    *,
    school_id: int | None = None,
    pupil_id: int | None = None,
    **details: Any,
) -> tuple[Insert, dict[str, Any]]:
    """An access by the state services portal (a machine client, not a user): the statement
    and its parameters, for the caller to run in the transaction of the access it records
    (alone, or on PostgreSQL together with that transaction's other writes)."""
    return PORTAL_EVENT, {
        "audit_at": at,
        "audit_label": client_label,
        "audit_action": action,
        "audit_school": school_id,
        "audit_pupil": pupil_id,
        "audit_object_type": "pupil" if pupil_id else "",
        "audit_object_id": str(pupil_id or ""),
        "audit_details": details,
    }


async def record_portal(
    db: AsyncSession | AsyncConnection,
    client_label: str,
    action: str,
    at: datetime,
    *,
    school_id: int | None = None,
    pupil_id: int | None = None,
    **details: Any,
) -> None:
    """Write :func:`portal_event` in the caller's transaction."""
    stmt, params = portal_event(
        client_label, action, at, school_id=school_id, pupil_id=pupil_id, **details
    )
    await db.execute(stmt, params)
