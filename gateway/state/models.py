"""Tables of the gateway's own state. Migrations: diary_core/migrations/versions/0003_*, 0005_*."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from diary_core.models.base import Base, BigId, UTCDateTime


class WebSession(Base):
    """A browser session. The cookie holds a random token; only its SHA-256 is stored, so a
    database leak does not hand out live sessions."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    acting_role: Mapped[str | None] = mapped_column(String(20))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    method: Mapped[str] = mapped_column(String(12), default="")  # password | esia
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LoginTransaction(Base):
    """One ESIA sign-in in flight: bound to the browser session that started it, single use,
    short-lived. Any gateway instance can complete it."""

    __tablename__ = "login_transactions"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64))
    protocol: Mapped[str] = mapped_column(String(4))
    next_path: Mapped[str] = mapped_column(String(500), default="")
    nonce: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInEvent(Base):
    """Every sign-in attempt: the user's login history and the throttling counters."""

    __tablename__ = "sign_in_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    login: Mapped[str] = mapped_column(String(100), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    method: Mapped[str] = mapped_column(String(12))  # password | esia
    success: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(60), default="")


class SignInCounter(Base):
    """Password checks taken within the current window for one throttled key
    (``login:<login>``, ``ip:<address>`` or ``all``): a slot is reserved before the check,
    atomically, and handed back if the password was right (gateway/throttle.py)."""

    __tablename__ = "sign_in_counters"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer)


Index("ix_sign_in_events_login_at", SignInEvent.login, SignInEvent.at)
Index("ix_sign_in_events_ip_at", SignInEvent.ip, SignInEvent.at)
Index("ix_sign_in_events_at", SignInEvent.at)
Index("ix_sign_in_events_user", SignInEvent.user_id, SignInEvent.at)
