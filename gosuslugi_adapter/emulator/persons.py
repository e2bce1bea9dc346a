"""Test persons for the emulator, in ESIA's own field names (docs/esia.md).

A persons file is a JSON list of objects: ``oid``, ``lastName``, ``firstName``, ``middleName``,
``birthDate`` (dd.MM.yyyy), ``gender``, ``snils``, ``trusted``, ``email``, ``mobile`` and
``kids`` (each: ``id``, ``lastName``, ``firstName``, ``middleName``, ``birthDate``, ``gender``,
``snils``). A bad file stops the emulator with the position of the first bad value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

_SNILS = re.compile(r"\A(\d{3})-?(\d{3})-?(\d{3})[ -]?(\d{2})\Z")
_NAME_FIELDS = ("lastName", "firstName", "middleName", "birthDate", "gender", "snils")


class PersonsFileError(ValueError):
    """The persons file is not what docs/esia.md describes; the message says where."""


def snils_checksum(nine_digits: str) -> int:
    """SNILS control number: Σ digit×weight (weights 9..1), reduced as the Pension Fund does."""
    total = sum(int(d) * (9 - i) for i, d in enumerate(nine_digits))
    while total > 101:
        total %= 101
    return 0 if total in (100, 101) else total


def normalise_snils(value: str) -> str:
    """``NNN-NNN-NNN NN`` when the checksum holds; ``ValueError`` otherwise."""
    match = _SNILS.match(value.strip())
    if not match:
        raise ValueError(f"SNILS {value!r} is not 11 digits")
    digits = "".join(match.groups()[:3])
    if snils_checksum(digits) != int(match.group(4)):
        raise ValueError(f"SNILS {value!r} has a wrong checksum")
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]} {match.group(4)}"


@dataclass(frozen=True)
class Kid:
    id: str
    fields: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        """As ESIA's kids resource shows it."""
        return {"id": int(self.id), **self.fields}


@dataclass(frozen=True)
class Person:
    oid: str
    fields: dict[str, str]
    trusted: bool
    email: str
    mobile: str
    kids: tuple[Kid, ...]

    @property
    def display_name(self) -> str:
        names = (self.fields["lastName"], self.fields["firstName"], self.fields["middleName"])
        return " ".join(n for n in names if n)


def _text(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key, "")
    if not isinstance(value, str):
        raise PersonsFileError(f"{where}: {key} must be a string")
    return value


def _names(item: dict[str, Any], where: str) -> dict[str, str]:
    fields = {key: _text(item, key, where) for key in _NAME_FIELDS}
    if not fields["lastName"] or not fields["firstName"]:
        raise PersonsFileError(f"{where}: lastName and firstName are required")
    try:
        datetime.strptime(fields["birthDate"], "%d.%m.%Y")
        fields["snils"] = normalise_snils(fields["snils"]) if fields["snils"] else ""
    except ValueError as exc:
        raise PersonsFileError(f"{where}: {exc}") from None
    if fields["gender"] not in ("M", "F", ""):
        raise PersonsFileError(f"{where}: gender must be M or F")
    return fields


def _identifier(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or int(text) <= 0:
        raise PersonsFileError(f"{where}: {key} must be a positive number")
    return str(int(text))


def _person(item: Any, index: int) -> Person:
    where = f"person #{index + 1}"
    if not isinstance(item, dict):
        raise PersonsFileError(f"{where}: must be an object")
    trusted = item.get("trusted")
    if not isinstance(trusted, bool):
        raise PersonsFileError(f"{where}: trusted must be true or false")
    kids_raw = item.get("kids", [])
    if not isinstance(kids_raw, list) or not all(isinstance(k, dict) for k in kids_raw):
        raise PersonsFileError(f"{where}: kids must be a list of objects")
    kids = tuple(
        Kid(_identifier(k, "id", f"{where}, kid #{n + 1}"), _names(k, f"{where}, kid #{n + 1}"))
        for n, k in enumerate(kids_raw)
    )
    return Person(
        oid=_identifier(item, "oid", where),
        fields=_names(item, where),
        trusted=trusted,
        email=_text(item, "email", where),
        mobile=_text(item, "mobile", where),
        kids=kids,
    )


def parse_persons(data: Any) -> tuple[Person, ...]:
    """Validate decoded JSON; oids must be unique."""
    if not isinstance(data, list) or not data:
        raise PersonsFileError("the persons file must be a non-empty JSON list")
    persons = tuple(_person(item, i) for i, item in enumerate(data))
    oids = [p.oid for p in persons]
    if len(set(oids)) != len(oids):
        raise PersonsFileError("oids must be unique")
    return persons


def load_persons(path: str | Path) -> tuple[Person, ...]:
    """Read and validate a persons file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PersonsFileError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise PersonsFileError(f"{path} is not valid JSON: {exc}") from None
    return parse_persons(data)


def builtin_persons() -> tuple[Person, ...]:
    """The built-in set: trusted and untrusted adults, a mother of three, a pupil with his own
    account (who is also one of her children), a father of one."""
    text = resources.files(__package__).joinpath("persons.json").read_text(encoding="utf-8")
    return parse_persons(json.loads(text))
