"""Writing to the append-only audit log (access to personal data, and every change)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Insert, bindparam, insert, literal, null, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from diary_core.models import AuditEvent
from diary_core.policy import Actor
from diary_core.unnest import unnest

#: Every action the log records, as the administrator reads it: a Russian phrase, the actor
#: its subject («Иванова А. П. исправил(а) отметку»). The audit log's filter offers these.
ACTIONS: dict[str, str] = {
    # marks, attendance, period marks (one event per change-log entry, see record_change)
    "mark.create": "поставил(а) отметку",
    "mark.update": "исправил(а) отметку",
    "mark.delete": "удалил(а) отметку",
    "attendance.create": "отметил(а) посещаемость",
    "attendance.update": "исправил(а) отметку посещаемости",
    "attendance.delete": "снял(а) отметку посещаемости",
    "period_mark.create": "выставил(а) итоговую отметку",
    "period_mark.update": "исправил(а) итоговую отметку",
    "period_marks.lock": "закрыл(а) итоговые отметки",
    "period_marks.unlock": "открыл(а) итоговую отметку",
    # lessons
    "lesson.topic": "изменил(а) тему урока",
    "lesson.homework": "изменил(а) домашнее задание",
    # timetable
    "timetable.set": "составил(а) недельное расписание",
    "timetable.publish": "опубликовал(а) расписание",
    "timetable.change": "изменил(а) расписание на дату",
    # school structure and people
    "school.create": "создал(а) школу",
    "year.create": "создал(а) учебный год",
    "period.dates": "изменил(а) даты периода",
    "class.create": "создал(а) класс",
    "class.set_teacher": "назначил(а) классного руководителя",
    "subject.create": "добавил(а) предмет",
    "assignment.create": "назначил(а) учителя на предмет в классе",
    "user.create": "создал(а) учётную запись",
    "user.disable": "отключил(а) учётную запись",
    "user.enable": "включил(а) учётную запись",
    "credentials.issue": "выдал(а) логин и пароль",
    "password.change": "сменил(а) пароль",
    "link_code.issue": "выдал(а) код привязки Госуслуг",
    "esia.link": "связал(а) учётную запись с Госуслугами",
    "pupil.enroll": "зачислил(а) ученика",
    "guardianship.create": "связал(а) родителя с ребёнком",
    "guardianship.confirm": "подтвердил(а) родителя",
    "guardianship.reject": "отклонил(а) родителя",
    "roster.import": "импортировал(а) список учеников",
    "marks.import": "импортировал(а) отметки",
    # communication
    "announcement.create": "опубликовал(а) объявление",
    "announcement.read": "прочитал(а) объявление",
    "announcement.receipts": "просмотрел(а), кто прочитал объявление",
    "announcement.edit": "исправил(а) объявление",
    "announcement.expire": "снял(а) объявление с показа",
    "conversation.start": "начал(а) переписку",
    "conversation.read": "прочитал(а) переписку",
    "message.post": "написал(а) сообщение",
    "notification.read": "прочитал(а) уведомления",
    # reads of personal data
    "pupil.marks.read": "просмотрел(а) отметки ученика",
    "pupil.attendance.read": "просмотрел(а) посещаемость ученика",
    "gradebook.read": "просмотрел(а) журнал класса",
    "class.roster.read": "просмотрел(а) список класса",
    "mark.history.read": "просмотрел(а) историю отметки",
    "period_marks.view": "просмотрел(а) итоговые отметки класса",
    "audit.read": "просмотрел(а) журнал действий по ученику",
    "personal_data.export": "выгрузил(а) персональные данные",
    # the state services portal (a machine client)
    "portal.token": "получил токен доступа",
    "portal.progress.read": "запросил успеваемость ученика",
    "portal.guardian.read": "запросил детей родителя",
    "portal.changes.read": "запросил ленту изменений",
}

#: The demonstration data generator's own events: shown in Russian where they appear, never
#: offered as a filter (they are not something an administrator looks for).
SERVICE_ACTIONS: dict[str, str] = {
    "demo.generate": "создал(а) демонстрационные данные",
    "demo.structure": "создал(а) структуру демонстрационной школы",
}


def phrase(action: str) -> str:
    """The Russian phrase for an action code (never the code itself)."""
    return ACTIONS.get(action) or SERVICE_ACTIONS.get(action) or "выполнил(а) действие"


def _add(
    session: AsyncSession,
    actor_kind: str,
    actor_id: int | None,
    action: str,
    at: datetime,
    school_id: int | None,
    pupil_id: int | None,
    object_type: str,
    object_id: object,
    details: dict[str, Any],
) -> None:
    session.add(
        AuditEvent(
            at=at,
            actor_kind=actor_kind,
            actor_id=actor_id,
            action=action,
            school_id=school_id,
            pupil_id=pupil_id,
            object_type=object_type,
            object_id=str(object_id),
            details=details,
        )
    )


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
    _add(
        session,
        "system" if actor.system else "user",
        None if actor.system else actor.user_id,
        action,
        at,
        school_id,
        pupil_id,
        object_type,
        object_id,
        details,
    )


def record_change(
    session: AsyncSession,
    *,
    school_id: int,
    pupil_id: int,
    entity: str,
    entity_id: int,
    action: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    actor_id: int | None,
    at: datetime,
    reason: str = "",
) -> None:
    """The audit event of one change of a mark, attendance record or period mark
    (``<entity>.<create|update|delete>``), in the caller's transaction: written by
    :func:`diary_core.changes.log_change` beside the change-log entry, so no single write
    of those records escapes the log. Authored by nobody (``actor_id`` None): the operator."""
    details: dict[str, Any] = {"old": old, "new": new}
    if reason:
        details["reason"] = reason
    _add(
        session,
        "user" if actor_id is not None else "system",
        actor_id,
        f"{entity}.{action}",
        at,
        school_id,
        pupil_id,
        entity,
        entity_id,
        details,
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
#: each of its parameters as an array (:func:`diary_core.unnest.unnest`), named alike.
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
