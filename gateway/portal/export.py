"""Bulk export of a school's signed progress documents as a stream (``ediary feed export``).

The main process only hands out batches of pupil ids (keyset pagination over the school's
pupils) and writes the output. Worker processes (:mod:`gateway.portal.signing_worker`) each
read their batches from the database through their own connection, build and sign every
pupil's document and send back the batch's bytes; the main process writes them in pupil
order as they come. At most ``in_flight`` batches are out at once, so memory stays flat
whatever the school's size. The workers are forked from the command before it starts its
event loop (no imports of their own, shared memory), or spawned where that is not safe
(:func:`export_pool`).

Formats (documented in docs/portal.md):

- ``xml``: one ``p:Export`` root (namespace ``urn:ediary-gateway:progress:1``) wrapping each
  pupil's separately signed ``p:Progress`` document. Each signature covers its own document
  (``URI=""``, exclusive C14N): to verify one, take that element out as a document of its own.
- ``jose``: one compact JWS per line.

A pupil whose stored data holds a character XML cannot carry (data stored before the diary
refused such characters, :mod:`diary_core.text`) is left out of an XML export and reported
(:attr:`Counts.skipped`); the file is still whole and well-formed. The command line writes
the output through a temporary file renamed over the target only once it is complete
(:func:`gateway.cli.common.atomic_output`).
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO
from xml.sax.saxutils import quoteattr

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import FeedSettings
from diary_core.errors import InvalidInput
from diary_core.policy import PortalReader
from diary_core.progress.export import school_pupil_ids
from gateway.portal import documents
from gateway.portal.signing import DECLARATION
from gateway.portal.signing_worker import Batch, Signed, Skipped, export_batch, init_worker
from gateway.portal.xml import NS, find_not_xml

BATCH = 50  # pupils per batch (about 6,000 marks in a full year: small working sets)
IDS_PER_QUERY = 20 * BATCH  # pupil ids the main process reads at a time
IN_FLIGHT_PER_WORKER = 2  # batches per worker being made or waiting to be written


@dataclass(frozen=True)
class ExportJob:
    school_id: int
    school_name: str
    start: date
    end: date
    fmt: str  # xml | smev3 | jose
    meta: documents.Meta


@dataclass
class Counts:
    pupils: int = 0
    marks: int = 0
    skipped: list[Skipped] = field(default_factory=list)  # pupils left out, in pupil order


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
    bad = find_not_xml(attrs)
    if bad is not None:  # a school name stored before such characters were refused
        raise InvalidInput(
            f"атрибут {bad[0]} заголовка выгрузки содержит недопустимый в XML символ "
            f"U+{ord(bad[1]):04X}; исправьте его и повторите выгрузку"
        )
    text = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
    return DECLARATION + f'<p:Export xmlns:p="{NS}" {text}>\n'.encode()


async def _batches(
    sessions: async_sessionmaker[AsyncSession], school_id: int
) -> AsyncIterator[tuple[int, ...]]:
    """The school's pupil ids in ascending order, ``BATCH`` at a time."""
    after = 0
    while True:
        async with sessions() as session:
            ids = await school_pupil_ids(session, school_id, after, IDS_PER_QUERY)
        if not ids:
            return
        for i in range(0, len(ids), BATCH):
            yield tuple(ids[i : i + BATCH])
        after = ids[-1]


async def export(
    sessions: async_sessionmaker[AsyncSession],
    job: ExportJob,
    out: IO[bytes],
    pool: Executor,
    advance: Callable[[int], None],
    in_flight: int,
) -> Counts:
    """Write every pupil's signed document to ``out``; ``advance(marks)`` after each batch.
    A pupil whose document cannot be made is left out and listed in ``Counts.skipped``.

    ``pool`` runs :func:`export_batch` in processes set up by :func:`init_worker` (see
    :func:`export_pool`). At most ``in_flight`` batches are out at once (memory stays flat),
    and they are written in pupil order as they come back."""
    loop = asyncio.get_running_loop()
    counts = Counts()

    def write(signed: Signed) -> None:
        out.write(signed.data)
        counts.pupils += signed.pupils
        counts.marks += signed.marks
        counts.skipped.extend(signed.skipped)
        advance(signed.marks)

    if job.fmt in ("xml", "smev3"):
        out.write(_head(job))
    pending: deque[asyncio.Future[Signed]] = deque()
    reader = PortalReader.school_export(job.school_id)
    async for ids in _batches(sessions, job.school_id):
        if len(pending) >= in_flight:
            write(await pending.popleft())
        batch = Batch(job.fmt, ids, job.start, job.end, job.meta, reader)
        pending.append(loop.run_in_executor(pool, export_batch, batch))
    while pending:
        write(await pending.popleft())
    if job.fmt in ("xml", "smev3"):
        out.write(b"</p:Export>\n")
    return counts


def default_workers() -> int:
    return os.cpu_count() or 1


def in_flight(workers: int) -> int:
    """Batches out at once: enough that no worker waits for its next one."""
    return IN_FLIGHT_PER_WORKER * workers + 1


def export_pool(feed: FeedSettings, database_url: str, workers: int) -> ProcessPoolExecutor:
    """Worker processes that read from ``database_url`` and sign with the ``[feed]`` key
    (give them a key file: a throwaway key would differ from one worker to the next).

    Call it first, from a plain process: one thread, no event loop, no database connection
    yet (the command line does). The workers are then forked at once: a fork imports nothing
    and shares this process's memory until a page is written. Anything else is never forked
    (another thread may hold a lock that the child would inherit held forever; a child of a
    running event loop cannot run its own): its workers are spawned, fresh interpreters that
    import what :mod:`gateway.portal.signing_worker` needs.
    """
    fork = sys.platform == "linux" and _plain_process()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork" if fork else "spawn"),
        initializer=init_worker,
        initargs=(feed, database_url),
    )
    if fork:
        gc.freeze()  # the collector leaves what exists now alone: those pages stay shared
        pool.submit(int)  # the first call forks every worker, now (they set up meanwhile)
    return pool


def _plain_process() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return threading.active_count() == 1
    return False


def now_meta(issuer: str, at: datetime) -> documents.Meta:
    return documents.Meta(issuer, at, at)
