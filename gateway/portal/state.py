"""What the portal feed keeps per application: its signer and the document cache."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from gateway.portal.cache import DocumentCache
from gateway.portal.signing import DocumentSigner


@dataclass
class PortalState:
    signer: DocumentSigner
    cache: DocumentCache


PORTAL = web.AppKey("portal", PortalState)
