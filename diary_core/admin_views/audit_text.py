"""The audit log's details as an administrator reads them: Russian, names instead of ids.

A page of events is described with one query for all the names its events mention
(:func:`describe`, :mod:`~diary_core.admin_views.audit_names`): people, pupils, classes,
subjects, periods and work types, whatever rows they come from. Each event gets a short text
for the list and the full one (long topics, homework and comments are cut in the first,
whole in the second).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.admin_views.audit_names import ID_FIELDS, OBJECTS, Names, load_names, want
from diary_core.grading import ATTENDANCE_KINDS
from diary_core.roles import ROLE_TITLES, Role

#: How much of a long text (a topic, homework, a comment) the list shows.
SHORT = 80


_KIND_VALUES = {
    # announcements
    "general": "общее",
    "timetable_change": "изменение расписания",
    "parent_meeting": "родительское собрание",
    # timetable changes
    "substitution": "замена учителя",
    "cancellation": "отмена урока",
    "room_change": "смена кабинета",
    "moved": "перенос урока",
    # conversations
    "admin_question": "вопрос администрации",
    "direct": "личная переписка",
    "class": "переписка с классом",
}
_STATUS = {"confirmed": "подтверждена", "pending": "ожидает подтверждения", "rejected": "отклонена"}
_SOURCE = {"roster": "импорт списка", "esia": "Госуслуги", "manual": "вручную", "school": "школа"}
_HOW = {"trusted_snils": "по СНИЛС", "one_time_code": "по коду привязки"}
_RESULT = {"ok": "успешно", "not_modified": "без изменений"}
_ATTENDANCE = {code: f"«{code}» ({meaning}(а))" for code, meaning in ATTENDANCE_KINDS.items()}

#: Labels of the plain detail fields (anything not described more specially below).
_LABELS = {
    "name": "название",
    "roles": "роли",
    "kind": "вид",
    "status": "статус",
    "source": "источник",
    "how": "способ",
    "participants": "участников",
    "conversation_id": "переписка №",
    "reason": "причина",
    "file": "файл",
    "year": "учебный год",
    "rows": "строк в файле",
    "classes_created": "создано классов",
    "count": "количество",
    "valid_from": "действует с",
    "slots": "уроков в неделю",
    "date": "дата",
    "lesson_number": "урок №",
    "teacher_id": "учитель",
    "class_id": "класс",
    "subject_id": "предмет",
    "period_id": "период",
    "pupil_id": "ученик",
    "user_id": "учётная запись",
    "pupil_ids": "ученики",
    "result": "результат",
    "format": "формат",
    "from": "с",
    "to": "по",
    "claimed_client": "клиент",
    "scopes": "права",
    "esia_oid": "идентификатор ЕСИА",
    "cursor": "курсор",
    "next_cursor": "следующий курсор",
    "limit": "не более",
    "seed": "зерно генератора",
    "pupils": "ученики",
    "teachers": "учителя",
    "parents": "родители",
    "guardianships": "связи «родитель — ребёнок»",
    "marks": "отметки",
    "audience": "кому",
    "replaced": "заменяет расписание №",
    "notified": "уведомлено",
}
_AUDIENCE = {
    "school": "вся школа",
    "staff": "сотрудники",
    "grade": "параллель",
    "class": "класс",
    "classes": "несколько классов",
}
#: Detail fields never shown: internal, or (the demo generator's accounts) not for this page.
_HIDDEN = {"esia", "accounts"}


_NUMBERED = {
    "announcement": "объявление №",
    "conversation": "переписка №",
    "message": "сообщение №",
    "timetable": "расписание №",
    "timetable_change": "изменение расписания №",
    "assignment": "назначение №",
    "guardianship": "связь №",
}


def _cut(text: str, limit: int | None) -> str:
    text = " ".join(text.split()) if limit is not None else text
    if limit is not None and len(text) > limit:
        return text[: limit - 1].rstrip() + "…"
    return text


def _quote(text: str, limit: int | None) -> str:
    return f"«{_cut(text, limit)}»" if text else "пусто"


def _day(raw: object) -> str:
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw).strftime("%d.%m.%Y")
        except ValueError:
            return raw
    return str(raw)


def _counts(value: dict[str, Any]) -> str:
    """An import's counts: «добавлено 0, обновлено 12, без изменений 3»."""
    if {"created", "updated", "unchanged"} <= value.keys():
        return (
            f"добавлено {value['created']}, обновлено {value['updated']}, "
            f"без изменений {value['unchanged']}"
        )
    return ", ".join(f"{_LABELS.get(k, k)}: {_value(k, v, Names())}" for k, v in value.items())


