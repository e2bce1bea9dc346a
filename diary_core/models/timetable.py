"""The weekly timetable, its per-date changes, and the lessons actually given."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from diary_core.models.base import Base, Stamped, UTCDateTime


class Timetable(Stamped, Base):
    """A class's weekly timetable from a date on; parents see it once it is published.

    From one date a class has at most one published timetable and at most one draft (the
    correction being prepared, which replaces the published one when it is published).
    """

    __tablename__ = "timetables"
    __table_args__ = (
        Index(
            "uq_timetables_published",
            "class_id",
            "valid_from",
            unique=True,
            sqlite_where=text("published_at IS NOT NULL"),
            postgresql_where=text("published_at IS NOT NULL"),
        ),
        Index(
            "uq_timetables_draft",
            "class_id",
            "valid_from",
            unique=True,
            sqlite_where=text("published_at IS NULL"),
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class TimetableSlot(Base):
    __tablename__ = "timetable_slots"
    __table_args__ = (UniqueConstraint("timetable_id", "weekday", "lesson_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    timetable_id: Mapped[int] = mapped_column(ForeignKey("timetables.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)  # 1 = Monday … 6 = Saturday
    lesson_number: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    room: Mapped[str] = mapped_column(String(20), default="")


class TimetableChange(Stamped, Base):
    """A change for one date: substitution, cancellation, room change or moved lesson."""

    __tablename__ = "timetable_changes"
    __table_args__ = (UniqueConstraint("class_id", "date", "lesson_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"))
    date: Mapped[date] = mapped_column(Date)
    lesson_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # substitution|cancellation|room_change|moved
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    room: Mapped[str] = mapped_column(String(20), default="")
    moved_to_date: Mapped[dt.date | None] = mapped_column(Date)
    moved_to_lesson: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")


class Lesson(Stamped, Base):
    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("class_id", "date", "lesson_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    date: Mapped[date] = mapped_column(Date)
    lesson_number: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(Text, default="")
    homework: Mapped[str] = mapped_column(Text, default="")


Index("ix_lessons_class_subject_date", Lesson.class_id, Lesson.subject_id, Lesson.date)
