"""Waking this process's mail worker when a commit has queued mail (no wait for its poll).

Other processes' workers find the mail at their next poll (``mail.poll_seconds``)."""

from __future__ import annotations

import asyncio

_waiting: set[asyncio.Event] = set()


def subscribe() -> asyncio.Event:
    """An event set whenever a commit in this process queues mail; the caller clears it."""
    woken = asyncio.Event()
    _waiting.add(woken)
    return woken


def unsubscribe(woken: asyncio.Event) -> None:
    _waiting.discard(woken)


def notify() -> None:
    for woken in list(_waiting):
        woken.set()
