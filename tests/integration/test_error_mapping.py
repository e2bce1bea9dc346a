"""One mapping of the core's errors to HTTP (gateway/http_errors.py): the same status and code
on every surface — the pages (a Russian HTML page), JSON clients and the API (problem JSON),
the portal feed (its own problem format) — and a NotFound that says nothing of what was
looked for, on every surface alike."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from config import load_settings
from diary_core.errors import (
    NOT_FOUND_DETAIL,
    Conflict,
    DiaryError,
    Forbidden,
    InvalidInput,
    NotFound,
)
from diary_core.progress.changes import CursorExpired
from gateway.app import create_app
from gateway.portal.endpoint import _problem_of

Client = Callable[[web.Application], Awaitable[TestClient]]  # type: ignore[type-arg]

CASES = [
    (NotFound("ученик 900001 не найден"), 404, "not_found", NOT_FOUND_DETAIL),
    (Forbidden("класс ведёт другой учитель"), 403, "forbidden", "класс ведёт другой учитель"),
    (InvalidInput("дата: не позже сегодня", field="date"), 400, "invalid_input", "дата:"),
    (Conflict("период закрыт"), 409, "conflict", "период закрыт"),
    (CursorExpired("курсор старше журнала"), 410, "cursor_expired", "курсор старше журнала"),
]


@pytest.mark.parametrize(("error", "status", "code", "detail"), CASES)
async def test_a_core_error_has_one_status_on_every_surface(
    aiohttp_client: Client,
    db_url: str,
    engine: AsyncEngine,
    error: DiaryError,
    status: int,
    code: str,
    detail: str,
) -> None:
    app = create_app(load_settings(environ={"EDIARY_DATABASE_URL": db_url}))

    async def raises(request: web.Request) -> web.Response:
        raise error

    app.router.add_get("/raises", raises)
    app.router.add_get("/portal/v1/raises", raises)
    client = await aiohttp_client(app)

    page = await client.get("/raises")
    assert page.status == status and page.content_type == "text/html"
    html = await page.text()
    assert detail in html and "900001" not in html

    json_client = await client.get("/raises", headers={"Accept": "application/json"})
    assert json_client.status == status
    assert json_client.content_type == "application/problem+json"
    problem = await json_client.json()
    assert problem["code"] == code and problem["status"] == status
    assert problem["detail"].startswith(detail) and "900001" not in problem["detail"]
    assert problem.get("field") == getattr(error, "field", None)

    portal = await client.get("/portal/v1/raises")
    assert portal.status == status
    assert portal.content_type == "application/problem+json"
    body = await portal.json()
    assert body["type"] == f"urn:ediary-gateway:problem:{code}" and body["code"] == code
    assert body["detail"].startswith(detail) and "900001" not in body["detail"]

    # The portal's own requests answer through its endpoint: the same mapping.
    own = _problem_of(error)
    assert (own.status, own.code) == (status, code) and own.detail.startswith(detail)


def test_the_portal_keeps_its_documented_codes_for_bad_fields() -> None:
    problem = _problem_of(InvalidInput("СНИЛС: неверная контрольная сумма", field="snils"))
    assert (problem.status, problem.code) == (400, "invalid_snils")
