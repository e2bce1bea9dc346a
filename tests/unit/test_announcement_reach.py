"""The policy's announcement reach (docs/regulation.md, clause 2.3): staff-only announcements are
never a family's, a grade's reach is through a parent's children only, and one role's reach does
not leak into another's."""

from __future__ import annotations

from diary_core.policy import Actor, PupilPlace, announcement_reach
from diary_core.roles import Role

KID = PupilPlace(pupil_id=1, school_id=10, class_id=100)
OTHER_KID = PupilPlace(pupil_id=2, school_id=20, class_id=200)


def test_a_parent_reaches_his_childrens_schools_classes_and_grades() -> None:
    parent = Actor(user_id=5, roles=frozenset({Role.PARENT}), children=frozenset({KID, OTHER_KID}))
    reach = announcement_reach(parent)
    assert reach.schools == {10, 20}
    assert reach.classes == {100, 200}
    assert reach.parent_classes == {100, 200}
    assert reach.staff_schools == frozenset()


def test_a_pupil_is_not_a_parent_of_his_grade() -> None:
    pupil = Actor(user_id=6, roles=frozenset({Role.PUPIL}), own_pupil=KID)
    reach = announcement_reach(pupil)
    assert reach.schools == {10} and reach.classes == {100}
    assert reach.parent_classes == frozenset() and reach.staff_schools == frozenset()


def test_staff_reach_their_school_its_staff_and_the_classes_they_teach() -> None:
    teacher = Actor(
        user_id=7,
        roles=frozenset({Role.TEACHER}),
        school_id=10,
        taught=frozenset({(100, 1)}),
        led_classes=frozenset({101}),
    )
    reach = announcement_reach(teacher)
    assert reach.schools == {10} and reach.staff_schools == {10}
    assert reach.classes == {100, 101}
    assert reach.parent_classes == frozenset()


def test_roles_without_their_flag_give_nothing() -> None:
    # children recorded but the parent role not held (acting as staff): no family reach
    acting_staff = Actor(user_id=8, roles=frozenset(), children=frozenset({KID}), own_pupil=KID)
    reach = announcement_reach(acting_staff)
    assert reach == announcement_reach(Actor(user_id=9, roles=frozenset()))
    assert reach.schools == frozenset() and reach.parent_classes == frozenset()
