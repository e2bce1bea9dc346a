"""The official electronic service (docs/regulation.md, clauses 1.2, 2.1; docs/portal.md): the state
services portal pulls signed progress documents, guardians' children and a changes feed.

:func:`setup_portal` is the one call that adds it to the gateway.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohttp import web


def setup_portal(app: web.Application) -> None:
    """Routes and state of the portal feed. The signers are built now, from ``[feed]``
    (throwaway keys, with a warning, when none is configured)."""
    # Imported here so that the export's signing workers, which import only
    # gateway.portal.signing and gateway.portal.xml, stay small.
    from gateway import keys
    from gateway.portal import handlers
    from gateway.portal.auth import TOKEN_PATH
    from gateway.portal.cache import DocumentCache
    from gateway.portal.signing import signer_from_settings
    from gateway.portal.smev import smev_signer_from_settings
    from gateway.portal.state import PORTAL, PortalState

    feed = app[keys.SETTINGS].feed
    app[PORTAL] = PortalState(
        signer=signer_from_settings(feed),
        smev=smev_signer_from_settings(feed),
        cache=DocumentCache(timedelta(days=feed.document_cache_days)),
    )
    app.cleanup_ctx.append(_group_commit)  # after the engine's: it needs the engine
    router = app.router
    router.add_post(TOKEN_PATH, handlers.token, name="portal_token")
    router.add_get("/portal/v1/pupils/{snils}/progress", handlers.progress, name="portal_progress")
    router.add_get(
        "/portal/v1/guardians/{esia_oid}/pupils", handlers.guardian, name="portal_guardian"
    )
    router.add_get("/portal/v1/changes", handlers.changes, name="portal_changes")
    router.add_get("/portal/v1/schema/progress.xsd", handlers.schema, name="portal_schema")
    router.add_get("/portal/v1/schema/progress-signature.xsd", handlers.signature_schema)
    router.add_get("/.well-known/jwks.json", handlers.jwks, name="portal_jwks")


async def _group_commit(app: web.Application) -> AsyncIterator[None]:
    """On PostgreSQL, the requests' writes are committed in groups (gateway/portal/commits.py);
    at shutdown the last ones are committed before the engine goes."""
    from gateway import keys
    from gateway.portal.commits import GroupCommit
    from gateway.portal.endpoint import BULKS
    from gateway.portal.state import PORTAL

    engine = app[keys.ENGINE]
    state = app[PORTAL]
    if engine.dialect.name == "postgresql":
        state.commits = GroupCommit(engine, bulks=BULKS)
    yield
    if state.commits is not None:
        await state.commits.drain()
        state.commits = None
