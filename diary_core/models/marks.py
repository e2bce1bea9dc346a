"""Marks, attendance, period marks, and the change log that is their history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from diary_core.models.base import Base, BigId, Stamped, UTCDateTime


class Mark(Stamped, Base):
    """A mark as the teacher wrote it (``value``), with its number where it has one."""

    __tablename__ = "marks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id"), index=True)
    date: Mapped[date] = mapped_column(Date)
    value: Mapped[str] = mapped_column(String(8))
    numeric: Mapped[int | None] = mapped_column(Integer)
    work_type_id: Mapped[int] = mapped_column(ForeignKey("work_types.id"))
    weight: Mapped[int] = mapped_column(Integer)
    counts: Mapped[bool] = mapped_column(Boolean, default=True)
    comment: Mapped[str] = mapped_column(Text, default="")


#: A pupil's marks by date, with every field a progress document reads of them (PostgreSQL:
#: an index-only scan, see migration 0004; SQLite indexes the two key columns only).
Index(
    "ix_marks_pupil_date",
    Mark.pupil_id,
    Mark.date,
    postgresql_include=["id", "subject_id", "work_type_id", "weight", "value", "numeric", "counts"],
)
Index("ix_marks_subject_date", Mark.subject_id, Mark.date)


class Attendance(Stamped, Base):
    """Absent (н), ill (б) or late (оп) at one lesson; kept apart from marks."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("pupil_id", "date", "lesson_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"))
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    date: Mapped[date] = mapped_column(Date)
    lesson_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(4))


class PeriodMark(Stamped, Base):
    """A quarter/trimester/half or year mark for a subject; locked after sign-off."""

    __tablename__ = "period_marks"
    __table_args__ = (UniqueConstraint("pupil_id", "subject_id", "period_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    value: Mapped[str] = mapped_column(String(8))
    numeric: Mapped[int | None] = mapped_column(Integer)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ChangeLogEntry(Base):
    """One change of a mark, attendance record or period mark: old, new, who, when.

    It is the marks' history and the source of the portal's changes feed: ``id`` is the
    cursor; a deletion is an entry whose ``new`` is empty (a tombstone).
    """

    __tablename__ = "change_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"))
    entity: Mapped[str] = mapped_column(String(16))  # mark | attendance | period_mark
    entity_id: Mapped[int] = mapped_column(BigId)
    action: Mapped[str] = mapped_column(String(8))  # create | update | delete
    old: Mapped[dict[str, object] | None] = mapped_column(JSON)
    new: Mapped[dict[str, object] | None] = mapped_column(JSON)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")


Index("ix_change_log_entity", ChangeLogEntry.entity, ChangeLogEntry.entity_id)
Index("ix_change_log_pupil", ChangeLogEntry.pupil_id)
#: The portal data version of a pupil (count and max id of his entries, diary_core/progress.py).
Index("ix_change_log_pupil_id_id", ChangeLogEntry.pupil_id, ChangeLogEntry.id)
