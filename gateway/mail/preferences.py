"""A person's mail preferences: read, checked, saved, and switched off by the one-click link.

Changing them also reschedules what waits in the outbox: switching mail off cancels it, a
new digest hour moves the held notifications to it, leaving the digest sends them now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.errors import InvalidInput
from gateway.mail.outbox import new_unsubscribe_token, next_digest
from gateway.storage.mail import MailPreference, OutboxMail

MODES = ("instant", "digest")
SWITCHES = ("marks", "messages", "announcements", "timetable")
o = OutboxMail.__table__.c


@dataclass(frozen=True)
class MailChoice:
    enabled: bool
    address: str
    marks: bool
    messages: bool
    announcements: bool
    timetable: bool
    mode: str
    digest_hour: int


async def load(
    session: AsyncSession, user_id: int, default_address: str, default_hour: int
) -> MailChoice:
    """The person's choice, or the defaults (off, his address on file) if he never chose."""
    pref = await session.get(MailPreference, user_id)
    if pref is None:
        return MailChoice(False, default_address, True, True, True, True, "instant", default_hour)
    return MailChoice(
        pref.enabled,
        pref.address,
        pref.marks,
        pref.messages,
        pref.announcements,
        pref.timetable,
        pref.mode,
        pref.digest_hour,
    )


def check_address(value: str) -> str:
    """A mail address as typed, trimmed; a clear Russian error if it is not one."""
    value = value.strip()
    problem = InvalidInput("укажите адрес электронной почты вида имя@домен.ru", field="address")
    if not value or len(value) > 200 or any(c.isspace() for c in value):
        raise problem
    try:
        parsed = Address(addr_spec=value)
    except (HeaderParseError, ValueError, IndexError):
        raise problem from None
    if not parsed.username or "." not in parsed.domain:
        raise problem
    return value


def parse(form: Mapping[str, str]) -> MailChoice:
    """The account page's form: checkboxes are present when ticked."""
    enabled = form.get("enabled") == "on"
    mode = form.get("mode", "instant")
    if mode not in MODES:
        raise InvalidInput("выберите: сразу или раз в день", field="mode")
    try:
        hour = int(form.get("digest_hour", ""))
    except ValueError:
        raise InvalidInput("укажите час сводки от 0 до 23", field="digest_hour") from None
    if not 0 <= hour <= 23:
        raise InvalidInput("укажите час сводки от 0 до 23", field="digest_hour")
    raw_address = form.get("address", "")
    address = check_address(raw_address) if enabled or raw_address.strip() else ""
    switches = {name: form.get(name) == "on" for name in SWITCHES}
    return MailChoice(enabled, address, mode=mode, digest_hour=hour, **switches)


async def save(
    session: AsyncSession, user_id: int, choice: MailChoice, now: datetime, zone: ZoneInfo
) -> None:
    """Store the choice and reschedule the person's waiting mail to match it."""
    pref = await session.get(MailPreference, user_id)
    if pref is None:
        pref = MailPreference(user_id=user_id, unsubscribe_token=new_unsubscribe_token())
        session.add(pref)
    pref.enabled = choice.enabled
    pref.address = choice.address
    pref.marks, pref.messages = choice.marks, choice.messages
    pref.announcements, pref.timetable = choice.announcements, choice.timetable
    pref.mode, pref.digest_hour = choice.mode, choice.digest_hour
    pref.updated_at = now
    await session.flush()
    if not choice.enabled:
        await _cancel_waiting(session, user_id)
    elif choice.mode == "instant":
        await session.execute(
            update(OutboxMail).where(o.user_id == user_id, o.status == "held").values(due_at=now)
        )
    else:
        held = await session.execute(
            select(o.id, o.event_at).where(o.user_id == user_id, o.status == "held")
        )
        for mid, event_at in held:
            due = next_digest(event_at, choice.digest_hour, zone)
            await session.execute(
                update(OutboxMail).where(o.id == mid).values(due_at=max(due, now))
            )


async def unsubscribe(session: AsyncSession, token: str, now: datetime) -> bool:
    """Switch mail off for whoever holds ``token``; True if the token is someone's. Doing it
    twice changes nothing the second time (RFC 8058 clients may POST more than once)."""
    pref = await session.scalar(
        select(MailPreference).where(MailPreference.unsubscribe_token == token)
    )
    if pref is None:
        return False
    if pref.enabled:
        pref.enabled = False
        pref.updated_at = now
        await _cancel_waiting(session, pref.user_id)
    return True


async def exists(session: AsyncSession, user_id: int) -> bool:
    """Whether the person has ever saved mail preferences."""
    return await session.get(MailPreference, user_id) is not None


async def known_token(session: AsyncSession, token: str) -> bool:
    found = await session.scalar(
        select(MailPreference.user_id).where(MailPreference.unsubscribe_token == token)
    )
    return found is not None


async def _cancel_waiting(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(OutboxMail)
        .where(o.user_id == user_id, o.status.in_(("queued", "held")), o.lease_owner.is_(None))
        .values(status="cancelled")
    )
