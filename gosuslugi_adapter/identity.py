"""The neutral identity record the adapter hands to the gateway.

Plain data built from ESIA's person, contacts and kids resources. It says nothing about the
diary: the gateway and the core decide what this identity may see.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from gosuslugi_adapter.errors import EsiaProtocolError


@dataclass(frozen=True)
class EsiaChild:
    """A child as ESIA's ``kids`` resource lists it (fields depend on the granted kid_* scopes)."""

    id: str
    last_name: str
    first_name: str
    middle_name: str
    birth_date: date | None
    gender: str
    snils: str


@dataclass(frozen=True)
class EsiaIdentity:
    """A person signed in through ESIA. ``oid`` is ESIA's stable person id.

    ``trusted`` is ESIA's "confirmed account" flag: only a trusted account's SNILS and names were
    checked against state registers, so only they may be linked automatically.
    """

    oid: str
    last_name: str
    first_name: str
    middle_name: str
    birth_date: date | None
    gender: str
    snils: str
    trusted: bool
    email: str = ""
    mobile: str = ""
    children: tuple[EsiaChild, ...] = ()


def parse_esia_date(value: object) -> date | None:
    """ESIA dates are ``dd.MM.yyyy``; absent → None; anything else is a protocol error."""
    if value in (None, ""):
        return None
    try:
        return datetime.strptime(str(value), "%d.%m.%Y").date()
    except ValueError:
        raise EsiaProtocolError(f"ESIA sent a date in an unexpected format: {value!r}") from None


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def child_from_json(data: Mapping[str, Any]) -> EsiaChild:
    """One element of ``/rs/prns/{oid}/kids?embed=(elements)``."""
    return EsiaChild(
        id=_text(data, "id"),
        last_name=_text(data, "lastName"),
        first_name=_text(data, "firstName"),
        middle_name=_text(data, "middleName"),
        birth_date=parse_esia_date(data.get("birthDate")),
        gender=_text(data, "gender"),
        snils=_text(data, "snils"),
    )


def _contact(contacts: list[Mapping[str, Any]], kind: str) -> str:
    for item in contacts:
        if item.get("type") == kind and item.get("vrfStu", "VERIFIED") == "VERIFIED":
            return _text(item, "value")
    return ""


def identity_from_json(
    oid: str,
    person: Mapping[str, Any],
    contacts: list[Mapping[str, Any]],
    kids: list[Mapping[str, Any]],
) -> EsiaIdentity:
    """Assemble the record from the three REST resources (``trusted`` must be a JSON boolean)."""
    trusted = person.get("trusted")
    if not isinstance(trusted, bool):
        raise EsiaProtocolError("ESIA person resource lacks a boolean 'trusted'")
    return EsiaIdentity(
        oid=oid,
        last_name=_text(person, "lastName"),
        first_name=_text(person, "firstName"),
        middle_name=_text(person, "middleName"),
        birth_date=parse_esia_date(person.get("birthDate")),
        gender=_text(person, "gender"),
        snils=_text(person, "snils"),
        trusted=trusted,
        email=_contact(contacts, "EML"),
        mobile=_contact(contacts, "MBT"),
        children=tuple(child_from_json(kid) for kid in kids),
    )
