"""Signed documents kept for reuse: unchanged data is never signed again.

Two levels: the ``portal_documents`` table (shared by every instance; the truth) and a small
in-process LRU in front of it. Entries are keyed by ETag, which names the data version and
the signing key, so an entry can never be served for data it was not built from.

A request learns the ETag of the row kept for its pupil, range and format in the round trip
that reads the pupil (:func:`with_stored`), so it reads the row itself only when that ETag is
the one it needs and its process does not hold the document already; a new document is
written with the request's other writes (:meth:`DocumentCache.put`).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from diary_core.unnest import unnest
from gateway.portal.commits import Bulk
from gateway.storage import PortalDocument

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


def with_stored(query: Select[Any], pupil_id: Any) -> Select[Any]:
    """``query`` (at most one row, naming a pupil by its column ``pupil_id``) with the id and
    ETag of the document kept for that pupil and the range and format in the bound
    parameters ``doc_from``, ``doc_to`` and ``doc_format`` (NULL when none is kept)."""
    doc = PortalDocument
    kept = and_(
        doc.pupil_id == pupil_id,
        doc.range_from == bindparam("doc_from", type_=doc.range_from.type),
        doc.range_to == bindparam("doc_to", type_=doc.range_to.type),
        doc.format == bindparam("doc_format", type_=doc.format.type),
    )
    return query.add_columns(doc.id, doc.etag).outerjoin(doc, kept)


def stored_params(key: DocKey) -> dict[str, Any]:
    """The parameters of :func:`with_stored` for ``key``."""
    return {"doc_from": key.start, "doc_to": key.end, "doc_format": key.format}


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


_BODY = select(PortalDocument.body).where(
    PortalDocument.id == bindparam("doc_id"),
    PortalDocument.etag == bindparam("doc_etag", type_=PortalDocument.etag.type),
)


#: The store's parameters and the columns they fill; a kept document is one per pupil, range
#: and format (:data:`_KEY`), replaced by a newer one (:data:`_REPLACED`).
_COLUMNS = {
    "doc_pupil": "pupil_id",
    "doc_from": "range_from",
    "doc_to": "range_to",
    "doc_format": "format",
    "doc_etag": "etag",
    "doc_body": "body",
    "doc_at": "created_at",
}
_KEY = ["pupil_id", "range_from", "range_to", "format"]
_REPLACED = ("etag", "body", "created_at")


def _replacing(stmt: Any) -> Any:
    """``stmt`` (an INSERT of kept documents) replacing the document kept for the same key."""
    kept = {column: stmt.excluded[column] for column in _REPLACED}
    return stmt.on_conflict_do_update(index_elements=_KEY, set_=kept)


def _store_statement(insert: Any) -> Any:
    table = PortalDocument.__table__
    values = {
        column: bindparam(name, type_=table.c[column].type) for name, column in _COLUMNS.items()
    }
    return _replacing(insert(PortalDocument).values(values))


#: Keeping a document, by dialect.
_STORE = {"postgresql": _store_statement(pg_insert), "sqlite": _store_statement(sqlite_insert)}


def _store_many() -> Any:
    """Keeping any number of documents (PostgreSQL): of two for one pupil, range and format
    the later is kept (one statement may not write a row twice), and rows are written in
    key order, the lock order every batch follows."""
    table = PortalDocument.__table__
    rows = unnest({name: table.c[column].type for name, column in _COLUMNS.items()})
    key = [rows.c.doc_pupil, rows.c.doc_from, rows.c.doc_to, rows.c.doc_format]
    latest = (
        select(*(rows.c[name] for name in _COLUMNS))
        .ext(distinct_on(*key))
        .order_by(*key, rows.c.n.desc())
    )
    return _replacing(pg_insert(PortalDocument).from_select(list(_COLUMNS.values()), latest))


#: Keeping documents in a group commit (gateway/portal/commits.py).
STORE_BULK = Bulk(_STORE["postgresql"], _store_many(), tuple(_COLUMNS))


class DocumentCache:
    def __init__(self, max_age: timedelta) -> None:
        self.memory = MemoryCache()
        self._max_age = max_age
        self._stores = 0

    async def get(self, conn: AsyncConnection, etag: str, stored: tuple[Any, Any]) -> bytes | None:
        """The document with this ETag: from memory, else the kept row ``stored`` (its id
        and ETag, read by :func:`with_stored`) if it is this document."""
        body = self.memory.get(etag)
        if body is not None:
            return body
        doc_id, stored_etag = stored
        if stored_etag != etag:
            return None
        body = await conn.scalar(_BODY, {"doc_id": doc_id, "doc_etag": etag})
        if body is not None:
            self.memory.put(etag, body)
        return body

    async def put(
        self, conn: AsyncConnection, key: DocKey, etag: str, body: bytes, now: datetime
    ) -> tuple[Any, dict[str, Any]]:
        """Keep the document: in memory now, and in the database by the statement returned
        (with its parameters), which the caller runs with the request's other writes.
        Every :data:`PRUNE_EVERY` stores, rows older than the configured age go first."""
        self.memory.put(etag, body)
        self._stores += 1
        if self._stores % PRUNE_EVERY == 0:
            await conn.execute(
                delete(PortalDocument).where(PortalDocument.created_at < now - self._max_age)
            )
        params = {
            **stored_params(key),
            "doc_pupil": key.pupil_id,
            "doc_etag": etag,
            "doc_body": body,
            "doc_at": now,
        }
        return _STORE[conn.dialect.name], params
