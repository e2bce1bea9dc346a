"""Announcements to a school or a class, their read receipts, and personal notifications."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from diary_core.models.base import Base, BigId, UTCDateTime


class Announcement(Base):
    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"))
    kind: Mapped[str] = mapped_column(String(20))  # general | timetable_change | parent_meeting
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # school | staff | grade | class | classes (who is in each: diary_core.announcements.audience)
    audience: Mapped[str] = mapped_column(String(10), server_default="school")
    grade: Mapped[int | None] = mapped_column(Integer)  # audience "grade": its parents
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AnnouncementClass(Base):
    """A class an announcement of audience "classes" is addressed to."""

    __tablename__ = "announcement_classes"

    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True
    )
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), primary_key=True, index=True)


class AnnouncementReceipt(Base):
    __tablename__ = "announcement_receipts"

    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(30))  # new_mark | timetable_change | meeting | …
    text: Mapped[str] = mapped_column(Text)
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupils.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


Index("ix_notifications_user", Notification.user_id, Notification.created_at)
