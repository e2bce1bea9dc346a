"""The mail tables: who wants which notifications by e-mail, and the outbox of mails.

Migration: gateway/storage/migrations/versions/0011_mail.py. The outbox is written in the same
transaction as the notification it tells of (gateway/mail/outbox.py), so a mail exists
exactly when its notification does; the worker (gateway/mail/worker.py) sends it later.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from diary_core.models import Pupil, User
from diary_core.models.base import BigId, UTCDateTime
from gateway.storage.base import GatewayBase


class MailPreference(GatewayBase):
    """One person's choice: which notifications he gets by mail, where, and when."""

    __tablename__ = "mail_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey(User.id), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[str] = mapped_column(String(200), default="")
    marks: Mapped[bool] = mapped_column(Boolean, default=True)
    messages: Mapped[bool] = mapped_column(Boolean, default=True)
    announcements: Mapped[bool] = mapped_column(Boolean, default=True)
    timetable: Mapped[bool] = mapped_column(Boolean, default=True)
    #: ``instant``: a mail per notification; ``digest``: one mail a day at ``digest_hour``.
    mode: Mapped[str] = mapped_column(String(8), default="instant")
    digest_hour: Mapped[int] = mapped_column(Integer, default=18)  # school time, 0..23
    #: The one-click unsubscribe capability in every mail (RFC 8058): random, unique, and
    #: good for nothing but switching this person's mail off.
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxMail(GatewayBase):
    """A mail to send, or a notification held for a person's daily digest.

    ``status``: ``queued`` (to send at ``due_at``), ``held`` (waits for the digest due at
    ``due_at``), ``bundled`` (went out inside the digest ``digest_id``), ``sent``,
    ``refused`` (the server refused it for good: 5xx), ``bounced`` (the recipient was
    refused), ``cancelled`` (mail switched off before it went), ``failed`` (gave up after
    days of temporary failures). The Message-ID is made once, when the mail is queued, so
    every retry of it is recognisably the same mail.
    """

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(User.id))
    address: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey(Pupil.id))
    event_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(String(200))
    digest_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("mail_outbox.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: A worker's claim: until then no other worker takes the mail (a crashed worker's
    #: claim runs out, and the mail is sent again under the same Message-ID).
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


Index("ix_mail_outbox_due", OutboxMail.status, OutboxMail.due_at)
Index("ix_mail_outbox_user", OutboxMail.user_id, OutboxMail.status)
Index("ix_mail_outbox_digest", OutboxMail.digest_id)
