"""A port already taken stops ``ediary serve``, ``ediary demo`` (the gateway's port or the
emulator's) and ``ediary esia-emulator`` with one Russian line naming the port and how to
choose another, exit status 1, no traceback."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def taken() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _free() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIARY_")}
    env["EDIARY_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'ports.sqlite'}"
    if args[0] == "demo":
        del env["EDIARY_DATABASE_URL"]  # the demo keeps its own SQLite under ./var/
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_russian_line(result: subprocess.CompletedProcess[str], port: int) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    (line,) = lines
    assert line.startswith("ediary: ")
    assert f"порт {port} на 127.0.0.1" in line and "уже занят" in line
    assert not re.search(r"\b(address|already|in use|error)\b", line, re.IGNORECASE)
    return line


def test_serve_on_a_taken_port(tmp_path: Path, taken: int) -> None:
    line = _one_russian_line(_run(tmp_path, "serve", "--port", str(taken)), taken)
    suggested = int(re.search(r"ediary serve --port (\d+)", line).group(1))  # type: ignore[union-attr]
    assert suggested != taken
    assert "EDIARY_SERVER_PORT" in line and "[server]" in line


def test_serve_on_a_taken_configured_port(tmp_path: Path, taken: int) -> None:
    config = tmp_path / "ediary.toml"
    config.write_text(f'[server]\nhost = "127.0.0.1"\nport = {taken}\n', encoding="utf-8")
    _one_russian_line(_run(tmp_path, "--config", str(config), "serve"), taken)


def test_demo_on_a_taken_port(tmp_path: Path, taken: int) -> None:
    line = _one_russian_line(_run(tmp_path, "demo", "--port", str(taken)), taken)
    assert "укажите другой: ediary demo --port " in line
    assert not (tmp_path / "var").exists()  # stopped before any work


def test_demo_on_a_taken_emulator_port(tmp_path: Path, taken: int) -> None:
    result = _run(tmp_path, "demo", "--port", str(_free()), "--emulator-port", str(taken))
    line = _one_russian_line(result, taken)
    assert "эмулятор ЕСИА" in line and "ediary demo --emulator-port " in line


def test_esia_emulator_on_a_taken_port(tmp_path: Path, taken: int) -> None:
    line = _one_russian_line(_run(tmp_path, "esia-emulator", "--port", str(taken)), taken)
    assert "ediary esia-emulator --port " in line
