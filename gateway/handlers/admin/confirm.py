"""The confirmation step in front of the console's destructive one-click actions (disabling a
staff account, publishing a timetable, reopening a signed-off period mark), without
JavaScript.

The action's button POSTs to the action; a POST without ``confirm=yes`` only answers 200 with
a page saying exactly what will happen, whose form posts the same action again with
``confirm=yes`` (and the CSRF token, which the middleware checks on both posts as on every
unsafe request) and a «Отмена» link back. So only a POST with ``confirm=yes`` acts, a GET
never does, and reloading the confirmation page (a repeated POST without ``confirm``)
shows it again and changes nothing. The handler loads what it names through the core's
access policy before answering, so another school's object answers the same 404 as a
missing one at this step too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from gateway import auth
from gateway.handlers.admin.common import SECTIONS
from gateway.pages import render

FIELD = "confirm"
YES = "yes"
NO_STORE = {"Cache-Control": "no-store"}


def confirmed(form: Mapping[str, Any]) -> bool:
    """Whether the form is the confirmation page's (``confirm=yes``)."""
    return form.get(FIELD) == YES


def confirm_page(
    request: web.Request,
    *,
    title: str,
    question: str,
    button: str,
    cancel: str,
    details: str = "",
    fields: Mapping[str, str] | None = None,
) -> web.Response:
    """The page asking ``question`` before the request's own action (its path and query).

    ``fields`` are carried over to the confirmed post (e.g. a stated reason); ``cancel`` is
    where «Отмена» leads back to.
    """
    response = render(
        "console/confirm.html",
        request,
        {
            "csrf_token": auth.csrf_token(request),
            "sections": SECTIONS,
            "here": request.path,
            "title": title,
            "question": question,
            "details": details,
            "action": request.path_qs,
            "fields": dict(fields or {}),
            "confirm_field": FIELD,
            "confirm_value": YES,
            "button": button,
            "cancel": cancel,
        },
    )
    response.headers.update(NO_STORE)
    return response
