"""Announcements to a school or a class with read receipts (docs/regulation.md, clause 2.3), and
parent meetings announced by the class teacher (docs/regulation.md, clause 4.1)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from diary_core.announcements import announce, announcements_for, mark_read, read_receipts
from diary_core.clock import FixedClock
from diary_core.errors import Forbidden, InvalidInput, NotFound
from diary_core.models import Announcement, Notification, Pupil
from tests.support.world import World


async def pupil_a2_user(world: World) -> int:
    user_id = await world.session.scalar(select(Pupil.user_id).where(Pupil.id == world.pupil_a2))
    assert user_id is not None
    return user_id


async def sees(world: World, user_id: int) -> list[int]:
    return [a.id for a in await announcements_for(await world.ctx(user_id))]


async def class_news(
    world: World, kind: str = "general", expires_at: datetime | None = None
) -> int:
    ctx = await world.ctx(world.ct_5a)
    posted = await announce(
        ctx, "Экскурсия", "В пятницу едем в музей", kind, world.a.id, world.class_5a, expires_at
    )
    await world.session.commit()
    return posted.id


async def test_class_announcement_visible_to_class_families_only(world: World) -> None:
    ann = await class_news(world)
    audience = (
        world.parent_a1,
        world.parent_a2,
        world.pupil_a1_user,
        await pupil_a2_user(world),
        world.teacher_math,  # teaches 5А
        world.ct_5a,
    )
    for user_id in audience:
        assert await sees(world, user_id) == [ann], user_id
    outside = (
        world.parent_b1,
        world.pupil_b1_user,
        world.ct_5b,
        world.parent_pending,
        world.parent_z1,
        world.teacher_b,
    )
    for user_id in outside:
        assert await sees(world, user_id) == [], user_id


async def test_school_announcement_reaches_the_whole_school_only(world: World) -> None:
    posted = await announce(
        await world.ctx(world.admin_a), "Каникулы", "С 27 октября", "general", world.a.id
    )
    for user_id in (world.admin_a, world.ct_5b, world.parent_b1, world.pupil_b1_user):
        assert await sees(world, user_id) == [posted.id]
    for user_id in (world.parent_z1, world.teacher_b, world.admin_b, world.parent_pending):
        assert await sees(world, user_id) == []


async def test_who_may_announce(world: World) -> None:
    ct = await world.ctx(world.ct_5a)
    with pytest.raises(Forbidden):
        await announce(ct, "Всем", "Текст", "general", world.a.id)
    with pytest.raises(Forbidden):
        await announce(ct, "5Б", "Текст", "general", world.a.id, world.class_5b)
    with pytest.raises(Forbidden):
        await announce(await world.ctx(world.parent_a1), "Я", "Т", "general", world.a.id)
    with pytest.raises(Forbidden):
        await announce(
            await world.ctx(world.teacher_math), "5А", "Т", "general", world.a.id, world.class_5a
        )
    with pytest.raises(NotFound):
        await announce(
            await world.ctx(world.admin_b), "Чужой", "Т", "general", world.a.id, world.class_5a
        )
    with pytest.raises(NotFound):  # a class of another school named under this one
        await announce(
            await world.ctx(world.admin_a), "Т", "Т", "general", world.a.id, world.class_7a
        )
    assert await world.session.scalar(select(func.count()).select_from(Announcement)) == 0


@pytest.mark.parametrize(
    ("title", "body", "kind", "field"),
    [
        ("  ", "Текст", "general", "title"),
        ("Т" * 201, "Текст", "general", "title"),
        ("Заголовок", " ", "general", "body"),
        ("Заголовок", "Текст", "party", "kind"),
    ],
)
async def test_bad_announcement_refused(
    world: World, title: str, body: str, kind: str, field: str
) -> None:
    ctx = await world.ctx(world.ct_5a)
    with pytest.raises(InvalidInput) as err:
        await announce(ctx, title, body, kind, world.a.id, world.class_5a)
    assert err.value.field == field


async def test_expired_announcement_hidden(world: World, clock: FixedClock) -> None:
    ann = await class_news(world, expires_at=clock.now() + timedelta(days=1))
    clock.advance(timedelta(days=1) - timedelta(seconds=1))
    assert await sees(world, world.parent_a1) == [ann]
    clock.advance(timedelta(seconds=1))
    assert await sees(world, world.parent_a1) == []
    ctx = await world.ctx(world.ct_5a)
    with pytest.raises(InvalidInput) as err:
        await announce(ctx, "Т", "Т", "general", world.a.id, world.class_5a, expires_at=clock.now())
    assert err.value.field == "expires_at"
    with pytest.raises(InvalidInput):
        await announce(
            ctx, "Т", "Т", "general", world.a.id, world.class_5a, expires_at=datetime(2030, 1, 1)
        )


async def test_unread_first_with_read_flag(world: World, clock: FixedClock) -> None:
    older = await class_news(world)
    clock.advance(timedelta(hours=1))
    newer = await class_news(world)
    parent = await world.ctx(world.parent_a1)
    assert [(a.id, a.is_read) for a in await announcements_for(parent)] == [
        (newer, False),
        (older, False),
    ]
    await mark_read(parent, newer)
    await mark_read(parent, newer)  # a receipt is kept once
    assert [(a.id, a.is_read) for a in await announcements_for(parent)] == [
        (older, False),
        (newer, True),
    ]
    assert [
        (a.id, a.is_read) for a in await announcements_for(await world.ctx(world.parent_a2))
    ] == [
        (newer, False),
        (older, False),
    ]


async def test_only_the_audience_may_mark_read(world: World) -> None:
    ann = await class_news(world)
    for outsider in (world.parent_b1, world.parent_z1, world.admin_b):
        with pytest.raises(NotFound):
            await mark_read(await world.ctx(outsider), ann)
    with pytest.raises(NotFound):
        await mark_read(await world.ctx(world.parent_a1), ann + 1000)


async def test_read_receipts(world: World, clock: FixedClock) -> None:
    ann = await class_news(world)
    clock.advance(timedelta(minutes=5))
    await mark_read(await world.ctx(world.parent_a1), ann)
    await mark_read(await world.ctx(world.pupil_a1_user), ann)
    for viewer in (world.ct_5a, world.admin_a):
        receipts = await read_receipts(await world.ctx(viewer), ann)
        assert {r.user_id for r in receipts.read} == {world.parent_a1, world.pupil_a1_user}
        assert all(r.read_at == clock.now() for r in receipts.read)
        assert {r.user_id for r in receipts.not_read} == {
            world.parent_a2,
            await pupil_a2_user(world),
            world.teacher_math,
            world.ct_5a,
        }
    for not_allowed in (world.teacher_math, world.parent_a1):
        with pytest.raises(Forbidden):
            await read_receipts(await world.ctx(not_allowed), ann)
    with pytest.raises(NotFound):
        await read_receipts(await world.ctx(world.admin_b), ann)


async def test_parent_meeting_notifies_parents(world: World) -> None:
    await class_news(world, "parent_meeting")
    rows = await world.session.execute(
        select(Notification.user_id, Notification.text).where(Notification.kind == "meeting")
    )
    got = {user_id: text for user_id, text in rows}
    assert set(got) == {world.parent_a1, world.parent_a2}  # not pupils, not pending links
    assert "Родительское собрание" in got[world.parent_a1] and "5А" in got[world.parent_a1]


async def test_general_announcement_notifies_nobody(world: World) -> None:
    await class_news(world)
    assert await world.session.scalar(select(func.count()).select_from(Notification)) == 0
