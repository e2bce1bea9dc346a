"""The fingerprint of everything a pupil's progress documents are built from, so a signed
document is reused while it is unchanged.

The portal reads it in the same round trip as its bearer token (:data:`PUPIL_VERSION` is a
statement the gateway composes into that lookup), before the client is known; what the row
holds is handed out only by :func:`readable_version`, once the policy allows it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, bindparam, cast, func, literal_column, select

from diary_core.errors import NotFound
from diary_core.models import (
    ChangeLogEntry,
    Period,
    Pupil,
    School,
    SchoolClass,
    Subject,
    User,
    WorkType,
)
from diary_core.policy import PortalReader, PortalScope, PupilPlace, require_portal
from diary_core.progress.model import PupilInfo, SchoolInfo


def _names_of(model: Any, *columns: Any) -> Any:
    """All names of one kind of the pupil's school, as one string (a scalar subquery)."""
    parts: list[ColumnElement[str]] = [cast(c, String) for c in columns]
    label = parts[0]
    for p in parts[1:]:
        label = label + "/" + p
    return (
        select(func.aggregate_strings(label, _SEPARATOR))
        .where(model.school_id == Pupil.school_id)
        .scalar_subquery()
    )


#: The separator of :func:`_names_of`, written into the SQL (a plain ``"|"`` is a parameter
#: that SQLAlchemy renders into the statement anew at every execution).
_SEPARATOR: Any = literal_column("'|'")


def _version_query() -> Any:
    """The pupil with the SNILS ``snils`` (the bound parameter, normalised), his place, and
    everything his documents are built from: the fingerprint's inputs.

    They are: every change-log entry of the pupil (count and highest id, so a correction, a
    deletion, or a transaction that committed late with a lower id all change it), the
    pupil's names, SNILS, class and school, and the names of the school's subjects and work
    types and its periods' names and dates. It is pupil-wide, not per range, and a renamed
    subject the pupil has no marks in also changes it: both only cost a re-signature.
    (A period mark's lock state is not part of the document, so it is not covered.)"""
    log = select(ChangeLogEntry.id).where(ChangeLogEntry.pupil_id == Pupil.id)
    return (
        select(
            Pupil.id,
            Pupil.school_id,
            Pupil.class_id,
            User.snils,
            User.last_name,
            User.first_name,
            User.middle_name,
            SchoolClass.name,
            School.name,
            log.with_only_columns(func.count()).scalar_subquery(),
            log.with_only_columns(func.max(ChangeLogEntry.id)).scalar_subquery(),
            _names_of(Subject, Subject.id, Subject.name),
            _names_of(WorkType, WorkType.id, WorkType.name),
            _names_of(Period, Period.id, Period.name, Period.starts_on, Period.ends_on),
        )
        .join(User, User.id == Pupil.user_id)
        .join(SchoolClass, SchoolClass.id == Pupil.class_id)
        .join(School, School.id == Pupil.school_id)
        .where(User.snils == bindparam("snils"))
    )


#: The pupil by SNILS and his data's fingerprint inputs (:func:`_version_query`), built once:
#: the portal reads it on every request, with its other reads in one round trip.
PUPIL_VERSION = _version_query()


@dataclass(frozen=True)
class PupilVersion:
    """A pupil found by SNILS, what his documents say about him, and the fingerprint of
    everything they are built from."""

    place: PupilPlace
    pupil: PupilInfo
    version: str


def version_place(row: Sequence[Any]) -> PupilPlace | None:
    """Where the pupil of a row of :data:`PUPIL_VERSION`'s columns is (his ids, for the audit
    log, which names a pupil the client was refused), or None for a row that found nobody."""
    return None if row[0] is None else PupilPlace(row[0], row[1], row[2])


def readable_version(reader: PortalReader, row: Sequence[Any]) -> PupilVersion:
    """The :class:`PupilVersion` in a row of :data:`PUPIL_VERSION`'s columns, if the reader
    may read the pupil: NotFound for a row that found nobody and for a pupil out of the
    reader's reach alike, Forbidden without ``progress.read``."""
    place = version_place(row)
    require_portal(reader, PortalScope.READ_PROGRESS, place)
    if place is None:
        raise NotFound("обучающийся не найден")
    school = SchoolInfo(row[1], row[8])
    pupil = PupilInfo(row[0], row[3], row[4], row[5], row[6], row[2], row[7], school)
    return PupilVersion(place, pupil, _fingerprint(row))


def _fingerprint(row: Sequence[Any]) -> str:
    return hashlib.sha256(repr(tuple(row)).encode()).hexdigest()
