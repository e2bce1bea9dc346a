"""The mail worker: turns the outbox into sent mail, at least once, never lost.

A round (:meth:`MailWorker.run_once`) bundles the daily digests that are due, then claims
due mails, writes them, hands them to the SMTP server and records each outcome:

- *claiming* sets a lease (``lease_owner``, ``lease_until``) in one statement; on
  PostgreSQL its row lookup is ``FOR UPDATE SKIP LOCKED``, so two workers never claim the
  same mail; SQLite has one writer at a time anyway. A worker that dies mid-send leaves a
  lease that runs out, and the mail is sent again with the same Message-ID (at least once).
- *one sender at a time* across gateway instances on PostgreSQL: the worker works only
  while it holds a session-level advisory lock (:data:`ADVISORY_KEY`); the others wait.
- *retries*: a temporary failure waits 30 s, 1, 2, 4 … minutes, at most an hour, and gives
  up after :data:`GIVE_UP_AFTER` (as mail servers do); a permanent refusal (5xx) or a
  refused recipient is recorded on the row and never retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from config import Settings
from diary_core.clock import Clock, SystemClock
from diary_core.db import session_factory
from diary_core.models import User
from gateway.mail import outbox, smtp, wake
from gateway.mail.compose import Item, Letter, build, to_bytes
from gateway.mail.family import Child, child_of, family_of
from gateway.storage.mail import MailPreference, OutboxMail

log = logging.getLogger("ediary.mail")

#: pg_advisory_lock key of the one active sender (the bytes of "ediary-m").
ADVISORY_KEY = 0x6564696172792D6D
BATCH = 50
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=5)
DIGESTS_PER_ROUND = 100

o = OutboxMail.__table__.c


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s doubling, at most an hour."""
    return min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 16)), MAX_RETRY)


