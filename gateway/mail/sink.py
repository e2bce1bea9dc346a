"""A local SMTP server that keeps what it receives: the demo's "mailbox" (``/demo/mail``).

It runs on the caller's event loop (aiosmtpd's protocol on ``loop.create_server``), so the
demo needs no thread and no outside mail server; nothing it receives leaves the process.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import cached_property
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class ReceivedMail:
    """One mail as the sink got it: the envelope, the bytes, the moment; parsed when read
    (parsing is most of a sink's work, and most mails in a benchmark are never read)."""

    sender: str
    recipients: tuple[str, ...]
    raw: bytes
    received_at: datetime

    @cached_property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    def part(self, subtype: str) -> str:
        """The ``text/<subtype>`` body, decoded ("" if the mail has none)."""
        body = self.message.get_body(preferencelist=(subtype,))
        return "" if body is None else str(body.get_content())


class MailSink:
    """aiosmtpd handler: accepts every mail and keeps it in :attr:`mails` (oldest first)."""

    def __init__(self) -> None:
        self.mails: list[ReceivedMail] = []
        self.arrived = asyncio.Condition()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        mail = ReceivedMail(
            envelope.mail_from or "", tuple(envelope.rcpt_tos), raw, datetime.now(UTC)
        )
        async with self.arrived:
            self.mails.append(mail)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    async def wait_for(self, count: int) -> list[ReceivedMail]:
        """Wait until at least ``count`` mails have arrived (bound it with
        ``asyncio.timeout``); all of them, oldest first."""
        async with self.arrived:
            await self.arrived.wait_for(lambda: len(self.mails) >= count)
            return list(self.mails)


@asynccontextmanager
async def running_sink(handler: Any, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[int]:
    """Serve SMTP with ``handler`` on ``host:port`` (0: a free port) on the running loop;
    yields the port. Closing stops listening and drops open connections."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="ediary-sink", loop=loop), host, port
    )
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()
