"""The engine's pool follows ``database.pool_pre_ping``."""

from __future__ import annotations

import pytest

from config import load_settings
from diary_core.db import create_engine

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/none"


@pytest.mark.parametrize("value", [True, False])
def test_pre_ping_setting_reaches_the_pool(value: bool) -> None:
    settings = load_settings(environ={"EDIARY_DATABASE_POOL_PRE_PING": str(value).lower()})
    assert settings.database.pool_pre_ping is value
    engine = create_engine(PG, pre_ping=settings.database.pool_pre_ping)
    assert engine.sync_engine.pool._pre_ping is value


def test_pre_ping_is_off_by_default() -> None:
    assert load_settings(environ={}).database.pool_pre_ping is False
