"""Typed application keys: everything the handlers share lives here, by name."""

from __future__ import annotations

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
