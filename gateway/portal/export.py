"""Bulk export of a school's signed progress documents as a stream (``ediary feed export``).

Pupils are read in keyset-paginated batches of plain row tuples; worker processes build and
sign whole batches while the next ones are read, and the signed batches are written out in
pupil order as they come. At most :data:`IN_FLIGHT` batches are out at once, so memory stays
flat whatever the school's size.

Formats (documented in docs/portal.md):

- ``xml``: one ``p:Export`` root (namespace ``urn:ediary-gateway:progress:1``) wrapping each
  pupil's separately signed ``p:Progress`` document. Each signature covers its own document
  (``URI=""``, exclusive C14N): to verify one, take that element out as a document of its own.
- ``jose``: one compact JWS per line.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO
from xml.sax.saxutils import quoteattr

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import FeedSettings
from diary_core.progress import ProgressRows, load_progress_rows, school_pupil_ids
from gateway.portal import documents
from gateway.portal.signing import DECLARATION
from gateway.portal.signing_worker import init_worker, sign_batch
from gateway.portal.xml import NS

BATCH = 25  # pupils per batch (about 3,000 marks in a full year: small working sets)
IN_FLIGHT = 2 * (os.cpu_count() or 1) + 1  # batches being signed or waiting to be written


@dataclass(frozen=True)
class ExportJob:
    school_id: int
    school_name: str
    start: date
    end: date
    fmt: str  # xml | jose
    meta: documents.Meta


@dataclass
class Counts:
    pupils: int = 0
    marks: int = 0


def _head(job: ExportJob) -> bytes:
    attrs = {
        "version": "1",
        "schoolId": str(job.school_id),
        "school": job.school_name,
        "from": job.start.isoformat(),
        "to": job.end.isoformat(),
        "issuer": job.meta.issuer,
        "issuedAt": documents.timestamp(job.meta.issued_at),
    }
    text = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
    return DECLARATION + f'<p:Export xmlns:p="{NS}" {text}>\n'.encode()


async def _rows(
    sessions: async_sessionmaker[AsyncSession], job: ExportJob, after: int
) -> tuple[int, ProgressRows] | None:
    """The next batch as plain rows (last pupil id, rows), or None at the end."""
    async with sessions() as session:
        ids = await school_pupil_ids(session, job.school_id, after, BATCH)
        if not ids:
            return None
        return ids[-1], await load_progress_rows(session, ids, job.start, job.end)


async def export(
    sessions: async_sessionmaker[AsyncSession],
    job: ExportJob,
    out: IO[bytes],
    pool: Executor,
    advance: Callable[[int], None],
    in_flight: int = IN_FLIGHT,
) -> Counts:
    """Write every pupil's signed document to ``out``; ``advance(marks)`` after each batch.

    The main process only reads rows and writes bytes: the workers build and sign whole
    batches. At most ``in_flight`` batches are out at once (memory stays flat), and they are
    written in pupil order as they come back."""
    loop = asyncio.get_running_loop()
    counts = Counts()
    if job.fmt == "xml":
        out.write(_head(job))
    pending: deque[tuple[asyncio.Future[bytes], int, int]] = deque()
    after, done = 0, False
    while True:
        if not done:
            batch = await _rows(sessions, job, after)
            done = batch is None
            if batch is not None:
                after, rows = batch
                signing = loop.run_in_executor(pool, sign_batch, job.fmt, rows, job.meta)
                pending.append((signing, len(rows.pupils), len(rows.marks)))
        if not pending:
            break
        if done or len(pending) >= in_flight:
            signed, pupils, marks = pending.popleft()
            out.write(await signed)
            counts.pupils += pupils
            counts.marks += marks
            advance(marks)
    if job.fmt == "xml":
        out.write(b"</p:Export>\n")
    return counts


def signing_pool(feed: FeedSettings, workers: int | None = None) -> ProcessPoolExecutor:
    """Worker processes that sign with the ``[feed]`` key (give them a key file: a throwaway
    key would differ from one worker to the next)."""
    return ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1,
        mp_context=multiprocessing.get_context("spawn"),  # no fork of a process with threads
        initializer=init_worker,
        initargs=(feed,),
    )


def now_meta(issuer: str, at: datetime) -> documents.Meta:
    return documents.Meta(issuer, at, at)
