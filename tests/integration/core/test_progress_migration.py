"""Migration 0004 (PostgreSQL): the marks index covers every mark field the progress statement
reads, as the model declares it; signed documents are stored with lz4 where the server has it.
On both databases the migration goes down to 0003 and up again."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import visitors

from diary_core.models import Base, Mark
from diary_core.progress.statements import batch_queries, one_pupil_statement
from gateway.storage.schema import upgrade
from tests.support.migrations import downgrade

INDEX = "ix_marks_pupil_date"


def _model_index() -> tuple[list[str], list[str]]:
    (index,) = [i for i in Base.metadata.tables["marks"].indexes if i.name == INDEX]
    return [c.name for c in index.columns], list(index.dialect_options["postgresql"]["include"])


async def _pg_index(engine: AsyncEngine) -> tuple[list[str], list[str]]:
    """The index's key columns and included columns, as PostgreSQL has them."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT a.attname, k.n > i.indnkeyatts AS included "
                    "FROM pg_index i "
                    "JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true "
                    "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                    "WHERE i.indexrelid = CAST(:name AS regclass) ORDER BY k.n"
                ),
                {"name": INDEX},
            )
        ).all()
    return [r[0] for r in rows if not r[1]], [r[0] for r in rows if r[1]]


async def _sqlite_index(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text(f"PRAGMA index_info({INDEX})"))).all()
    return [r[2] for r in rows]


async def _lz4_available(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        if await conn.scalar(text("SELECT current_setting('server_version_num')::int")) < 140000:
            return False
        try:
            await conn.execute(text("SET LOCAL default_toast_compression = 'lz4'"))
        except DBAPIError:
            return False
        finally:
            await conn.rollback()
    return True


async def _body_compression(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text(
                "SELECT CAST(attcompression AS text) FROM pg_attribute "
                "WHERE attrelid = 'portal_documents'::regclass AND attname = 'body'"
            )
        )
    return str(found or "")


@pytest.mark.parametrize(
    "statement",
    [one_pupil_statement()[0], batch_queries()[1]],
    ids=["one pupil", "batch marks"],
)
def test_the_index_covers_every_mark_field_the_progress_reads_read(statement: object) -> None:
    keys, include = _model_index()
    read = {
        c.name
        for c in visitors.iterate(statement)  # type: ignore[arg-type]
        if isinstance(c, Column) and c.table is Mark.__table__
    }
    assert read == set(keys) | set(include)


async def test_marks_index_is_the_models_and_goes_down_and_up(fresh: AsyncEngine) -> None:
    keys, include = _model_index()
    assert keys == ["pupil_id", "date"]
    if fresh.dialect.name == "sqlite":
        assert await _sqlite_index(fresh) == keys
        await downgrade(fresh, "0003")
        assert await _sqlite_index(fresh) == keys
        await upgrade(fresh)
        assert await _sqlite_index(fresh) == keys
        return
    assert await _pg_index(fresh) == (keys, include)
    await downgrade(fresh, "0003")
    assert await _pg_index(fresh) == (keys, [])
    await upgrade(fresh)
    assert await _pg_index(fresh) == (keys, include)


async def test_document_bodies_are_stored_with_lz4_where_the_server_has_it(
    fresh: AsyncEngine,
) -> None:
    if fresh.dialect.name != "postgresql":
        pytest.skip("column compression is PostgreSQL's")
    async with fresh.connect() as conn:
        version = await conn.scalar(text("SELECT current_setting('server_version_num')::int"))
    if version < 140000:
        pytest.skip("PostgreSQL before 14 has no per-column compression")
    expected = "l" if await _lz4_available(fresh) else ""
    assert await _body_compression(fresh) == expected
    await downgrade(fresh, "0003")
    assert await _body_compression(fresh) == ""  # the server's default, as before 0004
    await upgrade(fresh)
    assert await _body_compression(fresh) == expected
