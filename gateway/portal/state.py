"""What the portal feed keeps per application: its signer, the document cache and, on
PostgreSQL, the group commit of its requests' writes."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from gateway.portal.cache import DocumentCache
from gateway.portal.commits import GroupCommit
from gateway.portal.signing import DocumentSigner


@dataclass
class PortalState:
    signer: DocumentSigner
    cache: DocumentCache
    commits: GroupCommit | None = None  # set at start-up on PostgreSQL


PORTAL = web.AppKey("portal", PortalState)
