"""Announcements (unread first) with read receipts, and personal notifications."""

from __future__ import annotations

from diary_core import announcements, notifications
from diary_core.context import Ctx
from gateway.api import serialize
from gateway.api.bodies import NOTIFICATIONS_READ
from gateway.api.spec import BOOL, ApiCall, Endpoint, Json, array, path_id, query, ref


async def list_announcements(call: ApiCall) -> Json:
    found = await call.run(announcements.announcements_for)
    return [serialize.announcement(a) for a in found]


async def read_announcement(call: ApiCall) -> None:
    async def use_case(ctx: Ctx) -> None:
        await announcements.mark_read(ctx, call.params["announcement_id"])

    await call.run(use_case)


async def list_notifications(call: ApiCall) -> Json:
    async def use_case(ctx: Ctx) -> Json:
        found = await notifications.notifications_for(
            ctx, call.params.get("unread_only", False), call.params.get("limit", 50)
        )
        return [serialize.notification(n) for n in found]

    return await call.run(use_case)


async def read_notifications(call: ApiCall) -> Json:
    async def use_case(ctx: Ctx) -> int:
        return await notifications.mark_notifications_read(ctx, call.body["ids"])

    return {"count": await call.run(use_case)}


ENDPOINTS = (
    Endpoint(
        "GET",
        "/announcements",
        "listAnnouncements",
        "Объявления для пользователя: сначала непрочитанные",
        "Объявления",
        list_announcements,
        response=array(ref("Announcement")),
        errors=(),
    ),
    Endpoint(
        "POST",
        "/announcements/{announcement_id}/read",
        "readAnnouncement",
        "Отметить объявление прочитанным",
        "Объявления",
        read_announcement,
        params=(path_id("announcement_id", "объявление"),),
        errors=(404,),
    ),
    Endpoint(
        "GET",
        "/notifications",
        "listNotifications",
        "Уведомления пользователя, новые первыми",
        "Уведомления",
        list_notifications,
        params=(
            query("unread_only", BOOL, "только непрочитанные", required=False),
            query(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": notifications.MAX_LIMIT},
                "сколько (по умолчанию 50)",
                required=False,
            ),
        ),
        response=array(ref("Notification")),
        errors=(),
    ),
    Endpoint(
        "POST",
        "/notifications/read",
        "readNotifications",
        "Отметить свои уведомления прочитанными (чужие номера пропускаются)",
        "Уведомления",
        read_notifications,
        body=NOTIFICATIONS_READ,
        response=ref("Count"),
        errors=(),
    ),
)