def _value(key: str, value: Any, names: Names) -> str:
    if key in ID_FIELDS:
        return names.get(ID_FIELDS[key], value)
    if key == "pupil_ids":
        return ", ".join(names.get("pupil", p) for p in value or ()) or "нет"
    if key == "roles":
        titles = []
        for r in value or ():
            try:
                titles.append(ROLE_TITLES[Role(r)])
            except ValueError:
                titles.append(str(r))
        return ", ".join(titles)
    if key == "kind":
        return _KIND_VALUES.get(str(value), str(value))
    if key == "status" and isinstance(value, str):
        return _STATUS.get(value, value)
    if key == "source":
        return _SOURCE.get(str(value), str(value))
    if key == "audience":
        return _AUDIENCE.get(str(value), str(value))
    if key == "how":
        return _HOW.get(str(value), str(value))
    if key == "result":
        return _RESULT.get(str(value), f"отказ ({value})")
    if key in ("date", "valid_from", "from", "to"):
        return _day(value)
    if isinstance(value, dict):
        return _counts(value)
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if value is None:
        return "—"
    return str(value)


def _mark(
    old: dict[str, Any] | None, new: dict[str, Any] | None, names: Names, limit: int | None
) -> list[str]:
    last = new or old or {}
    parts = [names.get("subject", last.get("subject_id")), _day(last.get("date"))]
    if new and not old:
        parts.append(names.get("work_type", new.get("work_type_id")))
        parts.append(f"«{new.get('value')}», вес {new.get('weight')}")
        if not new.get("counts", True):
            parts.append("не учитывается в среднем")
        if new.get("comment"):
            parts.append(f"комментарий {_quote(str(new['comment']), limit)}")
        return parts
    if old and not new:
        parts.append(f"«{old.get('value')}» → удалена")
        return parts
    assert old is not None and new is not None
    if old.get("value") != new.get("value"):
        parts.append(f"«{old.get('value')}» → «{new.get('value')}»")
    else:
        parts.append(f"«{new.get('value')}»")
    if old.get("weight") != new.get("weight"):
        parts.append(f"вес {old.get('weight')} → {new.get('weight')}")
    if old.get("counts") != new.get("counts"):
        parts.append("учитывается в среднем" if new.get("counts") else "не учитывается в среднем")
    if old.get("comment") != new.get("comment"):
        parts.append(
            f"комментарий {_quote(str(old.get('comment') or ''), limit)} → "
            f"{_quote(str(new.get('comment') or ''), limit)}"
        )
    return parts


def _attendance(old: dict[str, Any] | None, new: dict[str, Any] | None, names: Names) -> list[str]:
    last = new or old or {}
    parts = [
        names.get("subject", last.get("subject_id")),
        f"{_day(last.get('date'))}, {last.get('lesson_number')}-й урок",
    ]
    was = _ATTENDANCE.get(str(old.get("kind")), str(old.get("kind"))) if old else "был(а)"
    now = _ATTENDANCE.get(str(new.get("kind")), str(new.get("kind"))) if new else "был(а)"
    parts.append(f"{was} → {now}" if old else now)
    return parts


def _period_mark(old: dict[str, Any] | None, new: dict[str, Any] | None, names: Names) -> list[str]:
    last = new or old or {}
    parts = [
        names.get("subject", last.get("subject_id")),
        names.get("period", last.get("period_id")),
    ]
    if old and new:
        parts.append(f"«{old.get('value')}» → «{new.get('value')}»")
    elif new:
        parts.append(f"«{new.get('value')}»")
    elif old:
        parts.append(f"«{old.get('value')}» → удалена")
    return parts


