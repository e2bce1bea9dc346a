"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL; the
domain's models hold no table of the gateway's; ``ediary db check`` says when they differ."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from diary_core.db import create_engine
from diary_core.models import Base
from gateway.cli.main import main
from gateway.storage import GatewayBase
from gateway.storage.schema import differences, upgrade
from tests.support.databases import fresh_postgres_database, postgres_enabled

ROOT = Path(__file__).resolve().parents[3]

#: The gateway's own tables: sessions, sign-in, the portal feed's state, mail, calendar feeds.
GATEWAY_TABLES = {
    "web_sessions",
    "mail_preferences",
    "mail_outbox",
    "calendar_feeds",
    "calendar_event_versions",
    "login_transactions",
    "sign_in_events",
    "sign_in_counters",
    "portal_clients",
    "portal_assertions",
    "portal_tokens",
    "portal_rate_counters",
    "portal_documents",
}


async def _compare(engine: AsyncEngine, metadata: list[MetaData]) -> list[Any]:
    """Alembic's autogenerate comparison of the database with ``metadata``."""

    def run(conn: Connection) -> list[Any]:
        opts = {"compare_type": True, "compare_server_default": True}
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), metadata))

    async with engine.connect() as conn:
        return await conn.run_sync(run)


async def test_a_migrated_database_matches_the_models(engine: AsyncEngine) -> None:
    assert await _compare(engine, [Base.metadata, GatewayBase.metadata]) == []
    assert await differences(engine) == []


async def test_the_comparison_sees_tables_the_models_leave_out(engine: AsyncEngine) -> None:
    """Against the domain's models alone, the gateway's tables are extra: the comparison is
    not blind (and the gateway's tables are in the database, not in the domain's models)."""
    removed = {d[1].name for d in await _compare(engine, [Base.metadata]) if d[0] == "remove_table"}
    assert removed == GATEWAY_TABLES


def test_the_domain_metadata_holds_no_gateway_table() -> None:
    core, gateway = set(Base.metadata.tables), set(GatewayBase.metadata.tables)
    assert gateway == GATEWAY_TABLES
    assert not core & gateway
    assert {"users", "pupils", "marks", "change_log", "audit_events"} <= core


def test_the_domain_imports_nothing_of_the_gateway() -> None:
    """Loading the domain's models and its database module loads no gateway module."""
    probe = (
        "import sys, diary_core.models, diary_core.db, diary_core.progress, diary_core.audit, "
        "diary_core.demo; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('gateway', 'asyncpg')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------- ediary db check


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def own_db(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A migrated database of this test's own (the test alters it), set as the configured one."""
    if request.param == "postgres":
        if not postgres_enabled():
            pytest.skip("PostgreSQL tests are off: set EDIARY_TEST_POSTGRES=1 (CI does)")
        urls = fresh_postgres_database()
        url = next(urls)
    else:
        urls, url = iter(()), f"sqlite+aiosqlite:///{tmp_path / 'check.sqlite'}"
        _run(url, upgrade)
    monkeypatch.setenv("EDIARY_DATABASE_URL", url)
    yield url
    for _ in urls:  # drops the PostgreSQL database
        pass


def _run(url: str, work: Any, *args: Any) -> None:
    async def go() -> None:
        engine = create_engine(url)
        try:
            await work(engine, *args)
        finally:
            await engine.dispose()

    asyncio.run(go())


async def _execute(engine: AsyncEngine, sql: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(sql))


def test_db_check_passes_on_a_migrated_database(
    own_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "check"]) == 0
    assert "совпадает с моделями" in capsys.readouterr().out


def test_db_check_names_what_differs(own_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    _run(own_db, _execute, "DROP INDEX ix_sign_in_events_ip_at")
    _run(own_db, _execute, "CREATE TABLE stray_table (id INTEGER PRIMARY KEY)")
    assert main(["db", "check"]) == 1
    err = capsys.readouterr().err
    assert "расходится с моделями" in err
    assert "ix_sign_in_events_ip_at" in err and "stray_table" in err


def test_db_check_refuses_a_database_behind_the_migrations(
    own_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(own_db, _execute, "UPDATE alembic_version SET version_num = '0009_timetable_drafts'")
    assert main(["db", "check"]) == 1
    assert "ediary db upgrade" in capsys.readouterr().err
