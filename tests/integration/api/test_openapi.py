"""The OpenAPI document: valid OpenAPI 3.1 in structure, and in step with the router — every
API route documented, every documented operation routed — and the schema checker (the one
that validates requests, used on every API answer in the tests) really refuses what does not
match, naming the field in Russian."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from jsonschema import Draft202012Validator
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.clock import FixedClock
from gateway.api import ENDPOINTS
from gateway.api.openapi import document
from gateway.api.spec import PREFIX, REF_PREFIX, Endpoint
from gateway.api.validation import ANNOTATIONS, FORMATS, KEYWORDS, ApiValidator
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


@pytest.fixture
def checker(doc: dict[str, Any]) -> ApiValidator:
    return ApiValidator(doc)


def _endpoint(operation_id: str) -> Endpoint:
    return next(ep for ep in ENDPOINTS if ep.operation_id == operation_id)


def _unworded(schema: Any, where: str = "") -> list[str]:
    """Every keyword in ``schema`` (recursively) the validator has no Russian wording for,
    and every format it does not check."""
    found: list[str] = []
    for key, sub in schema.items():
        if key not in KEYWORDS | ANNOTATIONS:
            found.append(f"{where}/{key}")
        if key == "properties":
            for name, prop in sub.items():
                found += _unworded(prop, f"{where}/properties/{name}")
        elif key in ("items", "additionalProperties") and isinstance(sub, dict):
            found += _unworded(sub, f"{where}/{key}")
        elif key == "anyOf":
            for i, branch in enumerate(sub):
                found += _unworded(branch, f"{where}/anyOf/{i}")
        elif key == "format" and sub not in FORMATS:
            found.append(f"{where}/format={sub}")
    return found


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
        Draft202012Validator.check_schema(schema)
        assert _unworded(schema) == [], name
    for _, _, op in _operations(doc):
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        Draft202012Validator.check_schema(body.get("schema", {}))
        assert _unworded(body.get("schema", {})) == [], op["operationId"]
        for p in op.get("parameters", []):
            Draft202012Validator.check_schema(p["schema"])
            assert _unworded(p["schema"]) == [], (op["operationId"], p["name"])


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
def test_schema_checker_refuses_what_does_not_match(
    checker: ApiValidator, change: dict[str, Any], path: str
) -> None:
    assert checker.component_errors("Mark", GOOD_MARK) == []
    errors = checker.component_errors("Mark", {**GOOD_MARK, **change})
    assert [e.path for e in errors] == [path]


def test_schema_checker_names_missing_fields_and_nested_paths(checker: ApiValidator) -> None:
    without = {k: v for k, v in GOOD_MARK.items() if k != "weight"}
    assert [e.path for e in checker.component_errors("Mark", without)] == ["weight"]
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
    assert [e.path for e in checker.component_errors("TimetableCell", cell)] == ["actual.room"]
    late = {**cell, "actual": None, "starts_at": "8:30"}  # a bell time is HH:MM
    assert [e.path for e in checker.component_errors("TimetableCell", late)] == ["starts_at"]


GOOD_NEW_MARK = {
    "pupil_id": 1,
    "subject_id": 2,
    "date": "2025-10-15",
    "value": "5",
    "work_type_id": 3,
}


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        ({"pupil_id": "один"}, "pupil_id", "ожидается целое число"),
        ({"pupil_id": 0}, "pupil_id", "не меньше 1"),
        ({"date": "2025-02-30"}, "date", "ожидается ГГГГ-ММ-ДД (ISO 8601)"),
        ({"value": None}, "value", "ожидается строка"),
        ({"value": "6"}, "value", "допустимые значения: "),
        ({"weight": 11}, "weight", "не больше 10"),
        ({"comment": "я" * 501}, "comment", "не длиннее 500 символов"),
        ({"surprise": 1}, "surprise", "неизвестное поле"),
    ],
)
def test_request_body_errors_name_the_field_in_russian(
    checker: ApiValidator, body: dict[str, Any], path: str, message: str
) -> None:
    ep = _endpoint("recordMark")
    assert checker.body_errors(ep, GOOD_NEW_MARK) == []
    errors = checker.body_errors(ep, {**GOOD_NEW_MARK, **body})
    assert [e.path for e in errors] == [path] and errors[0].message.startswith(message), errors


def test_request_errors_name_missing_fields_array_items_and_parameters(
    checker: ApiValidator,
) -> None:
    missing = checker.body_errors(_endpoint("recordMark"), {"pupil_id": 1})
    assert [(e.path, e.message) for e in missing] == [
        (name, "обязательное поле") for name in ("subject_id", "date", "value", "work_type_id")
    ]
    new = {"recipient_ids": [1, "2"], "topic": "", "body": "Здравствуйте"}
    errors = checker.body_errors(_endpoint("startConversation"), new)
    assert sorted((e.path, e.message) for e in errors) == [
        ("recipient_ids[1]", "ожидается целое число"),
        ("topic", "не короче 1 символа"),
    ]
    assert [e.message for e in checker.body_errors(_endpoint("correctMark"), {})] == [
        "укажите хотя бы 1 поле"
    ]
    marks = _endpoint("getPupilMarks")
    index = [p.name for p in marks.params].index("from")
    assert [(e.path, e.message) for e in checker.param_errors(marks, index, "2025-9-1")] == [
        ("from", "ожидается ГГГГ-ММ-ДД (ISO 8601)")
    ]


def test_the_checker_reads_the_published_document(doc: dict[str, Any]) -> None:
    """What is enforced is what is published: a constraint changed in the document is the
    constraint the checker applies."""
    ep = _endpoint("recordMark")
    body = doc["paths"][ep.full_path]["post"]["requestBody"]["content"]["application/json"]
    body["schema"] = {**body["schema"], "maxProperties": 2}
    assert [e.path for e in ApiValidator(doc).body_errors(ep, GOOD_NEW_MARK)] == [""]


def test_every_request_schema_is_reachable_in_the_document(checker: ApiValidator) -> None:
    """Each endpoint's body and parameters resolve in the published document (a pointer that
    missed would fail the first request, not start-up)."""
    samples = {"integer": 1, "boolean": True, "string": "2025-10-15"}
    for ep in ENDPOINTS:
        if ep.body is not None:
            assert isinstance(checker.body_errors(ep, {}), list), ep.operation_id
        for index, param in enumerate(ep.params):
            sample = samples[str(param.schema.get("type"))]
            assert isinstance(checker.param_errors(ep, index, sample), list), ep.operation_id
        if ep.response is not None:
            assert isinstance(checker.response_errors(ep, None), list), ep.operation_id
