"""Validating the API's requests (and, in the tests, its answers) with ``jsonschema``.

Every check runs against the schema objects of the OpenAPI document the API publishes at
``/api/v1/openapi.json``: the document is registered whole as a JSON Schema 2020-12 resource
and each schema is reached by its JSON pointer in it (the request body of ``POST
/api/v1/marks`` is ``#/paths/~1api~1v1~1marks/post/requestBody/content/application~1json/schema``),
so the ``$ref``s to ``#/components/schemas/…`` resolve in the document itself and what is
enforced cannot drift from what is documented.

``format`` is checked only for the formats the schemas declare (:data:`FORMATS`), and a
violation is reported as the API reports every bad input: the field at fault (``pupil_id``,
``recipient_ids[0]``, ``actual.room``) and a Russian sentence saying what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from gateway.api.spec import Endpoint

#: Where the OpenAPI document is registered: the base of every pointer into it.
DOCUMENT_URI = "urn:ediary-gateway:api:v1:openapi.json"
#: The formats the published schemas declare, each checked (jsonschema's own checkers).
FORMATS = ("date", "date-time")
FORMAT_CHECKER = FormatChecker(formats=FORMATS)
_FORMAT_SHAPES = {"date": "ГГГГ-ММ-ДД", "date-time": "ГГГГ-ММ-ДДTчч:мм:ссZ"}

_TYPE_NAMES = {
    "object": "объект",
    "array": "массив",
    "string": "строка",
    "integer": "целое число",
    "number": "число",
    "boolean": "true или false",
    "null": "null",
}

#: The validation keywords the API's schemas may use: each has its Russian wording here.
#: (A test proves the published document uses no other.)
KEYWORDS = frozenset(
    {
        "$ref",
        "anyOf",
        "type",
        "enum",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "minProperties",
    }
)
#: Keywords that only describe.
ANNOTATIONS = frozenset({"description", "title", "examples", "default"})


@dataclass(frozen=True)
class SchemaError:
    """One violation: where (``pupil_id``, ``recipient_ids[0]``; empty for the whole value)
    and what, in Russian, for the person reading the API's answer."""

    path: str
    message: str


def pointer(*segments: str | int) -> str:
    """A JSON pointer (RFC 6901) to the document node named by ``segments``."""
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in segments)


def _operation(ep: Endpoint) -> tuple[str, str, str]:
    return ("paths", ep.full_path, ep.method.lower())


def body_pointer(ep: Endpoint) -> str:
    return pointer(*_operation(ep), "requestBody", "content", "application/json", "schema")


def param_pointer(ep: Endpoint, index: int) -> str:
    """The schema of the endpoint's ``index``-th parameter (as declared, in order)."""
    return pointer(*_operation(ep), "parameters", index, "schema")


def response_pointer(ep: Endpoint) -> str:
    return pointer(
        *_operation(ep), "responses", str(ep.status), "content", "application/json", "schema"
    )


def component_pointer(name: str) -> str:
    return pointer("components", "schemas", name)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _path(base: str, error: ValidationError) -> str:
    path = base
    for key in error.absolute_path:
        path = _join(path, key)
    return path


