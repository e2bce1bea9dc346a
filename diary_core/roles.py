"""The roles of docs/regulation.md, clause 1.5."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMINISTRATOR = "administrator"  # director / deputy director
    TEACHER = "teacher"  # subject teacher
    CLASS_TEACHER = "class_teacher"
    PARENT = "parent"  # legal representative
    PUPIL = "pupil"


STAFF_ROLES = frozenset({Role.ADMINISTRATOR, Role.TEACHER, Role.CLASS_TEACHER})
FAMILY_ROLES = frozenset({Role.PARENT, Role.PUPIL})

ROLE_TITLES = {
    Role.ADMINISTRATOR: "администратор",
    Role.TEACHER: "учитель",
    Role.CLASS_TEACHER: "классный руководитель",
    Role.PARENT: "родитель",
    Role.PUPIL: "обучающийся",
}
