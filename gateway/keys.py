"""Typed application keys: everything the handlers share lives here, by name."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config import Settings
from diary_core.clock import Clock
from gosuslugi_adapter.client import EsiaClient

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
ESIA = web.AppKey("esia", EsiaClient)  # absent when ESIA sign-in is not configured


@dataclass
class SchemaStatus:
    """Whether the database schema is at the newest migration: checked once at start-up
    (Alembic is slow and chatty), then by ``/healthz`` again only while it is not."""

    current: bool = False


SCHEMA = web.AppKey("schema", SchemaStatus)
