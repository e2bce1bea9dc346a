"""The school's audit log with filters (actor, action, pupil, dates) and keyset paging.

Actions and details come in Russian from the core (:data:`diary_core.audit.ACTIONS`,
:mod:`diary_core.admin_views.audit_text`): no action codes or ids reach the page."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from diary_core import admin_views
from diary_core.admin_views import AuditFilters
from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from gateway import auth
from gateway.handlers.admin.common import admin_actor, optional_date, optional_int, page

FILTER_KEYS = ("actor", "action", "pupil", "from", "to")


def _filters(query: dict[str, str]) -> AuditFilters:
    return AuditFilters(
        actor_id=optional_int(query.get("actor"), "кто"),
        action=(query.get("action") or "").strip()[:60],
        pupil_id=optional_int(query.get("pupil"), "ученик"),
        date_from=optional_date(query.get("from"), "с"),
        date_to=optional_date(query.get("to"), "по"),
    )


def _link(query: dict[str, str], **changes: object) -> str:
    """This page's URL with some filters changed (None drops one); paging starts over."""
    merged = {k: query.get(k, "") for k in FILTER_KEYS} | {k: changes[k] for k in changes}
    return "/console/admin/audit?" + urlencode({k: v for k, v in merged.items() if v})


async def audit_page(request: web.Request) -> web.Response:
    _, school_id = await admin_actor(request)
    query = {k: request.query.get(k, "") for k in (*FILTER_KEYS, "before")}
    error = ""
    try:
        filters = _filters(query)
        before = optional_int(query["before"], "страница")
    except InvalidInput as exc:
        filters, before, error = AuditFilters(), None, str(exc)

    async def load(ctx: Ctx) -> tuple[admin_views.AuditPage, admin_views.FilterOptions]:
        return (
            await admin_views.audit_log(ctx, school_id, filters, before),
            await admin_views.audit_filter_options(ctx, school_id),
        )

    log, options = await auth.run(request, load)
    next_url = _link(query, before=log.next_before) if log.next_before else ""
    return page(
        "audit.html",
        request,
        {
            "log": log,
            "options": options,
            "query": query,
            "link": lambda **c: _link(query, **c),
            "next_url": next_url,
            "first_page": before is None,
            "error": error,
        },
        status=400 if error else 200,
    )
