"""Typed application keys: everything the handlers share lives here, by name, and every
``web.AppKey`` of the gateway is defined here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config import Settings
from diary_core.clock import Clock
from gateway.static_files import StaticVersions
from gosuslugi_adapter.client import EsiaClient

if TYPE_CHECKING:
    # Only named in annotations: importing them here would load the API's schemas and the
    # portal's signers into every module that needs a key (the signing workers among them).
    from gateway.api.validation import ApiValidator
    from gateway.mail.sink import MailSink
    from gateway.portal.state import PortalState


@dataclass
class SchemaStatus:
    """Whether the database schema is at the newest migration: checked once at start-up
    (Alembic is slow and chatty), then by ``/healthz`` again only while it is not."""

    current: bool = False


SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
ESIA = web.AppKey("esia", EsiaClient)  # absent when ESIA sign-in is not configured
SCHEMA = web.AppKey("schema", SchemaStatus)
#: The content version of every static file (gateway/static_files.py).
STATIC_VERSIONS = web.AppKey("static_versions", StaticVersions)
#: The JSON API's OpenAPI document, as served at ``/api/v1/openapi.json``.
OPENAPI_DOCUMENT: web.AppKey[dict[str, Any]] = web.AppKey("api_openapi_document")
#: The validator of API requests, built from that very document (gateway/api/validation.py).
API_VALIDATOR: web.AppKey[ApiValidator] = web.AppKey("api_validator")
#: The portal feed's signers, document cache and group commit (gateway/portal/state.py).
PORTAL: web.AppKey[PortalState] = web.AppKey("portal")
#: ``ediary demo`` only: the local SMTP sink whose mails ``/demo/mail`` shows.
DEMO_MAIL_SINK: web.AppKey[MailSink] = web.AppKey("demo_mail_sink")
