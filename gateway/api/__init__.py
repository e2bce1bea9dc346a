"""The JSON API (``/api/v1``) for staff tools and mobile apps.

Same sessions, same CSRF rule and the same core use cases (hence the same access policy)
as the pages. Every endpoint is declared once (:mod:`gateway.api.spec`); the routes and the
OpenAPI document served at ``/api/v1/openapi.json`` are both produced from those
declarations.
"""

from __future__ import annotations

from aiohttp import web

from gateway import keys, sessions
from gateway.api import openapi
from gateway.api.dispatch import route_handler
from gateway.api.handlers import classes, guardianships, marks, messages, meta, news, pupils
from gateway.api.schemas import COMPONENTS
from gateway.api.spec import Endpoint
from gateway.api.validate import Validator

ENDPOINTS: tuple[Endpoint, ...] = (
    *meta.ENDPOINTS,
    *pupils.ENDPOINTS,
    *classes.ENDPOINTS,
    *marks.ENDPOINTS,
    *messages.ENDPOINTS,
    *news.ENDPOINTS,
    *guardianships.ENDPOINTS,
)

VALIDATOR = Validator(COMPONENTS)


def setup_api_routes(app: web.Application) -> None:
    """Route every declared endpoint and keep the OpenAPI document built from them."""
    cookie = sessions.cookie_name(app[keys.SETTINGS])
    app[openapi.DOCUMENT] = openapi.document(ENDPOINTS, cookie)
    for ep in ENDPOINTS:
        app.router.add_route(ep.method, ep.full_path, route_handler(ep, VALIDATOR))
