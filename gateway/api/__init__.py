"""The JSON API (``/api/v1``) for staff tools and mobile apps.

Same sessions, same CSRF rule and the same core use cases (hence the same access policy)
as the pages. Every endpoint is declared once (:mod:`gateway.api.spec`); the routes
(gateway/routes.py), the OpenAPI document served at ``/api/v1/openapi.json`` and the
validation of requests against that document are all produced from those declarations.
"""

from __future__ import annotations

from aiohttp import web

from gateway import keys, sessions
from gateway.api import openapi
from gateway.api.handlers import classes, guardianships, marks, messages, meta, news, pupils
from gateway.api.spec import Endpoint
from gateway.api.validation import ApiValidator

ENDPOINTS: tuple[Endpoint, ...] = (
    *meta.ENDPOINTS,
    *pupils.ENDPOINTS,
    *classes.ENDPOINTS,
    *marks.ENDPOINTS,
    *messages.ENDPOINTS,
    *news.ENDPOINTS,
    *guardianships.ENDPOINTS,
)


def setup_api(app: web.Application) -> None:
    """Keep the OpenAPI document built from the declarations, and the validator of requests
    built from that very document (what is published is what is enforced)."""
    document = openapi.document(ENDPOINTS, sessions.cookie_name(app[keys.SETTINGS]))
    app[keys.OPENAPI_DOCUMENT] = document
    app[keys.API_VALIDATOR] = ApiValidator(document)
