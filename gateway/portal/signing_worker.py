"""What the export's worker processes run: read a batch of pupils, build and sign each pupil's
document, and hand the batch's output back as one bytes object.

Each worker reads its own batches through its own database connection (plain Core rows,
:func:`diary_core.progress.reading.load_progress_rows`): no rows cross between processes and the
reading runs in parallel. The main process (:mod:`gateway.portal.export`) only hands out
pupil ids and writes the output in pupil order.

This module imports only what a worker needs: the progress queries (SQLAlchemy Core and the
driver), the document builders and the signer; not aiohttp, Alembic or the rest of the gateway
(what a spawned worker loads; a forked one has it already, see
:func:`gateway.portal.export.export_pool`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from multiprocessing.util import Finalize
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from config.settings import FeedSettings
from diary_core.policy import PortalReader
from diary_core.progress.model import PupilInfo
from diary_core.progress.reading import load_progress_rows
from diary_core.progress.rows import ProgressRows
from diary_core.progress.summary import iter_pupil_rows
from diary_core.text import shown
from gateway.portal import documents
from gateway.portal.signing import DocumentSignatures, signer_from_settings
from gateway.portal.xml import NotXmlText, progress_xml

if TYPE_CHECKING:
    from gateway.portal.smev import SmevSignatures


@dataclass(frozen=True)
class Batch:
    """What the main process hands a worker: whose documents, for which range, how."""

    fmt: str  # xml | smev3 | jose
    pupil_ids: tuple[int, ...]  # ascending: the output is in this order
    start: date
    end: date
    meta: documents.Meta
    reader: PortalReader  # what the export may read: the school's pupils


@dataclass(frozen=True)
class Skipped:
    """A pupil whose document could not be made (his stored data holds a character XML
    cannot carry), left out of the export and reported."""

    pupil_id: int
    name: str  # "Фамилия И."
    reason: str  # Russian, naming the character and the field

    def __str__(self) -> str:
        return f"обучающийся #{self.pupil_id} ({self.name}): {self.reason}"


@dataclass(frozen=True)
class Signed:
    """A batch's output: every pupil's signed document, each followed by a newline, and the
    pupils left out."""

    data: bytes
    pupils: int
    marks: int
    skipped: tuple[Skipped, ...] = ()


class _Worker:
    """One process's signer, event loop and database connection (kept between batches)."""

    def __init__(self, feed: FeedSettings, database_url: str) -> None:
        self.feed = feed
        self.signer: DocumentSignatures = signer_from_settings(feed)
        self.smev: SmevSignatures | None = None
        self.loop = asyncio.new_event_loop()
        # One connection per worker, reused for every batch. (Not diary_core.db.create_engine:
        # that module also loads Alembic, which a reader does not need.)
        self.engine: AsyncEngine = create_async_engine(database_url, pool_size=1, max_overflow=0)

    def export(self, batch: Batch) -> Signed:
        rows = self.loop.run_until_complete(self._read(batch))
        parts: list[bytes] = []
        skipped: list[Skipped] = []
        marks = len(rows.marks)
        for pupil in iter_pupil_rows(rows):
            try:
                parts.append(self.sign(batch.fmt, documents.progress_json(pupil, batch.meta)))
            except NotXmlText as exc:  # one pupil's bad data does not stop the export
                info = pupil.pupil
                skipped.append(Skipped(info.id, _short_name(info), exc.reason()))
                marks -= len(pupil.marks)
                continue
            parts.append(b"\n")
        return Signed(b"".join(parts), len(rows.pupils) - len(skipped), marks, tuple(skipped))

    async def _read(self, batch: Batch) -> ProgressRows:
        async with self.engine.connect() as conn:
            return await load_progress_rows(
                conn, batch.reader, batch.pupil_ids, batch.start, batch.end
            )

    def sign(self, fmt: str, doc: documents.Json) -> bytes:
        """One document, signed: the XML element without its declaration (enveloped XML-DSig
        or the SMEV 3 profile), or a compact JWS."""
        if fmt == "xml":
            return self.signer.sign_xml(progress_xml(doc))
        if fmt == "smev3":
            return self.loop.run_until_complete(self._smev_signer().sign(progress_xml(doc)))
        return self.signer.sign_jws(documents.dumps(doc)).encode()

    def _smev_signer(self) -> SmevSignatures:
        """Made on first use: only an export in the SMEV 3 profile loads the GOST signer."""
        if self.smev is None:
            from gateway.portal.smev import smev_signer_from_settings

            self.smev = smev_signer_from_settings(self.feed)
        return self.smev

    def close(self) -> None:
        self.loop.run_until_complete(self.engine.dispose())
        self.loop.close()


def _short_name(pupil: PupilInfo) -> str:
    """``Фамилия И.``, with any character XML or a terminal cannot show written as U+XXXX."""
    initial = f" {pupil.first_name[:1]}." if pupil.first_name else ""
    return shown(f"{pupil.last_name}{initial}")


_worker: _Worker | None = None


def init_worker(feed: FeedSettings, database_url: str) -> None:
    """Set this process up once: the signer from ``[feed]`` (give it key files: a throwaway
    key would differ from one worker to the next) and a connection to the database. The
    connection is closed when the process exits."""
    global _worker
    _worker = _Worker(feed, database_url)
    Finalize(_worker, _worker.close, exitpriority=10)


def export_batch(batch: Batch) -> Signed:
    """Read, build and sign one batch (in a process set up by :func:`init_worker`)."""
    if _worker is None:
        raise RuntimeError("init_worker was not called in this process")
    return _worker.export(batch)
