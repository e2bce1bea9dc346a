"""The access policy as a generated matrix: every role × every kind of object × relation.

Relations: own / other family / other class / other school (and, for accounts, the kinds of
people one may write to or issue credentials for). The expected answers are written out
here by hand from the regulation, independently of the policy's code; the test generates
one case per cell, so a rule that drifts fails with the cell's name.

The pure world:
- school 1: class 10 (the "own" class) and class 11; subjects 100 and 101;
- school 2: class 20, subject 200;
- pupils 1000 (own) and 1001 in class 10, 1002 in class 11, 2000 in class 20.
"""

from __future__ import annotations

import pytest

from diary_core.errors import Forbidden, NotFound
from diary_core.policy import (
    Action,
    Actor,
    ClassTarget,
    PupilPlace,
    PupilTarget,
    SchoolTarget,
    SubjectTarget,
    Target,
    UserTarget,
    allowed,
    require,
)
from diary_core.roles import Role

P_OWN = PupilPlace(1000, 1, 10)
P_SAME_CLASS = PupilPlace(1001, 1, 10)
P_OTHER_CLASS = PupilPlace(1002, 1, 11)
P_OTHER_SCHOOL = PupilPlace(2000, 2, 20)

ACTORS: dict[str, Actor] = {
    "administrator": Actor(1, frozenset({Role.ADMINISTRATOR}), school_id=1),
    "teacher": Actor(2, frozenset({Role.TEACHER}), school_id=1, taught=frozenset({(10, 100)})),
    "class_teacher": Actor(
        3, frozenset({Role.TEACHER, Role.CLASS_TEACHER}), school_id=1, led_classes=frozenset({10})
    ),
    "parent": Actor(4, frozenset({Role.PARENT}), children=frozenset({P_OWN})),
    "pupil": Actor(5, frozenset({Role.PUPIL}), school_id=1, own_pupil=P_OWN),
}
ROLES = list(ACTORS)


def _pupil(p: PupilPlace) -> PupilTarget:
    return PupilTarget(p.school_id, p.class_id, p.pupil_id)


def _parent_of(user_id: int, p: PupilPlace) -> UserTarget:
    return UserTarget(user_id, frozenset({Role.PARENT}), None, frozenset({p}))


def _teacher(user_id: int, school_id: int, classes: set[int], *roles: Role) -> UserTarget:
    return UserTarget(
        user_id, frozenset(roles or {Role.TEACHER}), school_id, frozenset(), frozenset(classes)
    )


OBJECTS: dict[str, dict[str, Target]] = {
    "pupil": {
        "own": _pupil(P_OWN),
        "other_family": _pupil(P_SAME_CLASS),
        "other_class": _pupil(P_OTHER_CLASS),
        "other_school": _pupil(P_OTHER_SCHOOL),
    },
    "class": {
        "own": ClassTarget(1, 10),
        "other_class": ClassTarget(1, 11),
        "other_school": ClassTarget(2, 20),
    },
    "class_subject": {
        "own": SubjectTarget(1, 10, 100),
        "other_subject": SubjectTarget(1, 10, 101),
        "other_class": SubjectTarget(1, 11, 100),
        "other_school": SubjectTarget(2, 20, 200),
    },
    "school": {"own": SchoolTarget(1), "other_school": SchoolTarget(2)},
    "account": {
        "own_family_parent": _parent_of(41, P_OWN),
        "other_family_parent": _parent_of(42, P_SAME_CLASS),
        "other_class_parent": _parent_of(43, P_OTHER_CLASS),
        "other_school_parent": _parent_of(44, P_OTHER_SCHOOL),
        "own_class_teacher": _teacher(51, 1, {10}),
        "other_class_teacher": _teacher(52, 1, {11}),
        "administrator": _teacher(53, 1, set(), Role.ADMINISTRATOR),
        "other_school_teacher": _teacher(54, 2, {20}),
        "own_class_pupil": UserTarget(61, frozenset({Role.PUPIL}), 1, frozenset({P_SAME_CLASS})),
    },
}

T, F = True, False

