"""The audit log in Russian: every action code the code records has a phrase, and the details
of the events read as sentences with names (no ids, dicts or codes)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from diary_core import audit
from diary_core.admin_views.audit_names import Names
from diary_core.admin_views.audit_text import describe_one

ROOT = Path(__file__).resolve().parents[2]

#: Calls whose argument names an audit action: the function and the argument's position.
_ACTION_ARG = {"record": 2, "record_portal": 2, "portal_event": 1, "_audit_staff_read": 1}


def _strings(node: ast.AST, constants: dict[str, str]) -> set[str]:
    """Every action an argument can be: literals, both sides of ``a if c else b``, module
    constants, and ``f"{kind}.import"`` (the import kinds)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body, constants) | _strings(node.orelse, constants)
    if isinstance(node, ast.Name) and node.id in constants:
        return {constants[node.id]}
    if isinstance(node, ast.JoinedStr):
        tail = "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
        if tail == ".import":
            return {"roster.import", "marks.import"}
    return set()


def recorded_actions() -> set[str]:
    found: set[str] = set()
    for path in [*ROOT.glob("diary_core/**/*.py"), *ROOT.glob("gateway/**/*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            t.id: n.value.value
            for n in tree.body
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
            and isinstance(n.value.value, str)
            for t in n.targets
            if isinstance(t, ast.Name)
        }  # fmt: skip
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "serve" and len(node.args) > 1:  # the portal's requests
                found |= _strings(node.args[1], constants)
            position = _ACTION_ARG.get(name)
            if position is None or len(node.args) <= position:
                continue
            if name == "record" and not (
                isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "audit"
            ):
                continue
            found |= _strings(node.args[position], constants)
    found.discard("")
    return found


def test_every_recorded_action_has_a_russian_phrase() -> None:
    actions = recorded_actions()
    assert {"timetable.publish", "marks.import", "demo.generate", "portal.token"} <= actions
    missing = sorted(actions - set(audit.ACTIONS) - set(audit.SERVICE_ACTIONS))
    assert missing == []
    # the change log's own events (diary_core.changes.log_change → audit.record_change)
    for entity, changes in (
        ("mark", ("create", "update", "delete")),
        ("attendance", ("create", "update", "delete")),
        ("period_mark", ("create", "update")),  # a period mark is never deleted
    ):
        for change in changes:
            assert f"{entity}.{change}" in audit.ACTIONS
    assert {"lesson.topic", "lesson.homework"} <= set(audit.ACTIONS)  # diary_core.lessons
    for phrase in [*audit.ACTIONS.values(), *audit.SERVICE_ACTIONS.values()]:
        assert phrase and not any("a" <= ch <= "z" for ch in phrase.lower()), phrase


def test_service_actions_are_not_filter_choices() -> None:
    assert not [a for a in audit.ACTIONS if a.startswith("demo.")]
    assert audit.phrase("demo.structure") == "создал(а) структуру демонстрационной школы"
    assert audit.phrase("no.such.action") == "выполнил(а) действие"


def _names(**found: str) -> Names:
    names = Names()
    for key, value in found.items():
        kind, _, number = key.rpartition("_")
        names.found[(kind, int(number))] = value
    return names


def test_import_counts_read_as_a_sentence() -> None:
    details = {
        "file": "ученики.csv",
        "year": "2025/2026",
        "rows": 15,
        "classes_created": 0,
        "pupils": {"created": 0, "updated": 12, "unchanged": 3},
        "parents": {"created": 2, "updated": 0, "unchanged": 1},
        "guardianships": {"created": 2, "updated": 0, "unchanged": 0},
    }
    text = describe_one("roster.import", "import", "", details, Names(), 80)
    assert "ученики: добавлено 0, обновлено 12, без изменений 3" in text
    assert "родители: добавлено 2, обновлено 0, без изменений 1" in text
    assert "{" not in text and "created" not in text


@pytest.mark.parametrize(
    ("action", "object_type", "object_id", "details", "expected"),
    [
        ("class.set_teacher", "class", "5", {"teacher_id": 261},
         "класс: 5А; учитель: Числова Мария"),
        ("timetable.publish", "timetable", "3", {"class_id": 5, "valid_from": "2025-09-01"},
         "расписание № 3; класс: 5А; действует с: 01.09.2025"),
        ("gradebook.read", "class", "5", {"subject_id": 7, "period_id": 1},
         "класс: 5А; предмет: Математика; период: 1 четверть"),
        ("user.create", "user", "261", {"roles": ["teacher", "class_teacher"]},
         "учётная запись: Числова Мария; роли: учитель, классный руководитель"),
        ("class.set_teacher", "class", "99", {"teacher_id": 404},
         "класс: удалённый класс; учитель: удалённая учётная запись"),
        ("announcement.create", "announcement", "8",
         {"kind": "parent_meeting", "class_id": None, "audience": "grade"},
         "объявление № 8; вид: родительское собрание; кому: параллель"),
        ("timetable.publish", "timetable", "3",
         {"class_id": 5, "valid_from": "2025-09-01", "replaced": None, "notified": 12},
         "расписание № 3; класс: 5А; действует с: 01.09.2025; уведомлено: 12"),
    ],
)  # fmt: skip
def test_ids_become_names(
    action: str, object_type: str, object_id: str, details: dict[str, object], expected: str
) -> None:
    names = _names(
        user_261="Числова Мария", class_5="5А", subject_7="Математика", period_1="1 четверть"
    )
    text = describe_one(action, object_type, object_id, details, names, 80)
    assert text == expected
    assert "#" not in text and "_id" not in text


def test_long_texts_are_cut_in_the_list_and_whole_in_full() -> None:
    homework = "Решить задачи " + ", ".join(f"№ {n}" for n in range(1, 60))
    details = {
        "class_id": 5, "subject_id": 7, "date": "2025-10-13", "lesson_number": 2,
        "old": "", "new": homework,
    }  # fmt: skip
    names = _names(class_5="5А", subject_7="Математика")
    short = describe_one("lesson.homework", "lesson", "1", details, names, 80)
    full = describe_one("lesson.homework", "lesson", "1", details, names, None)
    assert short.startswith("5А; Математика; 13.10.2025, 2-й урок; пусто → «Решить задачи № 1")
    assert short.endswith("…»") and homework not in short
    assert full.endswith(f"пусто → «{homework}»")
