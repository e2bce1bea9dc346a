"""The history of a lesson's topic and homework: who changed them, when, from what to what."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from diary_core.models.base import Base, BigId, UTCDateTime


class LessonHistoryEntry(Base):
    """One change of a lesson's topic or homework (docs/regulation.md, clause 1.4: every record
    carries who changed it and when). ``action`` is ``create`` for the lesson's first entry, whose
    ``old_*`` are empty; otherwise ``update``. Written by :mod:`diary_core.lessons` only."""

    __tablename__ = "lesson_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"))
    action: Mapped[str] = mapped_column(String(8))  # create | update
    old_topic: Mapped[str] = mapped_column(Text, default="")
    new_topic: Mapped[str] = mapped_column(Text, default="")
    old_homework: Mapped[str] = mapped_column(Text, default="")
    new_homework: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


Index("ix_lesson_history_lesson", LessonHistoryEntry.lesson_id, LessonHistoryEntry.id)