class MailWorker:
    """Sends the outbox through ``settings.mail``; one per process is enough."""

    def __init__(self, engine: AsyncEngine, settings: Settings, clock: Clock | None = None) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.settings = settings
        self.mail = settings.mail
        self.clock = clock or SystemClock()
        self.zone = ZoneInfo(settings.server.timezone)
        self.base_url = settings.mail.base_url or settings.server.public_url
        self.owner = uuid.uuid4().hex
        self.lease = timedelta(seconds=max(120, 4 * settings.mail.timeout_seconds))
        self.postgres = engine.dialect.name == "postgresql"
        self.domain = outbox.OutboxConfig.from_settings(settings).domain
        outbox.install(settings)

    # ------------------------------------------------------------------ the loop

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        """Work until ``stop`` is set (or cancelled): while this worker holds the sender
        lock, send whatever is due; sleep ``poll_seconds`` or until a commit in this process
        queues a mail."""
        stop = stop or asyncio.Event()
        woken = wake.subscribe()
        try:
            while not stop.is_set():
                async with self.sender_lock() as held:
                    while not stop.is_set() and await held():
                        await self._round_safely()
                        await _sleep(woken, stop, self.mail.poll_seconds)
                if not stop.is_set():
                    await _sleep(woken, stop, self.mail.poll_seconds)
        finally:
            wake.unsubscribe(woken)

    async def _round_safely(self) -> None:
        try:
            while await self.run_once():
                pass
        except Exception:  # a database hiccup must not end the worker: log, go on
            log.exception("mail: a round of the outbox failed; trying again shortly")

    @contextlib.asynccontextmanager
    async def sender_lock(self) -> AsyncIterator[Callable[[], Awaitable[bool]]]:
        """Try to become the one sender; yields a check "do I still hold it?".

        PostgreSQL: a session-level advisory lock on a connection of its own, held while
        working; the check is a round trip on that connection, so a lock lost with its
        connection (the server restarted) is noticed before the next round. SQLite: always
        held: its writers take turns anyway, and a claim is one atomic statement."""
        if not self.postgres:
            yield _always
            return
        try:
            conn = await self.engine.connect()
        except Exception as exc:
            log.warning("mail: cannot reach the database for the sender lock: %s", exc)
            yield _never
            return
        got = False
        try:
            got = bool(
                await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
            )
            await conn.commit()
        except Exception as exc:
            log.warning("mail: cannot ask the database for the sender lock: %s", exc)
        try:
            yield (lambda: _alive(conn)) if got else _never
        finally:
            with contextlib.suppress(Exception):
                if got:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                    await conn.commit()
            await conn.close()

    # ------------------------------------------------------------------ a round

    async def run_once(self) -> int:
        """Bundle due digests, then send one batch of due mails. Returns how many mails
        were handled (0: nothing was due)."""
        await self.bundle_digests()
        claimed = await self._claim()
        if not claimed:
            return 0
        letters = await self._letters(claimed)
        ready = [(mid, m) for mid, m in letters.items() if isinstance(m, smtp.Outgoing)]
        outcomes = await smtp.deliver(self.mail, [m for _, m in ready]) if ready else []
        results = {mid: out for (mid, _), out in zip(ready, outcomes, strict=True)}
        results.update((mid, m) for mid, m in letters.items() if isinstance(m, smtp.Outcome))
        cancelled = [mid for mid, m in letters.items() if m is None]
        await self._record(results, cancelled)
        return len(claimed)

    async def _claim(self) -> list[int]:
        now = self.clock.now()
        free = or_(o.lease_until.is_(None), o.lease_until < now)
        due = (
            select(o.id)
            .where(o.status == "queued", o.due_at <= now, free)
            .order_by(o.due_at, o.id)
            .limit(BATCH)
        )
        if self.postgres:
            due = due.with_for_update(skip_locked=True)
        async with self.sessions() as s, s.begin():
            rows = await s.execute(
                update(OutboxMail)
                .where(o.id.in_(due.scalar_subquery()), o.status == "queued", free)
                .values(lease_owner=self.owner, lease_until=now + self.lease)
                .returning(o.id)
            )
            return sorted(rows.scalars())

    async def _letters(self, ids: Sequence[int]) -> dict[int, smtp.Outgoing | smtp.Outcome | None]:
        """Each claimed mail written out; None for one its recipient no longer wants; a
        ``failed`` outcome for one that cannot be written (so it does not block the rest)."""
        async with self.sessions() as s:
            rows = list(await s.scalars(select(OutboxMail).where(OutboxMail.id.in_(ids))))
            prefs = {
                p.user_id: p
                for p in await s.scalars(
                    select(MailPreference).where(
                        MailPreference.user_id.in_({r.user_id for r in rows})
                    )
                )
            }
            families: dict[int, dict[int, Child]] = {}  # read once per recipient per batch
            out: dict[int, smtp.Outgoing | smtp.Outcome | None] = {}
            for row in rows:
                try:
                    out[row.id] = await self._letter(s, row, prefs.get(row.user_id), families)
                except Exception as exc:
                    log.exception("mail %s cannot be written", row.id)
                    out[row.id] = smtp.Outcome("failed", f"cannot be written: {exc}"[:500])
            return out

    async def _letter(
        self,
        s: AsyncSession,
        row: OutboxMail,
        pref: MailPreference | None,
        families: dict[int, dict[int, Child]],
    ) -> smtp.Outgoing | None:
        digest = row.kind == "digest"
        if pref is None or not pref.enabled or not pref.address:
            return None
        if not digest and not outbox.wants(pref, row.kind):
            return None
        user = await s.get(User, row.user_id)
        assert user is not None
        if row.user_id not in families:
            families[row.user_id] = await family_of(s, row.user_id)
        family = families[row.user_id]
        sources = (
            list(
                await s.scalars(
                    select(OutboxMail)
                    .where(OutboxMail.digest_id == row.id)
                    .order_by(OutboxMail.event_at, OutboxMail.id)
                )
            )
            if digest
            else [row]
        )
        items = tuple(
            Item(i.kind, i.text, i.event_at, child_of(family, i.pupil_id, i.text))
            for i in sources
            if outbox.wants(pref, i.kind)  # a digest leaves out kinds switched off since
        )
        if not items:
            return None
        assert row.message_id is not None
        letter = Letter(
            message_id=row.message_id,
            address=pref.address,
            recipient=_address_name(user),
            items=items,
            digest=digest,
            unsubscribe_token=pref.unsubscribe_token,
            created_at=row.created_at,
        )
        message = build(letter, self.mail, self.base_url, self.zone)
        return smtp.Outgoing(self.mail.sender, pref.address, to_bytes(message))

    async def _record(self, results: dict[int, smtp.Outcome], cancelled: list[int]) -> None:
        now = self.clock.now()
        mine = o.lease_owner == self.owner
        released = {"lease_owner": None, "lease_until": None}
        async with self.sessions() as s, s.begin():
            if cancelled:
                await s.execute(
                    update(OutboxMail)
                    .where(o.id.in_(cancelled), mine)
                    .values(status="cancelled", **released)
                )
            before = {
                mid: (attempts, created)
                for mid, attempts, created in await s.execute(
                    select(o.id, o.attempts, o.created_at).where(o.id.in_(results))
                )
            }
            for mid, outcome in results.items():
                attempts, created = before[mid]
                values: dict[str, Any] = {
                    **released,
                    "attempts": attempts + 1,
                    "last_error": outcome.detail,
                }
                if outcome.status == "sent":
                    values.update(status="sent", sent_at=now)
                elif outcome.status in ("refused", "bounced", "failed"):
                    values.update(status=outcome.status)
                    log.warning("mail %s %s: %s", mid, outcome.status, outcome.detail)
                elif now - created > GIVE_UP_AFTER:
                    values.update(status="failed")
                    log.error("mail %s: given up after %s: %s", mid, GIVE_UP_AFTER, outcome.detail)
                else:
                    values["due_at"] = now + backoff(attempts + 1)
                await s.execute(update(OutboxMail).where(o.id == mid, mine).values(**values))

    # ------------------------------------------------------------------ digests

    async def bundle_digests(self) -> int:
        """Each person whose digest hour has come gets one queued mail of everything held
        for him; the held rows point at it (``digest_id``). Returns how many were made."""
        now = self.clock.now()
        async with self.sessions() as s:
            users = list(
                await s.scalars(
                    select(o.user_id)
                    .where(o.status == "held", o.due_at <= now)
                    .distinct()
                    .limit(DIGESTS_PER_ROUND)
                )
            )
        made = 0
        for user_id in users:
            made += await self._bundle(user_id, now)
        return made

    async def _bundle(self, user_id: int, now: datetime) -> int:
        due = select(o.id).where(o.user_id == user_id, o.status == "held", o.due_at <= now)
        if self.postgres:
            due = due.with_for_update(skip_locked=True)
        async with self.sessions() as s, s.begin():
            ids = list(await s.scalars(due))
            if not ids:
                return 0
            pref = await s.get(MailPreference, user_id)
            if pref is None or not pref.enabled or not pref.address:
                await s.execute(update(OutboxMail).where(o.id.in_(ids)).values(status="cancelled"))
                return 0
            last = await s.scalar(select(func.max(o.event_at)).where(o.id.in_(ids)))
            digest = OutboxMail(
                user_id=user_id,
                address=pref.address,
                kind="digest",
                text="",
                pupil_id=None,
                event_at=last or now,
                created_at=now,
                status="queued",
                due_at=now,
                message_id=outbox.new_message_id(self.domain),
                attempts=0,
                last_error="",
            )
            s.add(digest)
            await s.flush()
            await s.execute(
                update(OutboxMail)
                .where(o.id.in_(ids))
                .values(status="bundled", digest_id=digest.id)
            )
        return 1


def _address_name(user: User) -> str:
    """How a mail greets its reader: «Анна Петровна», or the full name without a patronymic."""
    if user.middle_name:
        return f"{user.first_name} {user.middle_name}"
    return f"{user.first_name} {user.last_name}".strip()


async def _always() -> bool:
    return True


async def _never() -> bool:
    return False


async def _alive(conn: AsyncConnection) -> bool:
    try:
        await conn.execute(text("SELECT 1"))
        await conn.commit()
    except Exception:
        return False
    return True


async def _sleep(woken: asyncio.Event, stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if a mail was queued in this process or we must stop."""
    waits = [asyncio.ensure_future(woken.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
        woken.clear()
