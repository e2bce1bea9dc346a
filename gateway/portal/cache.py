"""Signed documents kept for reuse: unchanged data is never signed again.

Two levels: the ``portal_documents`` table (shared by every instance; the truth) and a small
in-process LRU in front of it. Entries are keyed by ETag, which names the data version and
the signing key, so an entry can never be served for data it was not built from.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from diary_core.models import PortalDocument
from gateway.portal.tokens import _insert

PRUNE_EVERY = 500  # stores between two prunings of old rows, per process


@dataclass(frozen=True)
class DocKey:
    pupil_id: int
    start: date
    end: date
    format: str  # xml | jose | json

    def etag(self, data_version: str, key_id: str) -> str:
        """A strong ETag for this document built from ``data_version`` with ``key_id``."""
        raw = f"{self.format}|{self.pupil_id}|{self.start}|{self.end}|{data_version}|{key_id}"
        return '"' + hashlib.sha256(raw.encode()).hexdigest()[:40] + '"'


class MemoryCache:
    """A bounded LRU of ETag → document bytes (immutable content, so safe to keep)."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes, self._max = 0, max_bytes

    def get(self, etag: str) -> bytes | None:
        body = self._items.get(etag)
        if body is not None:
            self._items.move_to_end(etag)
        return body

    def put(self, etag: str, body: bytes) -> None:
        if etag in self._items or len(body) > self._max:
            return
        self._items[etag] = body
        self._bytes += len(body)
        while self._bytes > self._max:
            _, old = self._items.popitem(last=False)
            self._bytes -= len(old)

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0


class DocumentCache:
    def __init__(self, max_age: timedelta) -> None:
        self.memory = MemoryCache()
        self._max_age = max_age
        self._stores = 0

    async def get(self, session: AsyncSession, key: DocKey, etag: str) -> bytes | None:
        body = self.memory.get(etag)
        if body is not None:
            return body
        body = await session.scalar(
            select(PortalDocument.body).where(
                PortalDocument.pupil_id == key.pupil_id,
                PortalDocument.range_from == key.start,
                PortalDocument.range_to == key.end,
                PortalDocument.format == key.format,
                PortalDocument.etag == etag,
            )
        )
        if body is not None:
            self.memory.put(etag, body)
        return body

    async def put(
        self, session: AsyncSession, key: DocKey, etag: str, body: bytes, now: datetime
    ) -> None:
        """Keep the document (replacing the one built from older data)."""
        self.memory.put(etag, body)
        values = {"etag": etag, "body": body, "created_at": now}
        await session.execute(
            _insert(session, PortalDocument)
            .values(
                pupil_id=key.pupil_id,
                range_from=key.start,
                range_to=key.end,
                format=key.format,
                **values,
            )
            .on_conflict_do_update(
                index_elements=["pupil_id", "range_from", "range_to", "format"], set_=values
            )
        )
        self._stores += 1
        if self._stores % PRUNE_EVERY == 0:
            await session.execute(
                delete(PortalDocument).where(PortalDocument.created_at < now - self._max_age)
            )
