"""Messaging: who may write to whom (2.2), reply deadlines (3.2, 5.1), questions to the
administration (6.1), read state and notifications."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from diary_core import accounts, messaging
from diary_core.clock import FixedClock
from diary_core.errors import Forbidden, InvalidInput, NotFound
from diary_core.messaging import (
    ask_administration,
    awaiting_reply,
    list_conversations,
    read_conversation,
    reply,
    reply_dashboard,
    start_conversation,
)
from diary_core.models import Conversation, ConversationParticipant, Message
from diary_core.notifications import mark_notifications_read, notifications_for
from diary_core.roles import Role
from tests.support.world import World

MINUTE = timedelta(minutes=1)


async def parent_asks_teacher(
    world: World, parent: int, teacher: int, topic: str = "Оценка"
) -> int:
    ctx = await world.ctx(parent)
    conv_id = await start_conversation(ctx, [teacher], topic, "Почему такая оценка?")
    await world.session.commit()
    return conv_id


async def conversation_count(world: World) -> int:
    return int(await world.session.scalar(select(func.count()).select_from(Conversation)) or 0)


async def test_parent_may_write_to_teacher_of_childs_class(world: World) -> None:
    ctx = await world.ctx(world.parent_a1)
    conv_id = await start_conversation(
        ctx, [world.teacher_math], " Контрольная ", "  Можно переписать?  ", world.pupil_a1
    )
    thread = await read_conversation(await world.ctx(world.teacher_math), conv_id)
    assert thread.topic == "Контрольная" and thread.pupil_id == world.pupil_a1
    assert [(m.author_id, m.body) for m in thread.messages] == [
        (world.parent_a1, "Можно переписать?")
    ]


async def test_parent_may_write_to_the_administration(world: World) -> None:
    ctx = await world.ctx(world.parent_a1)
    assert await start_conversation(ctx, [world.admin_a], "Справка", "Нужна справка")


async def test_parent_cannot_write_to_teacher_of_other_class(world: World) -> None:
    ctx = await world.ctx(world.parent_a1)
    with pytest.raises(NotFound):
        await start_conversation(ctx, [world.ct_5b], "Вопрос", "Здравствуйте")
    with pytest.raises(NotFound):  # one forbidden recipient spoils the whole message
        await start_conversation(ctx, [world.teacher_math, world.ct_5b], "Вопрос", "Добрый день")
    assert await conversation_count(world) == 0


async def test_parent_cannot_write_to_other_parent(world: World) -> None:
    ctx = await world.ctx(world.parent_a1)
    for other in (world.parent_a2, world.parent_z1, world.pupil_b1_user):
        with pytest.raises(NotFound):
            await start_conversation(ctx, [other], "Вопрос", "Здравствуйте")
    assert await conversation_count(world) == 0


async def test_parent_cannot_name_another_familys_pupil(world: World) -> None:
    ctx = await world.ctx(world.parent_a1)
    with pytest.raises(NotFound):
        await start_conversation(ctx, [world.teacher_math], "Вопрос", "Текст", world.pupil_a2)


async def test_pending_parent_cannot_write_to_teacher(world: World) -> None:
    ctx = await world.ctx(world.parent_pending)
    with pytest.raises(NotFound):
        await start_conversation(ctx, [world.teacher_math], "Вопрос", "Здравствуйте")


async def test_teacher_cannot_write_to_other_school(world: World) -> None:
    ctx = await world.ctx(world.teacher_math)
    for outsider in (world.teacher_b, world.admin_b, world.parent_z1, world.pupil_z1_user):
        with pytest.raises(NotFound):
            await start_conversation(ctx, [outsider], "Вопрос", "Здравствуйте")
    assert await conversation_count(world) == 0


async def test_staff_may_write_to_anyone_in_their_school(world: World) -> None:
    ctx = await world.ctx(world.teacher_math)
    conv_id = await start_conversation(
        ctx, [world.parent_b1, world.ct_5b, world.pupil_b1_user], "Олимпиада", "Приглашаем"
    )
    (summary,) = await list_conversations(await world.ctx(world.parent_b1))
    assert summary.id == conv_id and summary.unread == 1
    assert summary.awaiting_reply_since is None  # staff wrote: nobody waits for staff


async def test_pupil_may_write_to_his_teacher(world: World) -> None:
    ctx = await world.ctx(world.pupil_a1_user)
    conv_id = await start_conversation(ctx, [world.teacher_math], "Задача 5", "Не получается")
    (waiting,) = await awaiting_reply(await world.ctx(world.teacher_math))
    assert waiting.conversation_id == conv_id
    for not_his in (world.ct_5b, world.teacher_b, world.parent_a1):
        with pytest.raises(NotFound):
            await start_conversation(ctx, [not_his], "Вопрос", "Здравствуйте")


async def test_nobody_writes_to_himself_or_to_no_one(world: World) -> None:
    ctx = await world.ctx(world.teacher_math)
    with pytest.raises(InvalidInput, match="самому себе"):
        await start_conversation(ctx, [world.teacher_math], "Заметка", "Текст")
    with pytest.raises(InvalidInput, match="получател"):
        await start_conversation(ctx, [], "Заметка", "Текст")
    with pytest.raises(Forbidden):
        await start_conversation(await world.ctx(), [world.teacher_math], "Тема", "Текст")


@pytest.mark.parametrize(
    ("topic", "body", "field"),
    [
        ("Тема", "   ", "body"),
        ("Тема", "я" * (messaging.MAX_BODY + 1), "body"),
        ("  ", "Текст", "topic"),
        ("т" * (messaging.MAX_TOPIC + 1), "Текст", "topic"),
    ],
)
async def test_bad_message_refused_and_nothing_written(
    world: World, topic: str, body: str, field: str
) -> None:
    ctx = await world.ctx(world.parent_a1)
    with pytest.raises(InvalidInput) as err:
        await start_conversation(ctx, [world.teacher_math], topic, body)
    assert err.value.field == field
    assert await conversation_count(world) == 0


async def test_bad_reply_refused_and_nothing_written(world: World) -> None:
    conv_id = await parent_asks_teacher(world, world.parent_a1, world.teacher_math)
    with pytest.raises(InvalidInput):
        await reply(await world.ctx(world.teacher_math), conv_id, " \n ")
    assert await world.session.scalar(select(func.count()).select_from(Message)) == 1


async def test_non_participant_cannot_read_conversation(world: World) -> None:
    conv_id = await parent_asks_teacher(world, world.parent_a1, world.teacher_math)
    for outsider in (world.ct_5a, world.admin_a, world.parent_a2, world.admin_b):
        ctx = await world.ctx(outsider)
        with pytest.raises(NotFound):
            await read_conversation(ctx, conv_id)
        with pytest.raises(NotFound):
            await reply(ctx, conv_id, "Я тоже хочу сказать")
        assert await list_conversations(ctx) == []
    with pytest.raises(NotFound):
        await read_conversation(await world.ctx(world.teacher_math), conv_id + 1000)


async def test_awaiting_reply_until_staff_answers(world: World, clock: FixedClock) -> None:
    started = clock.now()
    conv_id = await parent_asks_teacher(world, world.parent_a1, world.teacher_math)
    teacher = await world.ctx(world.teacher_math)
    (waiting,) = await awaiting_reply(teacher)
    assert waiting.awaiting_since == started and not waiting.overdue
    clock.advance(timedelta(days=1))
    await reply(await world.ctx(world.parent_a1), conv_id, "Напоминаю о вопросе")
    (waiting,) = await awaiting_reply(teacher)
    assert waiting.awaiting_since == started  # a second message does not restart the wait
    assert waiting.waiting == timedelta(days=1)
    clock.advance(MINUTE)
    await reply(teacher, conv_id, "Можно переписать в четверг")
    assert await awaiting_reply(teacher) == []
    assert await awaiting_reply(await world.ctx(world.parent_a1)) == []
    clock.advance(MINUTE)
    await reply(await world.ctx(world.parent_a1), conv_id, "Спасибо!")
    (waiting,) = await awaiting_reply(teacher)
    assert waiting.awaiting_since == clock.now()


async def test_overdue_after_seven_days(world: World, clock: FixedClock) -> None:
    conv_id = await parent_asks_teacher(world, world.parent_a1, world.teacher_math)
    clock.advance(timedelta(days=7))
    teacher = await world.ctx(world.teacher_math)
    (waiting,) = await awaiting_reply(teacher)
    assert waiting.overdue and waiting.waiting == timedelta(days=7)
    (summary,) = await list_conversations(teacher)
    assert summary.id == conv_id and summary.overdue
    assert (await read_conversation(teacher, conv_id)).overdue


async def test_not_overdue_one_second_before(world: World, clock: FixedClock) -> None:
    await parent_asks_teacher(world, world.parent_a1, world.teacher_math)
    clock.advance(timedelta(days=7) - timedelta(seconds=1))
    (waiting,) = await awaiting_reply(await world.ctx(world.teacher_math))
    assert not waiting.overdue
    (load,) = await reply_dashboard(await world.ctx(world.admin_a), world.a.id)
    assert (load.awaiting, load.overdue) == (1, 0)


async def test_reply_dashboard_shows_overdue_per_teacher(world: World, clock: FixedClock) -> None:
    await parent_asks_teacher(world, world.parent_a1, world.teacher_math, "Первый")
    clock.advance(timedelta(days=3))
    await parent_asks_teacher(world, world.parent_a2, world.teacher_math, "Второй")
    await parent_asks_teacher(world, world.parent_b1, world.ct_5b, "Третий")
    answered = await parent_asks_teacher(world, world.parent_a1, world.ct_5a, "Четвёртый")
    await reply(await world.ctx(world.ct_5a), answered, "Отвечаю сразу")
    await parent_asks_teacher(world, world.parent_z1, world.teacher_b, "Другая школа")
    clock.advance(timedelta(days=4))
    board = await reply_dashboard(await world.ctx(world.admin_a), world.a.id)
    assert [(t.teacher_id, t.awaiting, t.overdue, t.oldest_waiting) for t in board] == [
        (world.teacher_math, 2, 1, timedelta(days=7)),
        (world.ct_5b, 1, 0, timedelta(days=4)),
    ]
    assert board[0].teacher_name.startswith("Числова Мария")
    (other,) = await reply_dashboard(await world.ctx(world.admin_b), world.b.id)
    assert (other.teacher_id, other.awaiting) == (world.teacher_b, 1)


async def test_other_school_admin_cannot_see_dashboard(world: World) -> None:
    await parent_asks_teacher(world, world.parent_a1, world.teacher_math)
    with pytest.raises(NotFound):
        await reply_dashboard(await world.ctx(world.admin_b), world.a.id)
    with pytest.raises(Forbidden):
        await reply_dashboard(await world.ctx(world.teacher_math), world.a.id)
    with pytest.raises(Forbidden):
        await reply_dashboard(await world.ctx(world.parent_a1), world.a.id)


async def test_question_to_administrator_reaches_all_admins_of_the_school(world: World) -> None:
    system = await world.ctx()
    director = await accounts.create_staff(
        system, world.a.id, last_name="Главная", first_name="Нина", roles=(Role.ADMINISTRATOR,)
    )
    await world.session.commit()
    conv_id = await ask_administration(
        await world.ctx(world.parent_a1), world.a.id, "Пароль", "Не могу войти в дневник"
    )
    participants = set(
        await world.session.scalars(
            select(ConversationParticipant.user_id).where(
                ConversationParticipant.conversation_id == conv_id
            )
        )
    )
    assert participants == {world.parent_a1, world.admin_a, director.id}
    for admin in (world.admin_a, director.id):
        (note,) = await notifications_for(await world.ctx(admin))
        assert note.kind == "message" and "Вопрос администрации" in note.text
    assert await notifications_for(await world.ctx(world.admin_b)) == []
    (summary,) = await list_conversations(await world.ctx(director.id))
    assert summary.kind == "admin_question" and summary.awaiting_reply_since is not None
    await reply(await world.ctx(world.admin_a), conv_id, "Выдадим новый пароль")
    assert (await read_conversation(await world.ctx(director.id), conv_id)).overdue is False
    assert (await list_conversations(await world.ctx(director.id)))[0].awaiting_reply_since is None


async def test_anyone_of_the_school_may_ask_the_administration_but_outsiders_may_not(
    world: World,
) -> None:
    for member in (world.pupil_a1_user, world.teacher_math):
        assert await ask_administration(await world.ctx(member), world.a.id, "Помощь", "Как?")
    for outsider in (world.parent_z1, world.teacher_b, world.parent_pending):
        with pytest.raises(NotFound):
            await ask_administration(await world.ctx(outsider), world.a.id, "Помощь", "Как?")


async def test_unread_counts(world: World, clock: FixedClock) -> None:
    conv_id = await parent_asks_teacher(world, world.parent_a1, world.teacher_math)
    teacher, parent = await world.ctx(world.teacher_math), await world.ctx(world.parent_a1)
    assert [c.unread for c in await list_conversations(teacher)] == [1]
    assert [c.unread for c in await list_conversations(parent)] == [0]  # his own message
    clock.advance(MINUTE)
    await read_conversation(teacher, conv_id)
    assert [c.unread for c in await list_conversations(teacher)] == [0]
    clock.advance(MINUTE)
    await reply(parent, conv_id, "И ещё вопрос")
    clock.advance(MINUTE)
    await reply(parent, conv_id, "И ещё один")
    assert [c.unread for c in await list_conversations(teacher)] == [2]
    assert await messaging.unread_message_count(teacher) == 2
    clock.advance(MINUTE)
    await reply(teacher, conv_id, "Отвечаю на оба")  # writing is reading
    assert [c.unread for c in await list_conversations(teacher)] == [0]
    assert [c.unread for c in await list_conversations(parent)] == [1]


async def test_conversations_listed_latest_first_with_the_other_participants(
    world: World, clock: FixedClock
) -> None:
    first = await parent_asks_teacher(world, world.parent_a1, world.teacher_math, "Первая")
    clock.advance(MINUTE)
    second = await parent_asks_teacher(world, world.parent_a1, world.ct_5a, "Вторая")
    listed = await list_conversations(await world.ctx(world.parent_a1))
    assert [c.id for c in listed] == [second, first]
    assert listed[0].others == ("Классова Ольга",)


async def test_message_notifies_other_participants(world: World, clock: FixedClock) -> None:
    await parent_asks_teacher(world, world.parent_a1, world.teacher_math, "Контрольная")
    teacher = await world.ctx(world.teacher_math)
    (note,) = await notifications_for(teacher)
    assert note.kind == "message" and "Контрольная" in note.text and not note.is_read
    assert await notifications_for(await world.ctx(world.parent_a1)) == []
    assert await mark_notifications_read(await world.ctx(world.parent_a1), [note.id]) == 0
    assert not (await notifications_for(teacher))[0].is_read  # not his to mark
    assert await mark_notifications_read(teacher, [note.id]) == 1
    assert await notifications_for(teacher, unread_only=True) == []
    assert (await notifications_for(teacher))[0].read_at == clock.now()


async def test_dashboard_lists_staff_not_the_pupils_who_wait(world: World) -> None:
    pupil = await world.ctx(world.pupil_a1_user)
    await start_conversation(pupil, [world.teacher_math], "Задача", "Помогите")
    board = await reply_dashboard(await world.ctx(world.admin_a), world.a.id)
    assert [(t.teacher_id, t.awaiting) for t in board] == [(world.teacher_math, 1)]
