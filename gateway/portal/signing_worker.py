"""What the export's signing processes run. Kept apart from the export (which reads the
database) so a worker imports only the signer and the document builders: small processes.

A worker gets a whole batch as plain row tuples (:class:`diary_core.progress.ProgressRows`,
cheap to pickle), builds each pupil's document exactly as the endpoint does
(:func:`diary_core.progress.iter_progress`, :func:`documents.progress_json`), signs it, and
returns the batch's output as one bytes object: one round trip per batch, not per pupil.
"""

from __future__ import annotations

from config.settings import FeedSettings
from diary_core.progress import ProgressRows, iter_progress
from gateway.portal import documents
from gateway.portal.signing import DECLARATION, DocumentSigner, signer_from_settings
from gateway.portal.xml import progress_xml

_signer: DocumentSigner | None = None


def init_worker(feed: FeedSettings) -> None:
    """Build this process's signer once, from ``[feed]`` (give it key files: a throwaway key
    would differ from one worker to the next)."""
    global _signer
    _signer = signer_from_settings(feed)


def sign(fmt: str, doc: documents.Json) -> bytes:
    """One document, signed: the XML element without its declaration, or a compact JWS."""
    if _signer is None:
        raise RuntimeError("init_worker was not called in this process")
    if fmt == "xml":
        return _signer.sign_xml(progress_xml(doc)).removeprefix(DECLARATION)
    return _signer.sign_jws(documents.dumps(doc)).encode()


def sign_batch(fmt: str, rows: ProgressRows, meta: documents.Meta) -> bytes:
    """Every pupil's signed document of the batch, in pupil order, each followed by a
    newline."""
    parts: list[bytes] = []
    for progress in iter_progress(rows):
        parts.append(sign(fmt, documents.progress_json(progress, meta)))
        parts.append(b"\n")
    return b"".join(parts)
