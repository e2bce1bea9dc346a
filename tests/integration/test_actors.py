"""Who is asking: the actor loaded for an account (diary_core.actors), on both databases.

The account, its roles, a pupil's own place and a parent's confirmed children come from one
statement whose rows are roles × children; each test names what the actor must hold."""

from __future__ import annotations

import pytest

from diary_core import accounts, families
from diary_core.actors import load_actor
from diary_core.errors import NotFound
from diary_core.models import User
from diary_core.policy import PupilPlace
from diary_core.roles import Role
from tests.support.world import World


def _place(world: World, pupil_id: int) -> PupilPlace:
    places = {
        world.pupil_a1: PupilPlace(world.pupil_a1, world.a.id, world.class_5a),
        world.pupil_a2: PupilPlace(world.pupil_a2, world.a.id, world.class_5a),
        world.pupil_b1: PupilPlace(world.pupil_b1, world.a.id, world.class_5b),
        world.pupil_z1: PupilPlace(world.pupil_z1, world.b.id, world.class_7a),
    }
    return places[pupil_id]


async def _link(world: World, parent: int, pupil: int, *, confirmed: bool) -> None:
    ctx = await world.ctx()
    source = "roster" if confirmed else "esia"
    await families.link_guardian(ctx, parent, pupil, source=source, confirmed=confirmed)
    await world.session.commit()


async def test_parent_reaches_only_confirmed_children(world: World) -> None:
    await _link(world, world.parent_a1, world.pupil_a2, confirmed=True)
    await _link(world, world.parent_a1, world.pupil_b1, confirmed=False)
    actor = await load_actor(world.session, world.parent_a1)
    assert actor.roles == {Role.PARENT}
    assert actor.children == {_place(world, world.pupil_a1), _place(world, world.pupil_a2)}
    assert (actor.own_pupil, actor.taught, actor.led_classes) == (None, set(), set())


async def test_parent_with_only_a_pending_link_has_no_children(world: World) -> None:
    actor = await load_actor(world.session, world.parent_pending)
    assert actor.roles == {Role.PARENT}
    assert actor.children == frozenset()


async def test_pupil_has_his_own_place_and_no_children(world: World) -> None:
    actor = await load_actor(world.session, world.pupil_a1_user)
    assert actor.roles == {Role.PUPIL}
    assert actor.own_pupil == _place(world, world.pupil_a1)
    assert actor.school_id == world.a.id
    assert actor.children == frozenset()


async def test_teacher_has_assignments_and_class_teacher_his_class(world: World) -> None:
    teacher = await load_actor(world.session, world.teacher_math)
    assert teacher.taught == {(world.class_5a, world.math_a), (world.class_5b, world.math_a)}
    assert teacher.led_classes == frozenset()
    class_teacher = await load_actor(world.session, world.ct_5a)
    assert class_teacher.taught == {(world.class_5a, world.russian_a)}
    assert class_teacher.led_classes == {world.class_5a}
    assert (class_teacher.school_id, class_teacher.children) == (world.a.id, frozenset())


async def test_staff_who_is_a_parent_holds_both_sides(world: World) -> None:
    """Several roles and several children: one actor, each role and child once."""
    ctx = await world.ctx()
    await accounts.add_role(ctx, world.ct_5a, Role.ADMINISTRATOR)
    await accounts.add_role(ctx, world.ct_5a, Role.PARENT)
    await world.session.commit()
    await _link(world, world.ct_5a, world.pupil_a2, confirmed=True)
    await _link(world, world.ct_5a, world.pupil_b1, confirmed=True)
    actor = await load_actor(world.session, world.ct_5a)
    assert actor.roles == {Role.TEACHER, Role.CLASS_TEACHER, Role.ADMINISTRATOR, Role.PARENT}
    assert actor.children == {_place(world, world.pupil_a2), _place(world, world.pupil_b1)}
    assert actor.taught == {(world.class_5a, world.russian_a)}
    assert actor.led_classes == {world.class_5a}


async def test_guardianship_without_the_parent_role_gives_no_children(world: World) -> None:
    await _link(world, world.teacher_math, world.pupil_b1, confirmed=True)
    actor = await load_actor(world.session, world.teacher_math)
    assert actor.roles == {Role.TEACHER}
    assert actor.children == frozenset()


async def test_disabled_and_unknown_accounts_are_not_actors(world: World) -> None:
    user = await world.session.get(User, world.parent_a1)
    assert user is not None
    user.is_active = False
    await world.session.commit()
    for user_id in (world.parent_a1, 10**9):
        with pytest.raises(NotFound):
            await load_actor(world.session, user_id)
