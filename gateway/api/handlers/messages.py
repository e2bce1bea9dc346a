"""Conversations: the actor's threads, starting one, reading one, replying (policy:
``MESSAGE`` for whom one may write to; a thread exists only for its participants)."""

from __future__ import annotations

from diary_core import messaging
from diary_core.context import Ctx
from gateway.api import serialize
from gateway.api.bodies import NEW_CONVERSATION, NEW_MESSAGE
from gateway.api.spec import ApiCall, Endpoint, Json, array, path_id, ref

CONVERSATION = path_id("conversation_id", "переписка")


async def list_conversations(call: ApiCall) -> Json:
    found = await call.run(messaging.list_conversations)
    return [serialize.conversation(c) for c in found]


async def start_conversation(call: ApiCall) -> Json:
    b = call.body

    async def use_case(ctx: Ctx) -> int:
        return await messaging.start_conversation(
            ctx, b["recipient_ids"], b["topic"], b["body"], b.get("pupil_id")
        )

    return {"id": await call.run(use_case)}


async def read_conversation(call: ApiCall) -> Json:
    """Reading marks the thread read for the reader, as the page does."""

    async def use_case(ctx: Ctx) -> Json:
        return serialize.thread(
            await messaging.read_conversation(ctx, call.params["conversation_id"])
        )

    return await call.run(use_case)


async def reply(call: ApiCall) -> Json:
    async def use_case(ctx: Ctx) -> int:
        return await messaging.reply(ctx, call.params["conversation_id"], call.body["body"])

    return {"id": await call.run(use_case)}


ENDPOINTS = (
    Endpoint(
        "GET",
        "/conversations",
        "listConversations",
        "Переписки пользователя: непрочитанные, ожидание ответа, просрочка",
        "Сообщения",
        list_conversations,
        response=array(ref("Conversation")),
        errors=(),
    ),
    Endpoint(
        "POST",
        "/conversations",
        "startConversation",
        "Начать переписку с теми, кому можно писать",
        "Сообщения",
        start_conversation,
        body=NEW_CONVERSATION,
        response=ref("Created"),
        status=201,
    ),
    Endpoint(
        "GET",
        "/conversations/{conversation_id}",
        "readConversation",
        "Переписка с сообщениями (отмечается прочитанной)",
        "Сообщения",
        read_conversation,
        params=(CONVERSATION,),
        response=ref("Thread"),
        errors=(404,),
    ),
    Endpoint(
        "POST",
        "/conversations/{conversation_id}/messages",
        "replyInConversation",
        "Ответить в переписке",
        "Сообщения",
        reply,
        params=(CONVERSATION,),
        body=NEW_MESSAGE,
        response=ref("Created"),
        status=201,
        errors=(404,),
    ),
)
