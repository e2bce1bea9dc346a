"""Bulk export of a school's signed progress documents as a stream (``ediary feed export``).

Pupils are read in keyset-paginated batches; while worker processes sign one batch the next
is read from the database, and signed documents are written out in pupil order as they come.
Memory holds about two batches, whatever the school's size.

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
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO
from xml.sax.saxutils import quoteattr

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import FeedSettings
from diary_core.progress import load_progress_batch, school_pupil_ids
from gateway.portal import documents
from gateway.portal.signing_worker import init_worker, sign
from gateway.portal.xml import NS

BATCH = 200
_DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"


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
    return _DECLARATION + f'<p:Export xmlns:p="{NS}" {text}>\n'.encode()


async def _docs(
    sessions: async_sessionmaker[AsyncSession], job: ExportJob, after: int
) -> tuple[int, list[documents.Json], int] | None:
    """The next batch: (last pupil id, JSON documents, number of marks), or None at the end."""
    async with sessions() as session:
        ids = await school_pupil_ids(session, job.school_id, after, BATCH)
        if not ids:
            return None
        batch = await load_progress_batch(session, ids, job.start, job.end)
    docs = [documents.progress_json(batch[i], job.meta) for i in ids if i in batch]
    return ids[-1], docs, sum(len(batch[i].marks) for i in ids if i in batch)


async def export(
    sessions: async_sessionmaker[AsyncSession],
    job: ExportJob,
    out: IO[bytes],
    pool: Executor,
    advance: Callable[[int], None],
) -> Counts:
    """Write every pupil's signed document to ``out``; ``advance(marks)`` after each batch."""
    loop = asyncio.get_running_loop()
    counts = Counts()
    if job.fmt == "xml":
        out.write(_head(job))
    following = await _docs(sessions, job, 0)
    while following is not None:
        last, docs, marks = following
        signing = [loop.run_in_executor(pool, sign, job.fmt, d) for d in docs]
        following = await _docs(sessions, job, last)  # read while the workers sign
        for body in await asyncio.gather(*signing):
            out.write(body)
            out.write(b"\n")
        counts.pupils += len(docs)
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
