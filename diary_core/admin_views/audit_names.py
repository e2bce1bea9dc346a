"""The names the audit log's events mention (people, pupils, classes, subjects, periods and
work types), wanted event by event and then read for a whole page in one query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Executable, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.models import Period, Pupil, SchoolClass, Subject, User, WorkType

#: The kinds of object an event names, by the table their names come from.
KINDS = ("user", "pupil", "class", "subject", "period", "work_type")


#: Fields that hold an id, and the kind of object it names.
ID_FIELDS = {
    "teacher_id": "user",
    "class_id": "class",
    "subject_id": "subject",
    "period_id": "period",
    "pupil_id": "pupil",
    "user_id": "user",
}
#: Objects named by ``object_type``/``object_id``, and how the text introduces them.
OBJECTS = {
    "user": ("user", "учётная запись"),
    "pupil": ("pupil", "ученик"),
    "class": ("class", "класс"),
    "subject": ("subject", "предмет"),
    "period": ("period", "период"),
}


@dataclass
class Names:
    """Names by kind and id, filled by one query (:func:`load_names`)."""

    wanted: dict[str, set[int]] = field(default_factory=lambda: {k: set() for k in KINDS})
    found: dict[tuple[str, int], str] = field(default_factory=dict)

    def want(self, kind: str, raw: object) -> None:
        number = _as_id(raw)
        if number is not None:
            self.wanted[kind].add(number)

    def get(self, kind: str, raw: object) -> str:
        number = _as_id(raw)
        if number is None:
            return "—"
        return self.found.get((kind, number)) or _MISSING[kind]


_MISSING = {
    "user": "удалённая учётная запись",
    "pupil": "выбывший ученик",
    "class": "удалённый класс",
    "subject": "удалённый предмет",
    "period": "удалённый период",
    "work_type": "удалённый вид работы",
}


def _as_id(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    return None


async def load_names(session: AsyncSession, names: Names) -> None:
    """Every wanted name in one ``UNION ALL`` query (none when nothing is wanted)."""
    parts: list[Any] = []  # one SELECT per kind wanted

    def person(kind: str, ids: set[int], id_col: Any) -> Any:
        return select(
            literal(kind).label("kind"),
            id_col.label("id"),
            User.last_name.label("a"),
            User.first_name.label("b"),
            User.middle_name.label("c"),
        ).where(id_col.in_(sorted(ids)))

    def named(kind: str, ids: set[int], id_col: Any, name_col: Any) -> Any:
        return select(
            literal(kind).label("kind"),
            id_col.label("id"),
            name_col.label("a"),
            literal("").label("b"),
            literal("").label("c"),
        ).where(id_col.in_(sorted(ids)))

    w = names.wanted
    if w["user"]:
        parts.append(person("user", w["user"], User.id))
    if w["pupil"]:
        parts.append(
            select(
                literal("pupil").label("kind"),
                Pupil.id.label("id"),
                User.last_name.label("a"),
                User.first_name.label("b"),
                User.middle_name.label("c"),
            )
            .join(User, User.id == Pupil.user_id)
            .where(Pupil.id.in_(sorted(w["pupil"])))
        )
    columns: tuple[tuple[str, Any, Any], ...] = (
        ("class", SchoolClass.id, SchoolClass.name),
        ("subject", Subject.id, Subject.name),
        ("period", Period.id, Period.name),
        ("work_type", WorkType.id, WorkType.name),
    )
    for kind, id_col, name_col in columns:
        if w[kind]:
            parts.append(named(kind, w[kind], id_col, name_col))
    if not parts:
        return
    stmt: Executable = parts[0] if len(parts) == 1 else union_all(*parts)
    for row in await session.execute(stmt):
        text = " ".join(p for p in (row.a, row.b, row.c) if p)
        names.found[(row.kind, int(row.id))] = text


# --- wanting: which names an event mentions ------------------------------------------------


def want(names: Names, object_type: str, object_id: str, details: dict[str, Any]) -> None:
    if object_type in OBJECTS:
        names.want(OBJECTS[object_type][0], object_id)
    for key, kind in ID_FIELDS.items():
        if key in details:
            names.want(kind, details[key])
    for pupil_id in details.get("pupil_ids") or ():
        names.want("pupil", pupil_id)
    for snapshot in (details.get("old"), details.get("new")):
        if isinstance(snapshot, dict):
            names.want("subject", snapshot.get("subject_id"))
            names.want("period", snapshot.get("period_id"))
            names.want("work_type", snapshot.get("work_type_id"))
