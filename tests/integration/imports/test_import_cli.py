"""``ediary roster import`` and ``ediary marks import``: summaries, errors, exit codes.

The commands run as the operator against the configured database (a migrated SQLite file
here, named by ``EDIARY_DATABASE_URL``), so these tests are synchronous, like the command.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config import ConfigError
from diary_core.clock import FixedClock
from diary_core.db import create_engine, session_factory
from diary_core.errors import DiaryError
from diary_core.models import Guardianship, Mark, SchoolClass, User
from gateway.cli import imports as imports_cli
from gateway.cli import main as ediary
from gateway.storage.schema import upgrade
from tests.support.world import build_world

DATA = Path(__file__).with_name("data")
ROSTER = DATA / "roster_excel.csv"
MARKS = DATA / "marks_excel.csv"


def run(argv: Sequence[str]) -> int:
    """``ediary ARGV`` in-process: the real entry point once every command module exists,
    else the same dispatch over a parser that has only the import commands."""
    try:
        ediary.build_parser()
    except ModuleNotFoundError:  # another engineer's command module is not in place yet
        return _run_imports_only(argv)
    return ediary.main(list(argv))


def _run_imports_only(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="ediary")
    parser.add_argument("--config")
    imports_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"ediary: configuration error: {exc}", file=sys.stderr)
        return 2
    except DiaryError as exc:
        print(f"ediary: {exc}", file=sys.stderr)
        return 1


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated SQLite file holding the test world, configured for the command."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ediary.sqlite'}"

    async def prepare() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        async with session_factory(engine)() as session:
            await build_world(session, FixedClock(datetime(2025, 10, 15, 10, tzinfo=UTC)))
        await engine.dispose()

    asyncio.run(prepare())
    for name in [n for n in os.environ if n.startswith("EDIARY_")]:
        monkeypatch.delenv(name)  # EDIARY_TEST_POSTGRES would be an unknown setting
    monkeypatch.setenv("EDIARY_DATABASE_URL", url)
    return url


def count(url: str, model: type) -> int:
    async def query() -> int:
        engine = create_engine(url)
        async with session_factory(engine)() as session:
            n = await session.scalar(select(func.count()).select_from(model))
        await engine.dispose()
        return n or 0

    return asyncio.run(query())


def test_roster_import_prints_a_summary_and_commits(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    users = count(database, User)
    assert run(["roster", "import", str(ROSTER), "--school", "Школа А"]) == 0
    out = capsys.readouterr().out
    assert "Файл roster_excel.csv загружен" in out
    assert "обучающиеся: новых 3, изменено 0, без изменений 0" in out
    assert "родители: новых 1" in out
    assert count(database, User) == users + 4
    assert run(["roster", "import", str(ROSTER), "--school", "Школа А"]) == 0
    assert "обучающиеся: новых 0, изменено 0, без изменений 3" in capsys.readouterr().out
    assert count(database, User) == users + 4


def test_marks_import_prints_a_summary(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["roster", "import", str(ROSTER), "--school", "Школа А"]) == 0
    assert run(["marks", "import", str(MARKS), "--school", "Школа А"]) == 0
    assert "отметок новых 4, исправлено 0, без изменений 0" in capsys.readouterr().out
    assert count(database, Mark) == 4


def test_bad_roster_lists_every_error_exits_1_and_writes_nothing(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ROSTER.read_bytes().decode("utf-8-sig").splitlines()
    lines[1] = lines[1].replace("300-000-001 28", "300-000-001 29")
    lines[3] = lines[3].replace("5А", "9Я")
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = (count(database, User), count(database, Guardianship))
    assert run(["roster", "import", str(bad), "--school", "Школа А"]) == 1
    err = capsys.readouterr().err
    assert (
        "строка 2, столбец pupil_snils: СНИЛС «300-000-001 29»: неверная контрольная сумма" in err
    )
    assert "строка 4, столбец class: класса 9Я нет в учебном году 2025/2026" in err
    assert "ничего не записано" in err
    assert (count(database, User), count(database, Guardianship)) == before


def test_bad_marks_file_exits_1_and_writes_nothing(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["roster", "import", str(ROSTER), "--school", "Школа А"]) == 0
    bad = tmp_path / "marks.csv"
    bad.write_bytes(MARKS.read_bytes().replace(b";5;", b";7;"))
    assert run(["marks", "import", str(bad), "--school", "Школа А"]) == 1
    assert "строка 2, столбец mark: неизвестная отметка «7»" in capsys.readouterr().err
    assert count(database, Mark) == 0


def test_create_classes_flag_creates_missing_classes(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ROSTER.read_bytes().replace("5Б".encode(), "6А".encode())
    roster = tmp_path / "roster.csv"
    roster.write_bytes(data)
    assert run(["roster", "import", str(roster), "--school", "Школа А"]) == 1
    assert "класса 6А нет" in capsys.readouterr().err
    classes = count(database, SchoolClass)
    args = ["roster", "import", str(roster), "--school", "Школа А", "--create-classes"]
    assert run(args) == 0
    assert "создано классов: 1" in capsys.readouterr().out
    assert count(database, SchoolClass) == classes + 1


def test_unknown_school_is_an_error(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["roster", "import", str(ROSTER), "--school", "Школа Я"]) == 1
    assert "школа «Школа Я» не найдена" in capsys.readouterr().err


def test_missing_file_is_an_error(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["marks", "import", str(tmp_path / "nope.csv"), "--school", "Школа А"]) == 1
    assert "не удалось прочитать файл" in capsys.readouterr().err


def test_school_option_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run(["marks", "import", str(MARKS)])
    assert exited.value.code == 2
    assert "--school" in capsys.readouterr().err
