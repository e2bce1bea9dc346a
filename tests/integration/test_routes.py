"""The gateway's routes are the one list in gateway/routes.py: the application's router holds
exactly its routes (a route added anywhere else fails here), every name is unique, and every
listed address resolves to its listed handler."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from gateway.app import create_app
from gateway.routes import ROUTES
from tests.support.gateway import gateway_settings

#: ``{name:regex}`` in a listed path is ``{name}`` in the router's canonical form.
_PARAM = re.compile(r"\{(\w+):[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")


@pytest.fixture
def app(tmp_path: Path) -> web.Application:
    """The whole gateway, built but not started (routing needs no database)."""
    return create_app(gateway_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite'}", 8080))


def _name(route: web.AbstractRouteDef) -> str | None:
    assert isinstance(route, web.RouteDef | web.StaticDef)
    name = route.kwargs.get("name")
    return name if isinstance(name, str) else None


def _listed() -> Counter[tuple[str, str, str | None]]:
    found: Counter[tuple[str, str, str | None]] = Counter()
    for route in ROUTES:
        if isinstance(route, web.StaticDef):
            found["GET", route.prefix.rstrip("/"), _name(route)] += 1
        else:
            assert isinstance(route, web.RouteDef)
            found[route.method, _PARAM.sub(r"{\1}", route.path), _name(route)] += 1
    return found


def _routed(app: web.Application) -> Counter[tuple[str, str, str | None]]:
    return Counter(
        (route.method, route.resource.canonical, route.resource.name)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"  # a GET's implicit HEAD
    )


def test_the_router_holds_exactly_the_listed_routes(app: web.Application) -> None:
    assert _routed(app) == _listed()


def test_a_route_added_elsewhere_is_caught(app: web.Application) -> None:
    async def stray(request: web.Request) -> web.Response:
        return web.Response()

    app.router.add_get("/stray", stray)
    assert _routed(app) - _listed() == Counter({("GET", "/stray", None): 1})


def test_route_names_are_unique() -> None:
    names = [name for route in ROUTES if (name := _name(route))]
    assert names and len(names) == len(set(names))


async def test_every_listed_route_resolves_to_its_handler(app: web.Application) -> None:
    """Each listed address, its parameters filled in, reaches the listed handler (not one
    listed earlier whose pattern swallows it)."""
    for route in ROUTES:
        if not isinstance(route, web.RouteDef):
            continue  # the static files: their own test_compression_and_static.py
        path = re.sub(r"\{[^}]+\}", "1", _PARAM.sub(r"{\1}", route.path))
        match = await app.router.resolve(make_mocked_request(route.method, path, app=app))
        assert match.http_exception is None, (route.method, route.path)
        assert match.handler is route.handler, (route.method, route.path, match.handler)
