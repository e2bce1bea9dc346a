"""What the export's signing processes run. Kept apart from the export (which reads the
database) so a worker imports only the signer and the document builders: small processes."""

from __future__ import annotations

from config.settings import FeedSettings
from gateway.portal import documents
from gateway.portal.signing import DocumentSigner, signer_from_settings
from gateway.portal.xml import progress_xml

_DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"
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
        return _signer.sign_xml(progress_xml(doc)).removeprefix(_DECLARATION)
    return _signer.sign_jws(documents.dumps(doc)).encode()
