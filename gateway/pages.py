"""Rendering pages: every template gets what the header needs (who is signed in, his links)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from gateway import sessions
from gateway.auth import UNREAD_KEY


def nav_context(request: web.Request) -> dict[str, Any]:
    view = request.get(sessions.REQUEST_KEY)
    signed_in = view is not None and view.signed_in
    roles = set(view.data.get("roles", [])) if view is not None and signed_in else set()
    return {
        "nav_signed_in": signed_in,
        "nav_name": view.data.get("name", "") if view is not None and signed_in else "",
        "nav_family": bool(roles & {"parent", "pupil"}),
        "nav_staff": bool(roles & {"administrator", "teacher", "class_teacher"}),
        # Unread messages and notifications, counted once per page by ``auth.run``.
        "nav_unread": request.get(UNREAD_KEY) if signed_in else None,
    }


def render(
    template: str, request: web.Request, context: Mapping[str, Any], *, status: int = 200
) -> web.Response:
    """Like ``aiohttp_jinja2.render_template``, with the header's context added."""
    return aiohttp_jinja2.render_template(
        template, request, {**nav_context(request), **context}, status=status
    )
