"""E-mail notifications: preferences, a transactional outbox, and the worker that sends it.

docs/mail.md explains the whole; :func:`mail_context` is what the app composes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from config import Settings

log = logging.getLogger("ediary.mail")
CleanupCtx = Callable[[web.Application], AsyncIterator[None]]


def install_outbox(settings: Settings) -> None:
    """Write mails beside notifications in this process, if mail is configured."""
    if settings.mail.enabled:
        from gateway.mail import outbox

        outbox.install(settings)


def mail_context(settings: Settings) -> CleanupCtx:
    """The app's mail lifecycle (``cleanup_ctx``, after the database's): the outbox hook,
    and the worker sending it in the background while the gateway runs."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if not settings.mail.enabled:
            yield
            return
        from gateway import keys
        from gateway.mail.worker import MailWorker

        install_outbox(settings)
        worker = MailWorker(app[keys.ENGINE], settings, app[keys.CLOCK])
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run_forever(stop), name="ediary-mail-worker")
        log.info("mail: sending through %s:%s", settings.mail.host, settings.mail.port)
        yield
        stop.set()
        # A mail in flight gets the SMTP timeout to finish; cut off, it is sent again later.
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, timeout=settings.mail.timeout_seconds)

    return ctx
