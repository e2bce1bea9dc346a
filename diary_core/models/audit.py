"""The append-only audit log: every access to a pupil's personal data and every change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from diary_core.models.base import Base, BigId, UTCDateTime


class AuditEvent(Base):
    """Never updated or deleted: the migration installs triggers that refuse both."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_kind: Mapped[str] = mapped_column(String(12))  # user | portal | system
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(60))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupils.id"))
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


Index("ix_audit_school_at", AuditEvent.school_id, AuditEvent.at)
Index("ix_audit_pupil", AuditEvent.pupil_id)
