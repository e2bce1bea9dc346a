"""The test world builds on both databases, and the accounts it makes behave as issued."""

from __future__ import annotations

from sqlalchemy import func, select

from diary_core.models import AuditEvent, Guardianship, Pupil
from diary_core.roles import Role
from tests.support.world import World


async def test_world_builds_with_roles_and_links(world: World) -> None:
    actor = await world.actor(world.ct_5a)
    assert actor.roles == {Role.TEACHER, Role.CLASS_TEACHER}
    assert actor.led_classes == {world.class_5a}
    parent = await world.actor(world.parent_a1)
    assert {p.pupil_id for p in parent.children} == {world.pupil_a1}
    pending = await world.actor(world.parent_pending)
    assert pending.children == frozenset()
    pupils = await world.session.scalar(select(func.count()).select_from(Pupil))
    assert pupils == 4
    links = await world.session.scalar(select(func.count()).select_from(Guardianship))
    assert links == 5
    assert await world.session.scalar(select(func.count()).select_from(AuditEvent)) > 10
