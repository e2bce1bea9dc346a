"""Handing mails to the configured SMTP server (aiosmtplib), and what its answer means.

Each mail ends as one :class:`Outcome`: ``sent``; ``retry`` (a temporary failure: the server
is down, busy, or answered 4xx); ``refused`` (the server refused the mail for good, 5xx);
``bounced`` (the server refused the recipient for good). A failed sign-in to the server is a
configuration problem, not the mail's: its mails are retried, never marked refused.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import aiosmtplib

from config import MailSettings

log = logging.getLogger("ediary.mail")


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | retry | refused | bounced (| failed: the worker could not write it)
    detail: str = ""


SENT = Outcome("sent")


@dataclass(frozen=True)
class Outgoing:
    """One mail on the wire: the envelope sender and recipient, and the mail's bytes."""

    sender: str
    recipient: str
    data: bytes


def _client(mail: MailSettings) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=mail.host,
        port=mail.port,
        use_tls=mail.security == "tls",
        start_tls=mail.security == "starttls",
        timeout=mail.timeout_seconds,
    )


def _answer(code: int, message: str) -> str:
    return f"{code} {message}"[:500]


async def deliver(mail: MailSettings, messages: Sequence[Outgoing]) -> list[Outcome]:
    """Send ``messages`` over one connection; one outcome per message, in order."""
    client = _client(mail)
    try:
        await client.connect()
        if mail.username:
            await client.login(mail.username, mail.password)
    except aiosmtplib.SMTPAuthenticationError as exc:
        log.error("mail: the SMTP server refused our sign-in (%s %s)", exc.code, exc.message)
        return [Outcome("retry", _answer(exc.code, exc.message))] * len(messages)
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.warning("mail: cannot reach %s:%s: %s", mail.host, mail.port, exc)
        return [Outcome("retry", f"no connection: {exc}"[:500])] * len(messages)
    outcomes: list[Outcome] = []
    try:
        for message in messages:
            outcome = await _send_one(client, message)
            outcomes.append(outcome)
            if outcome.status == "retry" and not client.is_connected:
                break
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
    lost = Outcome("retry", "the connection to the SMTP server was lost")
    return outcomes + [lost] * (len(messages) - len(outcomes))


async def _send_one(client: aiosmtplib.SMTP, message: Outgoing) -> Outcome:
    try:
        await client.sendmail(message.sender, [message.recipient], message.data)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        worst = max(exc.recipients, key=lambda r: r.code)
        detail = _answer(worst.code, worst.message)
        return Outcome("bounced" if worst.code >= 500 else "retry", detail)
    except aiosmtplib.SMTPResponseException as exc:
        detail = _answer(exc.code, exc.message)
        return Outcome("refused" if exc.code >= 500 else "retry", detail)
    except (aiosmtplib.SMTPException, OSError) as exc:
        return Outcome("retry", str(exc)[:500] or type(exc).__name__)
    return SENT
