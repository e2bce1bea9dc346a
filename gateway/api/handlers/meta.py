"""Who is signed in (with the CSRF token for the client), and the OpenAPI document."""

from __future__ import annotations

from gateway import auth, keys
from gateway.api.spec import ApiCall, Endpoint, Json, ref


async def session(call: ApiCall) -> Json:
    """The signed-in user, the roles he acts in now, and the token unsafe requests must
    carry in ``X-CSRF-Token``."""
    actor = await auth.request_actor(call.request)
    view = auth.current_session(call.request)
    assert view is not None  # request_actor refused anonymous callers
    return {
        "user_id": actor.user_id,
        "name": str(view.data.get("name", "")),
        "roles": sorted(r.value for r in actor.roles),
        "school_id": actor.school_id,
        "csrf_token": view.csrf_token,
    }


async def openapi(call: ApiCall) -> Json:
    return call.request.app[keys.OPENAPI_DOCUMENT]


ENDPOINTS = (
    Endpoint(
        "GET",
        "/session",
        "getSession",
        "Текущий пользователь, его роли и CSRF-токен",
        "Сессия",
        session,
        response=ref("Session"),
        errors=(),
    ),
    Endpoint(
        "GET",
        "/openapi.json",
        "getOpenApi",
        "Этот документ OpenAPI 3.1",
        "Сессия",
        openapi,
        response={"type": "object", "description": "OpenAPI 3.1"},
        errors=(),
        public=True,
    ),
)
