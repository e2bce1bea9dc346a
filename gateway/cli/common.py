"""What every command shares: settings, a database session as the operator, progress output."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from config import Settings, load_settings
from diary_core.db import create_engine, is_current
from diary_core.errors import InvalidInput

T = TypeVar("T")


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(getattr(args, "config", None))


def engine_from(settings: Settings) -> AsyncEngine:
    db = settings.database
    return create_engine(db.url, echo=db.echo, pool_size=db.pool_size, pre_ping=db.pool_pre_ping)


async def with_engine(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run ``work`` on a migrated database; a database behind the migrations is refused."""
    engine = engine_from(settings)
    try:
        if not await is_current(engine):
            raise SystemExit(
                "ediary: the database schema is not current; run `ediary db upgrade` first"
            )
        return await work(engine)
    finally:
        await engine.dispose()


class Progress:
    """A one-line progress report on stderr for long work (only when stderr is a terminal,
    or every ``every`` items otherwise, so logs stay readable)."""

    def __init__(self, label: str, total: int | None = None, every: int = 10_000) -> None:
        self.label, self.total, self.every = label, total, every
        self.done = 0
        self.started = time.monotonic()
        self._tty = sys.stderr.isatty()
        self._last_print = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self._tty and now - self._last_print >= 0.2:
            self._last_print = now
            self._print("\r")
        elif not self._tty and self.done // self.every != (self.done - n) // self.every:
            self._print("", newline=True)

    def finish(self) -> None:
        self._print("\r" if self._tty else "", newline=True)

    def _print(self, prefix: str, newline: bool = False) -> None:
        rate = self.done / max(time.monotonic() - self.started, 1e-9)
        of = f"/{self.total}" if self.total else ""
        end = "\n" if newline else ""
        sys.stderr.write(f"{prefix}{self.label}: {self.done}{of} ({rate:,.0f}/s){end}")
        sys.stderr.flush()


@contextmanager
def atomic_output(path: Path) -> Iterator[IO[bytes]]:
    """A file to write ``path`` through, all or nothing.

    The bytes go to a temporary file in the same directory (so the rename is atomic), which
    replaces ``path`` only when the block finishes without an error; on any failure it is
    removed and ``path`` is left as it was (absent, or the previous file), never truncated.
    The new file gets the permissions a plain ``open`` would give it."""
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise InvalidInput(f"не удаётся создать файл в каталоге {folder}: {exc.strerror}") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
