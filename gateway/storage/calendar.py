"""Tables of timetable subscriptions. Migration: diary_core/migrations/versions/0012_*."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from diary_core.models import User
from diary_core.models.base import UTCDateTime
from gateway.storage.base import GatewayBase


class CalendarFeed(GatewayBase):
    """A private subscription address of one account. The address carries a random token;
    only its SHA-256 is stored, so a database leak does not hand out timetables. An account
    has at most one live (not revoked) address: renewing revokes the old one."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (
        Index(
            "uq_calendar_feeds_live",
            "user_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(User.id), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The ETag of what the address served last and when that content first appeared (its
    #: Last-Modified): a poll that finds other content moves both.
    content_etag: Mapped[str | None] = mapped_column(String(64))
    content_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CalendarEventVersion(GatewayBase):
    """What an event of a feed last looked like, and its revision: ``sequence`` grows by one
    each time the event's content (time, status, subject, teacher, room, homework) differs
    from ``fingerprint``, and ``changed_at`` is its DTSTAMP. Keyed by the event's UID, which
    is stable per lesson slot and date, so renders agree and calendars see each change.
    ``day`` is the event's date: rows of days no feed shows any more are deleted."""

    __tablename__ = "calendar_event_versions"

    uid: Mapped[str] = mapped_column(String(300), primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
