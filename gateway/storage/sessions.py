"""Browser sessions: what the stateless gateway remembers of a signed-in browser, kept in
the database so any instance serves any request. Migration:
gateway/storage/migrations/versions/0003_gateway_state.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from diary_core.models import User
from diary_core.models.base import UTCDateTime
from gateway.storage.base import GatewayBase


class WebSession(GatewayBase):
    """A browser session. The cookie holds a random token; only its SHA-256 is stored, so a
    database leak does not hand out live sessions."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey(User.id), index=True)
    acting_role: Mapped[str | None] = mapped_column(String(20))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    method: Mapped[str] = mapped_column(String(12), default="")  # password | esia
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
