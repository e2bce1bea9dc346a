"""The API's route registry: every endpoint declared once, as data.

An :class:`Endpoint` names its method, path, summary, parameters, request body schema and
response schema. The aiohttp routes (:mod:`gateway.api.dispatch`) and the OpenAPI document
(:mod:`gateway.api.openapi`) are both produced from these declarations, so what is routed,
what is validated and what is published cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from gateway import auth, http_errors

PREFIX = "/api/v1"
#: Where the OpenAPI document keeps its named schemas (``$ref`` targets).
REF_PREFIX = "#/components/schemas/"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Json = Any
#: A JSON Schema (2020-12, as OpenAPI 3.1 uses it).
Schema = Mapping[str, Any]


def ref(name: str) -> Schema:
    """A reference to a named schema of the document's ``components``."""
    return {"$ref": REF_PREFIX + name}


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


def nullable(schema: Schema) -> Schema:
    """JSON Schema 2020-12 (OpenAPI 3.1) style: ``type`` lists ``null``."""
    kind = schema["type"]
    kinds = [kind] if isinstance(kind, str) else list(kind)
    return {**schema, "type": [*kinds, "null"]}


def nullable_ref(name: str) -> Schema:
    """A named schema, or null."""
    return {"anyOf": [ref(name), {"type": "null"}]}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """A closed object: these properties and no others."""
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
        "additionalProperties": False,
    }


ID: Schema = {"type": "integer", "minimum": 1}
DATE: Schema = {"type": "string", "format": "date"}
DATETIME: Schema = {"type": "string", "format": "date-time"}
STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}


@dataclass(frozen=True)
class Param:
    """A path or query parameter. Path parameters are always required."""

    name: str
    where: Literal["path", "query"]
    schema: Schema
    description: str
    required: bool = True


def path_id(name: str, description: str) -> Param:
    return Param(name, "path", ID, description)


def query(name: str, schema: Schema, description: str, *, required: bool = True) -> Param:
    return Param(name, "query", schema, description, required)


@dataclass
class ApiCall:
    """One request as a handler sees it: parameters parsed (ids as ``int``, dates as
    ``date``) and the body validated against the endpoint's schema; ``headers``: what the
    handler adds to its answer (an ``ETag``)."""

    request: web.Request
    params: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    async def run(self, use_case: auth.UseCase) -> Any:
        """Run one core use case as the signed-in actor and commit (staff reads of a
        pupil's data are audited by the core, and the audit record must be kept)."""
        return await auth.run(self.request, use_case, commit=True)


ApiHandler = Callable[[ApiCall], Awaitable[Json]]


class ApiProblem(Exception):
    """A refusal in terms of HTTP itself, which the core knows nothing of (a missing or stale
    ``If-Match``): answered as problem JSON (RFC 9457) with a stable ``code``, like every
    other API error."""

    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail

    def response(self) -> web.Response:
        return http_errors.problem_json(
            self.status,
            self.code,
            self.title,
            self.detail,
            headers={"Cache-Control": "no-store"},
        )


@dataclass(frozen=True)
class Endpoint:
    """One operation of the API. ``response`` None means 204 No Content.

    ``errors`` lists the refusals the handler itself can cause (403, 404, 409); 400, 401
    and the CSRF 403 are added from the declaration (parameters, body, method, ``public``).

    ``etag``: the success answer carries an ``ETag`` of the resource's stored state.
    ``if_match``: the request must carry ``If-Match`` with that ETag (optimistic concurrency:
    a write against a state the client has not seen is refused) — without it 428, with a
    stale one 412, nothing written either way.
    """

    method: str
    path: str  # relative to PREFIX, OpenAPI template syntax: /pupils/{pupil_id}
    operation_id: str
    summary: str
    tag: str
    handler: ApiHandler
    params: tuple[Param, ...] = ()
    body: Schema | None = None
    response: Schema | None = None
    status: int = 200
    errors: tuple[int, ...] = (403, 404)
    public: bool = False  # served without a session
    etag: bool = False
    if_match: bool = False

    @property
    def full_path(self) -> str:
        return PREFIX + self.path

    @property
    def unsafe(self) -> bool:
        return self.method in UNSAFE_METHODS

    @property
    def error_statuses(self) -> list[int]:
        found = set(self.errors)
        if self.params or self.body is not None:
            found.add(400)
        if not self.public:
            found.add(401)
        if self.unsafe:
            found.add(403)  # CSRF token missing or wrong
        if self.if_match:
            found.update((412, 428))
        return sorted(found)
