"""Sign-in: ESIA logins in flight, every sign-in attempt (the login history) and the
password throttle's counters. Migrations: gateway/storage/migrations/versions/0003_*, 0005_*."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from diary_core.models import User
from diary_core.models.base import BigId, UTCDateTime
from gateway.storage.base import GatewayBase


class LoginTransaction(GatewayBase):
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


class SignInEvent(GatewayBase):
    """Every sign-in attempt: the user's login history and the throttling counters."""

    __tablename__ = "sign_in_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    login: Mapped[str] = mapped_column(String(100), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey(User.id))
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    method: Mapped[str] = mapped_column(String(12))  # password | esia
    success: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(60), default="")


class SignInCounter(GatewayBase):
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
