"""The official electronic service (docs/regulation.md, clauses 1.2, 2.1; docs/portal.md): the state
services portal pulls signed progress documents, guardians' children and a changes feed.

:func:`setup_portal` sets up its state; its routes are in gateway/routes.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohttp import web


def setup_portal(app: web.Application) -> None:
    """The portal feed's state. The signers are built now, from ``[feed]`` (throwaway keys,
    with a warning, when none is configured)."""
    # Imported here so that the export's signing workers, which import only
    # gateway.portal.signing and gateway.portal.xml, stay small.
    from gateway import keys
    from gateway.portal.cache import DocumentCache
    from gateway.portal.signing import signer_from_settings
    from gateway.portal.smev import smev_signer_from_settings
    from gateway.portal.state import PortalState

    feed = app[keys.SETTINGS].feed
    app[keys.PORTAL] = PortalState(
        signer=signer_from_settings(feed),
        smev=smev_signer_from_settings(feed),
        cache=DocumentCache(timedelta(days=feed.document_cache_days)),
    )
    app.cleanup_ctx.append(_group_commit)  # after the engine's: it needs the engine


async def _group_commit(app: web.Application) -> AsyncIterator[None]:
    """On PostgreSQL, the requests' writes are committed in groups (gateway/portal/commits.py);
    at shutdown the last ones are committed before the engine goes."""
    from gateway import keys
    from gateway.portal.commits import GroupCommit
    from gateway.portal.endpoint import BULKS

    engine = app[keys.ENGINE]
    state = app[keys.PORTAL]
    if engine.dialect.name == "postgresql":
        state.commits = GroupCommit(engine, bulks=BULKS)
    yield
    if state.commits is not None:
        await state.commits.drain()
        state.commits = None
