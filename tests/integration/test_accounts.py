"""docs/regulation.md, clauses 3.1 and 6.2: who issues whose credentials; one-time passwords and
link codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher, extract_parameters
from argon2 import Type as Argon2Type
from sqlalchemy import select

from diary_core import accounts, families, school
from diary_core.errors import Forbidden, InvalidInput, NotFound
from diary_core.models import AuditEvent, OneTimeCode, User
from diary_core.roles import Role
from tests.support.world import World


async def test_administrator_issues_staff_credentials(world: World) -> None:
    ctx = await world.ctx(world.admin_a)
    issued = await accounts.issue_credentials(ctx, world.teacher_math)
    assert issued.login == "chislova.m"
    assert len(issued.one_time_password) >= 12
    user = await world.session.get(User, world.teacher_math)
    assert user is not None and user.must_change_password
    assert issued.one_time_password not in (user.password_hash or "")


async def test_password_hash_is_argon2id_with_at_least_19_mib_and_2_passes(world: World) -> None:
    ctx = await world.ctx(world.admin_a)
    await accounts.issue_credentials(ctx, world.teacher_math)
    user = await world.session.get(User, world.teacher_math)
    assert user is not None and user.password_hash
    params = extract_parameters(user.password_hash)
    assert params.type is Argon2Type.ID
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2


async def test_class_teacher_issues_credentials_to_parents_and_pupils_of_his_class(
    world: World,
) -> None:
    ctx = await world.ctx(world.ct_5a)
    parent = await accounts.issue_credentials(ctx, world.parent_a1)
    pupil = await accounts.issue_credentials(ctx, world.pupil_a1_user)
    assert parent.login != pupil.login


async def test_class_teacher_cannot_issue_to_other_class_families(world: World) -> None:
    ctx = await world.ctx(world.ct_5a)
    with pytest.raises((Forbidden, NotFound)):
        await accounts.issue_credentials(ctx, world.parent_b1)
    user = await world.session.get(User, world.parent_b1)
    assert user is not None and user.password_hash is None


async def test_class_teacher_cannot_issue_staff_credentials(world: World) -> None:
    ctx = await world.ctx(world.ct_5a)
    with pytest.raises(Forbidden):
        await accounts.issue_credentials(ctx, world.teacher_math)


async def test_administrator_does_not_issue_family_credentials(world: World) -> None:
    """docs/regulation.md, clause 3.1: parents and pupils get theirs from the class teacher."""
    ctx = await world.ctx(world.admin_a)
    with pytest.raises(Forbidden):
        await accounts.issue_credentials(ctx, world.parent_a1)


async def test_other_schools_administrator_cannot_issue(world: World) -> None:
    ctx = await world.ctx(world.admin_b)
    with pytest.raises(NotFound):
        await accounts.issue_credentials(ctx, world.teacher_math)


async def test_one_time_password_forces_change_at_first_sign_in(world: World) -> None:
    ctx = await world.ctx(world.admin_a)
    issued = await accounts.issue_credentials(ctx, world.teacher_math)
    result = await accounts.authenticate(ctx, issued.login, issued.one_time_password)
    assert result is not None and result.must_change_password
    teacher = await world.ctx(world.teacher_math)
    await accounts.change_password(teacher, issued.one_time_password, "новый-пароль-2025")
    again = await accounts.authenticate(ctx, issued.login, "новый-пароль-2025")
    assert again is not None and not again.must_change_password
    assert await accounts.authenticate(ctx, issued.login, issued.one_time_password) is None


async def test_reissuing_invalidates_the_previous_password(world: World) -> None:
    ctx = await world.ctx(world.admin_a)
    first = await accounts.issue_credentials(ctx, world.teacher_math)
    second = await accounts.issue_credentials(ctx, world.teacher_math)
    assert first.login == second.login
    assert await accounts.authenticate(ctx, first.login, first.one_time_password) is None
    assert await accounts.authenticate(ctx, second.login, second.one_time_password) is not None


@pytest.mark.parametrize(
    ("new", "reason"),
    [("short", "не короче"), ("aaaaaaaaaaaa", "простой"), ("chislova.m-2025!", "логин")],
)
async def test_weak_new_password_is_refused(world: World, new: str, reason: str) -> None:
    ctx = await world.ctx(world.admin_a)
    issued = await accounts.issue_credentials(ctx, world.teacher_math)
    teacher = await world.ctx(world.teacher_math)
    with pytest.raises(InvalidInput, match=reason):
        await accounts.change_password(teacher, issued.one_time_password, new)


async def test_wrong_password_and_unknown_login_both_fail(world: World) -> None:
    ctx = await world.ctx(world.admin_a)
    issued = await accounts.issue_credentials(ctx, world.teacher_math)
    assert await accounts.authenticate(ctx, issued.login, "wrong-password") is None
    assert await accounts.authenticate(ctx, "no.such.login", "wrong-password") is None


async def test_disabled_account_cannot_sign_in(world: World) -> None:
    ctx = await world.ctx(world.admin_a)
    issued = await accounts.issue_credentials(ctx, world.teacher_math)
    user = await world.session.get(User, world.teacher_math)
    assert user is not None
    user.is_active = False
    assert await accounts.authenticate(ctx, issued.login, issued.one_time_password) is None


async def test_old_parameter_hash_is_upgraded_at_sign_in(world: World) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    user = await world.session.get(User, world.teacher_math)
    assert user is not None
    user.login, user.password_hash = "legacy", weak.hash("старый-пароль-1")
    ctx = await world.ctx()
    assert await accounts.authenticate(ctx, "legacy", "старый-пароль-1") is not None
    params = extract_parameters(user.password_hash)
    assert (params.time_cost, params.memory_cost) == (2, 19 * 1024)


async def test_link_code_is_stored_hashed_single_use_and_expires(world: World) -> None:
    ct = await world.ctx(world.ct_5a)
    code = await accounts.issue_link_code(ct, world.parent_a1)
    stored = await world.session.scalar(select(OneTimeCode))
    assert stored is not None and code not in stored.code_hash
    assert stored.expires_at == world.clock.now() + accounts.LINK_CODE_TTL
    anyone = await world.ctx()
    user = await accounts.redeem_link_code(anyone, code.lower())
    assert user.id == world.parent_a1
    with pytest.raises(InvalidInput, match="недействителен"):
        await accounts.redeem_link_code(anyone, code)


async def test_expired_link_code_is_refused(world: World) -> None:
    ct = await world.ctx(world.ct_5a)
    code = await accounts.issue_link_code(ct, world.parent_a1)
    world.clock.advance(accounts.LINK_CODE_TTL + timedelta(seconds=1))  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput, match="недействителен"):
        await accounts.redeem_link_code(await world.ctx(), code)


async def test_new_link_code_replaces_the_old_one(world: World) -> None:
    ct = await world.ctx(world.ct_5a)
    old = await accounts.issue_link_code(ct, world.parent_a1)
    new = await accounts.issue_link_code(ct, world.parent_a1)
    with pytest.raises(InvalidInput):
        await accounts.redeem_link_code(await world.ctx(), old)
    assert (await accounts.redeem_link_code(await world.ctx(), new)).id == world.parent_a1


async def test_issuing_is_audited(world: World) -> None:
    ctx = await world.ctx(world.admin_a)
    await accounts.issue_credentials(ctx, world.teacher_math)
    await world.session.flush()
    event = await world.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "credentials.issue")
    )
    assert event is not None
    assert (event.actor_id, event.object_id) == (world.admin_a, str(world.teacher_math))


async def test_only_own_schools_administrator_creates_staff(world: World) -> None:
    ctx = await world.ctx(world.admin_b)
    with pytest.raises(NotFound):
        await accounts.create_staff(ctx, world.a.id, last_name="Новый", first_name="Учитель")
    own = await accounts.create_staff(
        await world.ctx(world.admin_a), world.a.id, last_name="Новый", first_name="Учитель"
    )
    assert own.school_id == world.a.id


async def test_other_school_cannot_assign_its_teacher_here(world: World) -> None:
    ctx = await world.ctx(world.admin_a)
    with pytest.raises(NotFound):
        await school.assign_teacher(ctx, world.class_5a, world.math_a, world.teacher_b)


async def test_class_teacher_confirms_pending_guardianship(world: World) -> None:
    ct = await world.ctx(world.ct_5a)
    (pending,) = await families.pending_guardianships(ct, world.class_5a)
    await families.decide_guardianship(ct, pending.guardianship_id, accept=True)
    parent = await world.actor(world.parent_pending)
    assert {p.pupil_id for p in parent.children} == {world.pupil_a1}


async def test_other_class_teacher_cannot_confirm_guardianship(world: World) -> None:
    ct = await world.ctx(world.ct_5a)
    (pending,) = await families.pending_guardianships(ct, world.class_5a)
    other = await world.ctx(world.ct_5b)  # may not even see a pupil of 5А
    with pytest.raises(NotFound):
        await families.decide_guardianship(other, pending.guardianship_id, accept=True)


async def test_parent_is_one_person_across_schools(world: World) -> None:
    """A parent with children in two schools is matched by SNILS, not duplicated."""
    parent = await world.session.get(User, world.parent_a1)
    assert parent is not None and parent.snils
    ctx = await world.ctx()
    again = await families.find_or_create_parent(
        ctx, families.PersonData("Смирнова", "Елена", snils=parent.snils)
    )
    await families.link_guardian(ctx, again.id, world.pupil_z1, source="roster", confirmed=True)
    assert again.id == world.parent_a1
    actor = await world.actor(world.parent_a1)
    assert {p.pupil_id for p in actor.children} == {world.pupil_a1, world.pupil_z1}
    assert Role.PARENT in actor.roles
