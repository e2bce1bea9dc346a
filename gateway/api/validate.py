"""A JSON Schema validator for the small subset the API's schemas use.

The API validates request bodies against the very schemas its OpenAPI document publishes,
and the tests check every response against its declared schema with the same code. The
subset is deliberately small (no ``oneOf``, no conditionals); :func:`unsupported_keywords`
lets a test prove that no schema relies on a keyword this validator would silently ignore.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

Schema = Mapping[str, Any]

REF_PREFIX = "#/components/schemas/"
# Keywords the validator enforces, and annotations it may ignore.
CHECKED = frozenset(
    {
        "$ref",
        "anyOf",
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "format",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "pattern",
    }
)
ANNOTATIONS = frozenset({"description", "title", "examples", "default"})
FORMATS = frozenset({"date", "date-time", "time"})

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")

_TYPE_NAMES = {
    "object": "объект",
    "array": "массив",
    "string": "строка",
    "integer": "целое число",
    "number": "число",
    "boolean": "true или false",
    "null": "null",
}


@dataclass(frozen=True)
class SchemaError:
    """One violation: where (``pupil_id``, ``recipient_ids[0]``; empty for the whole
    value) and what, in Russian, for the person reading the API's answer."""

    path: str
    message: str


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    kinds: dict[str, type | tuple[type, ...]] = {
        "object": dict,
        "array": list,
        "string": str,
        "boolean": bool,
        "null": type(None),
    }
    return isinstance(value, kinds[name])


def valid_date(text: str) -> bool:
    """``YYYY-MM-DD`` and a real calendar day (ISO 8601 extended form only)."""
    if not _DATE.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _valid_format(fmt: str, text: str) -> bool:
    if fmt == "date":
        return valid_date(text)
    if fmt == "date-time":
        if not _DATETIME.match(text):
            return False
        try:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    return bool(_TIME.match(text))


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Validator:
    """Validates values against schemas whose ``$ref``s point into ``components``."""

    def __init__(self, components: Mapping[str, Schema]) -> None:
        self.components = components

    def errors(self, schema: Schema, value: Any, path: str = "") -> list[SchemaError]:
        return list(self._check(schema, value, path))

    def resolve(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].removeprefix(REF_PREFIX)]
        return schema

    def _check(self, schema: Schema, value: Any, path: str) -> Iterator[SchemaError]:
        schema = self.resolve(schema)
        if "anyOf" in schema:
            branches = [self.errors(s, value, path) for s in schema["anyOf"]]
            if all(branches):
                yield branches[0][0]  # the first branch is the meaningful one
                return
        types = schema.get("type")
        if types is not None:
            names = [types] if isinstance(types, str) else list(types)
            if not any(_is_type(value, n) for n in names):
                wanted = " или ".join(_TYPE_NAMES[n] for n in names)
                yield SchemaError(path, f"ожидается {wanted}")
                return
        if "enum" in schema and value not in schema["enum"]:
            allowed = ", ".join("null" if v is None else str(v) for v in schema["enum"])
            yield SchemaError(path, f"допустимые значения: {allowed}")
            return
        if isinstance(value, str):
            yield from self._string(schema, value, path)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield from self._number(schema, value, path)
        elif isinstance(value, list):
            yield from self._array(schema, value, path)
        elif isinstance(value, dict):
            yield from self._object(schema, value, path)

    def _string(self, schema: Schema, value: str, path: str) -> Iterator[SchemaError]:
        if "minLength" in schema and len(value) < schema["minLength"]:
            yield SchemaError(path, f"не короче {schema['minLength']} символов")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            yield SchemaError(path, f"не длиннее {schema['maxLength']} символов")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            yield SchemaError(path, f"не соответствует образцу {schema['pattern']}")
        fmt = schema.get("format")
        if fmt in FORMATS and not _valid_format(fmt, value):
            shape = {"date": "ГГГГ-ММ-ДД", "date-time": "ГГГГ-ММ-ДДTчч:мм:ссZ", "time": "чч:мм"}
            yield SchemaError(path, f"ожидается {shape[fmt]} (ISO 8601)")

    def _number(self, schema: Schema, value: float, path: str) -> Iterator[SchemaError]:
        if "minimum" in schema and value < schema["minimum"]:
            yield SchemaError(path, f"не меньше {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            yield SchemaError(path, f"не больше {schema['maximum']}")

    def _array(self, schema: Schema, value: list[Any], path: str) -> Iterator[SchemaError]:
        if "minItems" in schema and len(value) < schema["minItems"]:
            yield SchemaError(path, f"не меньше {schema['minItems']} элементов")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            yield SchemaError(path, f"не больше {schema['maxItems']} элементов")
        if "items" in schema:
            for i, item in enumerate(value):
                yield from self._check(schema["items"], item, _join(path, i))

    def _object(self, schema: Schema, value: dict[str, Any], path: str) -> Iterator[SchemaError]:
        props: Mapping[str, Schema] = schema.get("properties", {})
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            yield SchemaError(path, f"укажите хотя бы {schema['minProperties']} поле")
        for name in schema.get("required", ()):
            if name not in value:
                yield SchemaError(_join(path, name), "обязательное поле")
        for name, item in value.items():
            if name in props:
                yield from self._check(props[name], item, _join(path, name))
            elif (extra := schema.get("additionalProperties", True)) is False:
                yield SchemaError(_join(path, name), "неизвестное поле")
            elif isinstance(extra, Mapping):
                yield from self._check(extra, item, _join(path, name))


def unsupported_keywords(schema: Any, where: str = "") -> list[str]:
    """Every keyword in ``schema`` (recursively) that :class:`Validator` does not know."""
    found: list[str] = []
    if not isinstance(schema, Mapping):
        return found
    for key, sub in schema.items():
        if key not in CHECKED | ANNOTATIONS:
            found.append(f"{where}/{key}")
        if key == "properties":
            for name, prop in sub.items():
                found += unsupported_keywords(prop, f"{where}/properties/{name}")
        elif key in ("items", "additionalProperties"):
            found += unsupported_keywords(sub, f"{where}/{key}")
        elif key == "anyOf":
            for i, branch in enumerate(sub):
                found += unsupported_keywords(branch, f"{where}/anyOf/{i}")
        elif key == "format" and sub not in FORMATS:
            found.append(f"{where}/format={sub}")
    return found