def _count(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return f"{n} {one}"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return f"{n} {few}"
    return f"{n} {many}"


#: Of the keywords that bound a count: the words counted, by Russian plural form.
_COUNTED = {
    "minLength": ("не короче", ("символа", "символов", "символов")),
    "maxLength": ("не длиннее", ("символа", "символов", "символов")),
    "minItems": ("не меньше", ("элемента", "элементов", "элементов")),
    "maxItems": ("не больше", ("элемента", "элементов", "элементов")),
    "minProperties": ("укажите хотя бы", ("поле", "поля", "полей")),
}
_BOUNDS = {"minimum": "не меньше", "maximum": "не больше", "pattern": "не соответствует образцу"}


def _message(error: ValidationError) -> str:
    """What ``error`` (of a keyword other than required, additionalProperties and anyOf,
    which :func:`_explain` words itself) says, in Russian."""
    value: Any = error.validator_value
    rule = str(error.validator)
    if rule == "type":
        names = [value] if isinstance(value, str) else list(value)
        return "ожидается " + " или ".join(_TYPE_NAMES[n] for n in names)
    if rule == "enum":
        return "допустимые значения: " + ", ".join("null" if v is None else str(v) for v in value)
    if rule == "format":
        return f"ожидается {_FORMAT_SHAPES.get(value, value)} (ISO 8601)"
    if rule in _COUNTED:
        words, (one, few, many) = _COUNTED[rule]
        return f"{words} {_count(value, one, few, many)}"
    if rule in _BOUNDS:
        return f"{_BOUNDS[rule]} {value}"
    return f"не соответствует схеме (правило {rule})"


def _branch(error: ValidationError) -> list[ValidationError]:
    """Of an ``anyOf`` that no branch satisfied, the errors of the branch meant: the first
    whose type the value has (a Slot object failing inside ``Slot | null`` is about the
    Slot), else the first."""
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    for errors in branches.values():
        if not all(e.validator == "type" and not e.relative_path for e in errors):
            return errors
    return next(iter(branches.values()), [])


def _explain(base: str, errors: Iterable[ValidationError]) -> Iterator[tuple[str, SchemaError]]:
    """Each error as (its keyword, what it says where)."""
    for error in errors:
        at = _path(base, error)
        if error.validator == "anyOf":
            yield from _explain(base, _branch(error))
        elif error.validator == "required":
            instance: Any = error.instance if isinstance(error.instance, Mapping) else {}
            required: Any = error.validator_value
            for name in required:
                if name not in instance:
                    yield "required", SchemaError(_join(at, name), "обязательное поле")
        elif error.validator == "additionalProperties":
            known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
            given: Any = error.instance
            for name in given:
                if name not in known:
                    yield "additionalProperties", SchemaError(_join(at, name), "неизвестное поле")
        else:
            yield str(error.validator), SchemaError(at, _message(error))


class ApiValidator:
    """Validates values against the schemas of one OpenAPI document, found by pointer."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        resource: Resource[Any] = DRAFT202012.create_resource(document)
        self._registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource).crawl()
        self._validators: dict[str, Draft202012Validator] = {}

    def _validator(self, at: str) -> Draft202012Validator:
        found = self._validators.get(at)
        if found is None:
            schema = {"$ref": f"{DOCUMENT_URI}#{at}"}
            found = Draft202012Validator(
                schema, registry=self._registry, format_checker=FORMAT_CHECKER
            )
            self._validators[at] = found
        return found

    def errors(self, at: str, value: Any, path: str = "") -> list[SchemaError]:
        """Every violation of the schema at pointer ``at`` by ``value``, each named once,
        paths starting with ``path``. A value of the wrong type gets that said alone (not
        also that it is none of the allowed values, for one)."""
        explained = list(_explain(path, self._validator(at).iter_errors(value)))
        mistyped = {error.path for rule, error in explained if rule == "type"}
        found: list[SchemaError] = []
        for rule, error in explained:
            if error.path in mistyped and rule != "type":
                continue
            if error not in found:  # required, additionalProperties: once per property
                found.append(error)
        return found

    def body_errors(self, ep: Endpoint, value: Any) -> list[SchemaError]:
        return self.errors(body_pointer(ep), value)

    def param_errors(self, ep: Endpoint, index: int, value: Any) -> list[SchemaError]:
        return self.errors(param_pointer(ep, index), value, ep.params[index].name)

    def response_errors(self, ep: Endpoint, value: Any) -> list[SchemaError]:
        return self.errors(response_pointer(ep), value)

    def component_errors(self, name: str, value: Any) -> list[SchemaError]:
        """Against the named schema ``#/components/schemas/<name>``."""
        return self.errors(component_pointer(name), value)
