"""The state services portal as a machine client: its registration, the assertion ids it has
used, the access tokens it holds, its request counters, and the signed documents kept for reuse.

Everything the portal feed remembers lives here, so any gateway instance answers any request.
Migration: diary_core/migrations/versions/0002_portal.py (it also adds a domain index).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from diary_core.models import Pupil
from diary_core.models.base import BigId, UTCDateTime
from gateway.storage.base import GatewayBase


class PortalClient(GatewayBase):
    """A registered machine client: its public keys (a JWKS), scopes and reach.

    ``school_ids`` empty (NULL) means the client serves every school of the deployment.
    """

    __tablename__ = "portal_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    jwks: Mapped[dict[str, object]] = mapped_column(JSON)
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated
    school_ids: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PortalAssertion(GatewayBase):
    """A client assertion's ``jti``, kept until the assertion expires: each is usable once."""

    __tablename__ = "portal_assertions"
    __table_args__ = (UniqueConstraint("client_id", "jti"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("portal_clients.id"))
    jti: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class PortalToken(GatewayBase):
    """An issued bearer token, stored only as its SHA-256 (a leaked table grants nothing)."""

    __tablename__ = "portal_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("portal_clients.id"), index=True)
    scopes: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class PortalRateCounter(GatewayBase):
    """Requests of one client in one fixed window (a minute), spread over a few ``shard``
    rows so concurrent requests do not queue on one row lock; the count is their sum."""

    __tablename__ = "portal_rate_counters"

    client_id: Mapped[int] = mapped_column(ForeignKey("portal_clients.id"), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer, default=0)


class PortalDocument(GatewayBase):
    """A signed progress document kept for reuse while its data is unchanged.

    One row per pupil × range × format; ``etag`` names the data version and signing key it
    was built from, so a stale row is simply replaced. Rows older than the configured age
    are pruned.
    """

    __tablename__ = "portal_documents"
    __table_args__ = (UniqueConstraint("pupil_id", "range_from", "range_to", "format"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey(Pupil.id, ondelete="CASCADE"))
    range_from: Mapped[date] = mapped_column(Date)
    range_to: Mapped[date] = mapped_column(Date)
    format: Mapped[str] = mapped_column(String(8))  # xml | jose | json
    etag: Mapped[str] = mapped_column(String(80))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