def _lesson(details: dict[str, Any], names: Names, limit: int | None) -> list[str]:
    return [
        names.get("class", details.get("class_id")),
        names.get("subject", details.get("subject_id")),
        f"{_day(details.get('date'))}, {details.get('lesson_number')}-й урок",
        f"{_quote(str(details.get('old') or ''), limit)} → "
        f"{_quote(str(details.get('new') or ''), limit)}",
    ]


def _import(details: dict[str, Any]) -> list[str]:
    parts = []
    if details.get("file"):
        parts.append(f"файл «{details['file']}»")
    if details.get("year"):
        parts.append(f"учебный год {details['year']}")
    if "rows" in details:
        parts.append(f"строк в файле: {details['rows']}")
    if details.get("classes_created"):
        parts.append(f"создано классов: {details['classes_created']}")
    for key in ("pupils", "parents", "guardianships", "marks"):
        value = details.get(key)
        if isinstance(value, dict):
            parts.append(f"{_LABELS[key]}: {_counts(value)}")
    for key in ("created", "updated", "unchanged"):
        if key in details and not any(isinstance(v, dict) for v in details.values()):
            return [*parts, _counts(details)]
    return parts


def _plain(
    object_type: str, object_id: str, details: dict[str, Any], names: Names, limit: int | None
) -> list[str]:
    parts = []
    if object_type == "pupil":
        pass  # the pupil has a column of his own
    elif object_type in OBJECTS and object_id:
        kind, title = OBJECTS[object_type]
        parts.append(f"{title}: {names.get(kind, object_id)}")
    elif object_type in _NUMBERED and object_id:
        parts.append(f"{_NUMBERED[object_type]} {object_id}")
    for key, value in details.items():
        if key in _HIDDEN or value is None:
            continue
        label = _LABELS.get(key, key.replace("_", " "))
        text = _value(key, value, names)
        parts.append(f"{label}: {_cut(text, limit)}" if limit else f"{label}: {text}")
    return parts


def describe_one(
    action: str, object_type: str, object_id: str, details: dict[str, Any], names: Names,
    limit: int | None,
) -> str:  # fmt: skip
    """One event's details in Russian; ``limit`` cuts long texts (None: whole)."""
    old, new = details.get("old"), details.get("new")
    entity = action.rsplit(".", 1)[0]
    if entity in ("mark", "attendance", "period_mark") and (
        isinstance(old, dict) or isinstance(new, dict)
    ):
        o = old if isinstance(old, dict) else None
        n = new if isinstance(new, dict) else None
        if entity == "mark":
            parts = _mark(o, n, names, limit)
        elif entity == "attendance":
            parts = _attendance(o, n, names)
        else:
            parts = _period_mark(o, n, names)
        if details.get("reason"):
            parts.append(f"причина: {_quote(str(details['reason']), limit)}")
        return "; ".join(p for p in parts if p)
    if action in ("lesson.topic", "lesson.homework"):
        return "; ".join(_lesson(details, names, limit))
    if action.endswith(".import"):
        return "; ".join(_import(details))
    return "; ".join(_plain(object_type, object_id, details, names, limit))


@dataclass(frozen=True)
class Described:
    short: str
    full: str


async def describe(
    session: AsyncSession, events: Sequence[tuple[str, str, str, dict[str, Any]]]
) -> list[Described]:
    """``(action, object_type, object_id, details)`` of a page of events, described with one
    query for every name they mention."""
    names = Names()
    for _, object_type, object_id, details in events:
        want(names, object_type, object_id, details)
    await load_names(session, names)
    out = []
    for action, object_type, object_id, details in events:
        full = describe_one(action, object_type, object_id, details, names, None)
        short = describe_one(action, object_type, object_id, details, names, SHORT)
        out.append(Described(short, full))
    return out


def action_choices(actions: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The filter's choices, as ``(code, phrase)`` sorted by phrase."""
    return tuple(sorted(actions, key=lambda a: a[1]))
