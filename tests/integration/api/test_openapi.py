"""The OpenAPI document: valid OpenAPI 3.1 in structure, and in step with the router — every
API route documented, every documented operation routed — and the schema checker used on
every API answer in the tests really refuses what does not match."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import FixedClock
from gateway.api import ENDPOINTS, VALIDATOR
from gateway.api.openapi import document
from gateway.api.spec import PREFIX, ref
from gateway.api.validate import REF_PREFIX, unsupported_keywords
from gateway.app import create_app
from tests.support.gateway import Browser, free_port, gateway_settings, running_gateway

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def app(tmp_path: Path) -> web.Application:
    """The whole gateway, built but not started (routing needs no database)."""
    return create_app(gateway_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite'}", 8080))


@pytest.fixture
def doc() -> dict[str, Any]:
    return document(ENDPOINTS, "ediary_session")


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield method.upper(), path, op


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_document_has_openapi_31_structure(doc: dict[str, Any]) -> None:
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"])
    assert isinstance(doc["info"]["title"], str) and isinstance(doc["info"]["version"], str)
    assert doc["paths"] and all(path.startswith(PREFIX + "/") for path in doc["paths"])
    operation_ids = [op["operationId"] for _, _, op in _operations(doc)]
    assert len(operation_ids) == len(set(operation_ids)) == len(ENDPOINTS)
    schemes = doc["components"]["securitySchemes"]
    for method, path, op in _operations(doc):
        assert method.lower() in HTTP_METHODS
        assert op["responses"] and all(re.fullmatch(r"[1-5]\d\d", s) for s in op["responses"])
        for requirement in op["security"]:
            assert set(requirement) <= set(schemes), op["operationId"]
        in_template = set(re.findall(r"\{([^}]+)\}", path))
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert in_template == declared, op["operationId"]
        for p in op.get("parameters", []):
            assert p["in"] in ("path", "query", "header") and "schema" in p
            assert p["required"] or p["in"] != "path"


def test_every_reference_resolves_and_uses_only_checked_keywords(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    for target in _refs(doc):
        assert target.startswith(REF_PREFIX) and target.removeprefix(REF_PREFIX) in schemas
    for name, schema in schemas.items():
        assert unsupported_keywords(schema) == [], name
    for _, _, op in _operations(doc):
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        assert unsupported_keywords(body.get("schema", {})) == [], op["operationId"]
        for p in op.get("parameters", []):
            assert unsupported_keywords(p["schema"]) == [], (op["operationId"], p["name"])


def test_every_api_route_is_documented_and_every_documented_operation_routed(
    app: web.Application, doc: dict[str, Any]
) -> None:
    routed = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
    }
    documented = {(method, path) for method, path, _ in _operations(doc)}
    assert routed == documented
    assert {("GET", "/api/v1/openapi.json"), ("POST", "/api/v1/marks")} <= routed


def test_unsafe_operations_require_the_csrf_header(doc: dict[str, Any]) -> None:
    for method, _, op in _operations(doc):
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            assert op["security"] == [{"session": [], "csrf": []}], op["operationId"]
            assert "403" in op["responses"]


async def test_served_document_is_the_built_one(
    db_url: str, engine: AsyncEngine, clock: FixedClock, doc: dict[str, Any]
) -> None:
    async with running_gateway(gateway_settings(db_url, free_port()), clock) as base:
        browser = Browser()
        resp = await browser.get(base + "/api/v1/openapi.json")
        served = await resp.json()
        await browser.close()
    assert resp.status == 200 and served == doc


# --- the checker that every API answer in the tests goes through ------------------------------

GOOD_MARK = {
    "id": 1,
    "pupil_id": 2,
    "subject_id": 3,
    "lesson_id": None,
    "date": "2025-10-15",
    "value": "5",
    "numeric": 5,
    "work_type_id": 1,
    "weight": 1,
    "counts": True,
    "comment": "",
    "created_at": "2025-10-15T10:00:00Z",
    "updated_at": "2025-10-15T10:00:00Z",
}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"id": "1"}, "id"),
        ({"id": 0}, "id"),
        ({"counts": 1}, "counts"),
        ({"date": "15.10.2025"}, "date"),
        ({"created_at": "2025-10-15 10:00"}, "created_at"),
        ({"numeric": 4.5}, "numeric"),
        ({"value": "6"}, "value"),
        ({"extra": 1}, "extra"),
    ],
)
def test_schema_checker_refuses_what_does_not_match(change: dict[str, Any], path: str) -> None:
    assert VALIDATOR.errors(ref("Mark"), GOOD_MARK) == []
    errors = VALIDATOR.errors(ref("Mark"), {**GOOD_MARK, **change})
    assert [e.path for e in errors] == [path]


def test_schema_checker_names_missing_fields_and_nested_paths() -> None:
    without = {k: v for k, v in GOOD_MARK.items() if k != "weight"}
    assert [e.path for e in VALIDATOR.errors(ref("Mark"), without)] == ["weight"]
    cell = {
        "lesson_number": 1,
        "starts_at": "08:30",
        "ends_at": None,
        "planned": None,
        "actual": {"subject_id": 1, "subject": "Математика", "teacher_id": 2, "teacher": "x"},
        "change": None,
        "moved_to": None,
        "moved_from": {"date": "2025-10-14", "lesson_number": 2},
        "note": "",
        "draft": False,
    }
    assert [e.path for e in VALIDATOR.errors(ref("TimetableCell"), cell)] == ["actual.room"]