# (kind, action) → role → expected answer per relation, in OBJECTS[kind] order.
EXPECTED: dict[tuple[str, Action], dict[str, tuple[bool, ...]]] = {
    ("pupil", Action.READ_PUPIL): {
        "administrator": (T, T, T, F),
        "teacher": (T, T, F, F),
        "class_teacher": (T, T, F, F),
        "parent": (T, F, F, F),
        "pupil": (T, F, F, F),
    },
    ("pupil", Action.CONFIRM_GUARDIANSHIP): {
        "administrator": (F, F, F, F),
        "teacher": (F, F, F, F),
        "class_teacher": (T, T, F, F),
        "parent": (F, F, F, F),
        "pupil": (F, F, F, F),
    },
    ("class", Action.READ_CLASS): {
        "administrator": (T, T, F),
        "teacher": (T, T, F),
        "class_teacher": (T, T, F),
        "parent": (T, F, F),
        "pupil": (T, F, F),
    },
    ("class", Action.READ_DRAFT_TIMETABLE): {
        "administrator": (T, T, F),
        "teacher": (T, T, F),
        "class_teacher": (T, T, F),
        "parent": (F, F, F),
        "pupil": (F, F, F),
    },
    ("school", Action.ASK_ADMINISTRATION): {
        "administrator": (T, F),
        "teacher": (T, F),
        "class_teacher": (T, F),
        "parent": (T, F),
        "pupil": (T, F),
    },
    ("class", Action.READ_CLASS_ROSTER): {
        "administrator": (T, T, F),
        "teacher": (T, F, F),
        "class_teacher": (T, F, F),
        "parent": (F, F, F),
        "pupil": (F, F, F),
    },
    **{
        ("class", action): {
            "administrator": (T, T, F),
            "teacher": (F, F, F),
            "class_teacher": (T, F, F),
            "parent": (F, F, F),
            "pupil": (F, F, F),
        }
        for action in (Action.CHANGE_TIMETABLE, Action.ANNOUNCE, Action.PUBLISH_TIMETABLE)
    },
    **{
        ("class_subject", action): {
            "administrator": (F, F, F, F),
            "teacher": (T, F, F, F),
            "class_teacher": (F, F, F, F),
            "parent": (F, F, F, F),
            "pupil": (F, F, F, F),
        }
        for action in (Action.WRITE_MARKS, Action.EDIT_LESSON)
    },
    ("class_subject", Action.READ_GRADEBOOK): {
        "administrator": (T, T, T, F),
        "teacher": (T, F, F, F),
        "class_teacher": (T, T, F, F),
        "parent": (F, F, F, F),
        "pupil": (F, F, F, F),
    },
    ("class_subject", Action.WRITE_PERIOD_MARKS): {
        "administrator": (T, T, T, F),
        "teacher": (T, F, F, F),
        "class_teacher": (F, F, F, F),
        "parent": (F, F, F, F),
        "pupil": (F, F, F, F),
    },
    **{
        ("school", action): {
            "administrator": (T, F),
            "teacher": (F, F),
            "class_teacher": (F, F),
            "parent": (F, F),
            "pupil": (F, F),
        }
        for action in (
            Action.MANAGE_SCHOOL,
            Action.LOCK_PERIOD_MARKS,
            Action.READ_AUDIT,
            Action.READ_REPLY_DASHBOARD,
            Action.ANNOUNCE,
            Action.PUBLISH_TIMETABLE,
        )
    },
    # account order: own_family_parent, other_family_parent, other_class_parent,
    # other_school_parent, own_class_teacher, other_class_teacher, administrator,
    # other_school_teacher, own_class_pupil
    ("account", Action.MESSAGE): {
        "administrator": (T, T, T, F, T, T, T, F, T),
        "teacher": (T, T, T, F, T, T, T, F, T),
        "class_teacher": (T, T, T, F, T, T, T, F, T),
        "parent": (F, F, F, F, T, F, T, F, F),
        "pupil": (F, F, F, F, T, F, F, F, F),
    },
    ("account", Action.ISSUE_CREDENTIALS): {
        "administrator": (F, F, F, F, T, T, T, F, F),
        "teacher": (F, F, F, F, F, F, F, F, F),
        "class_teacher": (T, T, F, F, F, F, F, F, T),
        "parent": (F, F, F, F, F, F, F, F, F),
        "pupil": (F, F, F, F, F, F, F, F, F),
    },
}


def _cases() -> list[pytest.param]:  # type: ignore[valid-type]
    cases = []
    for (kind, action), by_role in EXPECTED.items():
        assert set(by_role) == set(ROLES), f"{kind}/{action}: every role must be listed"
        relations = list(OBJECTS[kind])
        for role, answers in by_role.items():
            assert len(answers) == len(relations), f"{kind}/{action}/{role}: one per relation"
            for relation, expected in zip(relations, answers, strict=True):
                cases.append(
                    pytest.param(
                        role,
                        action,
                        kind,
                        relation,
                        expected,
                        id=f"{role}-{action}-{kind}-{relation}",
                    )
                )
    return cases


@pytest.mark.parametrize(("role", "action", "kind", "relation", "expected"), _cases())
def test_access_matrix(role: str, action: Action, kind: str, relation: str, expected: bool) -> None:
    assert allowed(ACTORS[role], action, OBJECTS[kind][relation]) is expected


def test_every_action_is_covered_by_the_matrix() -> None:
    assert {action for _, action in EXPECTED} == set(Action)


def test_actions_that_do_not_apply_to_an_object_kind_are_refused() -> None:
    """Fail closed: an action on a kind of object it is not defined for is never allowed."""
    defined = set(EXPECTED)
    for kind, targets in OBJECTS.items():
        for action in Action:
            if (kind, action) in defined:
                continue
            for role, actor in ACTORS.items():
                for target in targets.values():
                    assert not allowed(actor, action, target), (role, action, kind)


def test_other_familys_pupil_is_not_found_not_forbidden() -> None:
    """A parent cannot even learn that another family's pupil exists."""
    with pytest.raises(NotFound):
        require(ACTORS["parent"], Action.READ_PUPIL, OBJECTS["pupil"]["other_family"])


def test_visible_but_not_allowed_is_forbidden() -> None:
    with pytest.raises(Forbidden):
        require(ACTORS["parent"], Action.CHANGE_TIMETABLE, OBJECTS["class"]["own"])


def test_one_schools_administrator_cannot_touch_another_school() -> None:
    admin = ACTORS["administrator"]
    for targets in OBJECTS.values():
        for name, target in targets.items():
            if "other_school" not in name:
                continue
            assert not any(allowed(admin, action, target) for action in Action), name


def test_parent_with_only_pending_link_sees_nothing() -> None:
    """Children reach a parent's Actor only through confirmed links (see actors.py)."""
    parent = Actor(7, frozenset({Role.PARENT}))
    assert not allowed(parent, Action.READ_PUPIL, OBJECTS["pupil"]["own"])


def test_role_without_its_flag_gives_no_reach() -> None:
    """Children on an actor who is not a parent (e.g. a removed role) give him nothing."""
    not_parent = Actor(8, frozenset({Role.TEACHER}), school_id=2, children=frozenset({P_OWN}))
    assert not allowed(not_parent, Action.READ_PUPIL, OBJECTS["pupil"]["own"])
