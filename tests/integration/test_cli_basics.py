"""The operator's first commands on a fresh machine: db upgrade, users create-admin."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from diary_core.db import create_engine
from diary_core.models import School, User
from gateway.cli.main import main
from gateway.storage.schema import is_current


@pytest.fixture
def fresh_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("EDIARY_DATABASE_URL", url)
    return url


def _current(url: str) -> bool:
    async def check() -> bool:
        engine = create_engine(url)
        try:
            return await is_current(engine)
        finally:
            await engine.dispose()

    return asyncio.run(check())


def test_db_upgrade_creates_the_schema(fresh_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not _current(fresh_db)
    assert main(["db", "upgrade"]) == 0
    assert _current(fresh_db)
    assert "обновлена" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0  # idempotent


def test_commands_refuse_a_database_that_is_not_migrated(
    fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "users",
                "create-admin",
                "--school",
                "Ш",
                "--create-school",
                "--last-name",
                "А",
                "--first-name",
                "Б",
            ]
        )
    assert "ediary db upgrade" in str(exc.value)


def test_create_admin_prints_a_one_time_password(
    fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "upgrade"])
    code = main(
        [
            "users",
            "create-admin",
            "--school",
            "МБОУ СОШ №1",
            "--create-school",
            "--last-name",
            "Завучева",
            "--first-name",
            "Анна",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Логин: zavucheva.a" in out
    password = next(
        line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("Одноразовый")
    )

    async def stored() -> tuple[str | None, bool, str]:
        engine = create_engine(fresh_db)
        async with engine.connect() as conn:
            row = (await conn.execute(select(User.password_hash, User.must_change_password))).one()
            school = await conn.scalar(select(School.name))
        await engine.dispose()
        return row[0], row[1], school or ""

    hashed, must_change, school = asyncio.run(stored())
    assert hashed is not None and hashed.startswith("$argon2id$") and password not in hashed
    assert must_change and school == "МБОУ СОШ №1"


def test_create_admin_for_an_unknown_school_needs_the_flag(fresh_db: str) -> None:
    main(["db", "upgrade"])
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "users",
                "create-admin",
                "--school",
                "Нет такой",
                "--last-name",
                "А",
                "--first-name",
                "Б",
            ]
        )
    assert "--create-school" in str(exc.value)


def test_bad_configuration_names_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EDIARY_SERVER_PROT", "1")
    assert main(["db", "upgrade"]) == 2
    assert "server.prot" in capsys.readouterr().err
