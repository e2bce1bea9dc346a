"""Writing in conversations (docs/regulation.md, clauses 2.2, 3.2 and 6.1): opening one with its
first message, replying, asking a school's administration; the checks on topics and bodies.

Who may write to whom is the policy's ``MESSAGE`` decision; once in a conversation, its
participants reply, and to anyone else it does not exist. Reply tracking: a message from a
family member (parent or pupil) starts the wait unless one is already running; a message
from a staff member of the conversation's school ends it (:mod:`diary_core.messaging.replies`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core import audit
from diary_core.actors import load_user_target
from diary_core.context import Ctx
from diary_core.errors import Conflict, Forbidden, InvalidInput, NotFound
from diary_core.models import (
    Conversation,
    ConversationParticipant,
    Message,
    Pupil,
    User,
    UserRole,
)
from diary_core.notifications import notify
from diary_core.policy import Action, Actor, PupilTarget, SchoolTarget
from diary_core.roles import Role
from diary_core.russian import genitive_name
from diary_core.text import clean_line
from diary_core.text import clean_text as clean_multiline

MAX_BODY = 5000
MAX_TOPIC = 200
MAX_RECIPIENTS = 50


def clean_body(body: str) -> str:
    """A message body, stripped; empty, longer than :data:`MAX_BODY` or holding a character
    the diary refuses (:mod:`diary_core.text`) is refused."""
    text = clean_multiline(body, "body", "Сообщение").strip()
    if not text:
        raise InvalidInput("сообщение не может быть пустым", field="body")
    if len(text) > MAX_BODY:
        raise InvalidInput(f"сообщение длиннее {MAX_BODY} символов", field="body")
    return text


def clean_topic(topic: str) -> str:
    text = " ".join(clean_line(topic, "topic", "Тема").split())
    if not text:
        raise InvalidInput("укажите тему переписки", field="topic")
    if len(text) > MAX_TOPIC:
        raise InvalidInput(f"тема длиннее {MAX_TOPIC} символов", field="topic")
    return text


def _require_person(actor: Actor) -> None:
    if actor.system:
        raise Forbidden("оператор сервера не участвует в переписке")


async def start_conversation(
    ctx: Ctx,
    recipient_ids: Iterable[int],
    topic: str,
    body: str,
    pupil_id: int | None = None,
) -> int:
    """Open a conversation with its first message; returns its id.

    Every recipient must pass the policy's ``MESSAGE`` (a parent: teachers of his children's
    classes and the administration; a pupil: his teachers; staff: anyone of their school).
    ``pupil_id`` names the pupil it is about, one the writer may see.
    """
    _require_person(ctx.actor)
    ids = sorted(set(recipient_ids))
    if not ids:
        raise InvalidInput("укажите получателя сообщения", field="recipient_ids")
    if ctx.actor.user_id in ids:
        raise InvalidInput("нельзя написать самому себе", field="recipient_ids")
    if len(ids) > MAX_RECIPIENTS:
        raise InvalidInput(f"не больше {MAX_RECIPIENTS} получателей", field="recipient_ids")
    topic, body = clean_topic(topic), clean_body(body)
    schools: set[int | None] = set()
    for user_id in ids:
        target = await load_user_target(ctx.session, user_id)
        ctx.require(Action.MESSAGE, target)
        schools.add(target.school_id)
    school_id = _conversation_school(ctx.actor, schools)
    if pupil_id is not None:
        await _check_pupil(ctx, pupil_id, school_id)
    conv = await _open(ctx, school_id, "direct", topic, pupil_id, ids, body)
    return conv.id


def _conversation_school(actor: Actor, recipient_schools: set[int | None]) -> int:
    """Staff write within their school; a family writes to staff of one school at a time."""
    if actor.is_staff and actor.school_id is not None:
        return actor.school_id
    if len(recipient_schools) != 1 or None in recipient_schools:
        raise InvalidInput("все получатели должны быть из одной школы", field="recipient_ids")
    (school_id,) = recipient_schools
    assert school_id is not None
    return school_id


async def _check_pupil(ctx: Ctx, pupil_id: int, school_id: int) -> None:
    pupil = await ctx.session.get(Pupil, pupil_id)
    if pupil is None or pupil.school_id != school_id:
        raise NotFound("обучающийся не найден")
    ctx.require(Action.READ_PUPIL, PupilTarget(pupil.school_id, pupil.class_id, pupil.id))


async def _open(
    ctx: Ctx,
    school_id: int,
    kind: str,
    topic: str,
    pupil_id: int | None,
    recipients: list[int],
    body: str,
) -> Conversation:
    now = ctx.now()
    conv = Conversation(
        school_id=school_id,
        topic=topic,
        kind=kind,
        pupil_id=pupil_id,
        created_by_id=ctx.actor.user_id,
        created_at=now,
        last_message_at=now,
    )
    ctx.session.add(conv)
    await ctx.session.flush()
    ctx.session.add_all(
        ConversationParticipant(conversation_id=conv.id, user_id=uid)
        for uid in [ctx.actor.user_id, *recipients]
    )
    await ctx.session.flush()
    audit.record(
        ctx.session,
        ctx.actor,
        "conversation.start",
        now,
        school_id=school_id,
        pupil_id=pupil_id,
        object_type="conversation",
        object_id=conv.id,
        kind=kind,
        participants=len(recipients) + 1,
    )
    await _post(ctx, conv, body)
    return conv


async def _post(ctx: Ctx, conv: Conversation, body: str) -> Message:
    """Add a message, keep reply tracking, mark it read for its author, tell the others."""
    now = ctx.now()
    message = Message(
        conversation_id=conv.id, author_id=ctx.actor.user_id, body=body, created_at=now
    )
    ctx.session.add(message)
    conv.last_message_at = now
    if ctx.actor.staff_of(conv.school_id):
        conv.awaiting_reply_since = None
    elif conv.awaiting_reply_since is None:
        conv.awaiting_reply_since = now
    mine = await ctx.session.get(ConversationParticipant, (conv.id, ctx.actor.user_id))
    assert mine is not None
    mine.last_read_at = now
    await ctx.session.flush()
    await _notify_others(ctx, conv)
    audit.record(
        ctx.session,
        ctx.actor,
        "message.post",
        now,
        school_id=conv.school_id,
        pupil_id=conv.pupil_id,
        object_type="message",
        object_id=message.id,
        conversation_id=conv.id,
    )
    return message


async def _notify_others(ctx: Ctx, conv: Conversation) -> None:
    others = await ctx.session.scalars(
        select(ConversationParticipant.user_id).where(
            ConversationParticipant.conversation_id == conv.id,
            ConversationParticipant.user_id != ctx.actor.user_id,
        )
    )
    author = await ctx.session.get(User, ctx.actor.user_id)
    assert author is not None
    what = "Вопрос администрации" if conv.kind == "admin_question" else "Новое сообщение"
    sender = genitive_name(author.last_name, author.first_name, author.middle_name)
    text = f"{what} от {sender}: «{conv.topic}»"
    await notify(ctx.session, list(others), "message", text, conv.pupil_id, ctx.now())


async def participant_conversation(ctx: Ctx, conversation_id: int) -> Conversation:
    """The conversation if the actor takes part in it; to anyone else it does not exist."""
    is_participant = exists().where(
        ConversationParticipant.conversation_id == Conversation.id,
        ConversationParticipant.user_id == ctx.actor.user_id,
    )
    conv = await ctx.session.scalar(
        select(Conversation).where(Conversation.id == conversation_id, is_participant)
    )
    if conv is None:
        raise NotFound("переписка не найдена")
    return conv


async def reply(ctx: Ctx, conversation_id: int, body: str) -> int:
    """A participant's message in a conversation; returns the message id."""
    _require_person(ctx.actor)
    conv = await participant_conversation(ctx, conversation_id)
    message = await _post(ctx, conv, clean_body(body))
    return message.id


async def ask_administration(ctx: Ctx, school_id: int, topic: str, body: str) -> int:
    """The regulation (docs/regulation.md, clause 6.1): a question to the administration of a
    school, reaching all of its administrators; returns the conversation id.

    Security decision: only people of that school may ask (its staff, its pupils, the
    confirmed parents of its pupils); to anyone else the school does not exist.
    """
    _require_person(ctx.actor)
    ctx.require(Action.ASK_ADMINISTRATION, SchoolTarget(school_id))
    topic, body = clean_topic(topic), clean_body(body)
    admins = await _administrators(ctx.session, school_id, exclude=ctx.actor.user_id)
    if not admins:
        raise Conflict("в школе пока нет администратора, которому можно задать вопрос")
    conv = await _open(ctx, school_id, "admin_question", topic, None, admins, body)
    return conv.id


async def _administrators(session: AsyncSession, school_id: int, *, exclude: int) -> list[int]:
    rows = await session.scalars(
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            User.school_id == school_id,
            User.is_active,
            User.id != exclude,
            UserRole.role == Role.ADMINISTRATOR.value,
        )
        .order_by(User.id)
    )
    return list(rows)
