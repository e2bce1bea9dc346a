"""What every command shares: settings, a database session as the operator, progress output."""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from config import Settings, load_settings
from diary_core.db import create_engine
from diary_core.errors import InvalidInput
from gateway.storage.schema import is_current

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
                "ediary: схема базы данных устарела; сначала выполните `ediary db upgrade`"
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


class PortUnavailable(SystemExit):
    """A port the command cannot listen on: one Russian line on stderr, exit status 1."""

    def __init__(self, message: str) -> None:
        super().__init__(f"ediary: {message}")


def _bind_error(host: str, port: int) -> OSError | None:
    """Why ``host:port`` cannot be listened on now, or None when it can (a socket bound the
    way asyncio's servers bind, with SO_REUSEADDR, then closed at once)."""
    try:
        socket.create_server((host, port)).close()
    except OSError as exc:
        return exc
    return None


def free_port_after(host: str, port: int, avoid: tuple[int, ...] = ()) -> int:
    """The first port after ``port`` that is free on ``host`` (a suggestion to print)."""
    for candidate in range(port + 1, min(port + 50, 65535) + 1):
        if candidate not in avoid and _bind_error(host, candidate) is None:
            return candidate
    return port + 1


def port_problem(
    host: str, port: int, error: OSError, suggest: str, what: str = "", avoid: tuple[int, ...] = ()
) -> PortUnavailable:
    """The one-line refusal for an ``OSError`` met listening on ``host:port``; ``suggest``
    is the command to try instead, with ``{port}`` where a free port goes."""
    where = f"порт {port} на {host}{f' ({what})' if what else ''}"
    if error.errno == errno.EADDRINUSE:
        hint = suggest.format(port=free_port_after(host, port, avoid))
        return PortUnavailable(f"{where} уже занят другой программой; укажите другой: {hint}")
    if error.errno == errno.EACCES:
        return PortUnavailable(
            f"{where}: нет прав открыть этот порт (порты до 1024 доступны только "
            f"администратору системы); укажите другой: {suggest.format(port=8080)}"
        )
    if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
        return PortUnavailable(f"адрес {host} недоступен на этой машине (порт {port})")
    reason = error.strerror or str(error)
    return PortUnavailable(f"{where}: не удаётся открыть порт ({reason})")


def require_port(
    host: str, port: int, suggest: str, what: str = "", avoid: tuple[int, ...] = ()
) -> None:
    """Stop with one Russian line (see :func:`port_problem`) unless ``host:port`` is free;
    checked before any work so a busy port never ends in a traceback."""
    if not 0 <= port < 65536:
        raise PortUnavailable(f"порт {port} вне допустимых значений 0–65535")
    error = _bind_error(host, port)
    if error is not None:
        raise port_problem(host, port, error, suggest, what, avoid)
