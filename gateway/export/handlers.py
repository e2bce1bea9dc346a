"""The personal data pages: the archive a family downloads from ``/account``, the same
archive an administrator makes for a written request, and the family's page of who read
their child's data (docs/personal-data.md).

Security decisions:
- Every read goes through the core (:mod:`diary_core.personal_data`), which asks the policy:
  a family exports only itself and its confirmed children, an administrator only people of
  his own school (another school's person: 404, like a missing one).
- Downloads are POSTs (the CSRF middleware checks the form's token): a link on another site
  cannot make the diary produce, and audit, an export.
- The export is written to the audit log and committed before the first byte is sent.
"""

from __future__ import annotations

from aiohttp import web

from diary_core.actors import roles_of
from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from diary_core.messaging.recipients import pupil_labels
from diary_core.personal_data.access import PersonChoice, open_export, school_people
from diary_core.personal_data.readers import READERS_DAYS, Reader, pupil_readers
from diary_core.roles import FAMILY_ROLES, Role
from gateway import auth, keys
from gateway.export.archive import write_archive
from gateway.handlers.admin.common import admin_actor, page
from gateway.pages import render

ZIP_TYPE = "application/zip"


async def account_section(request: web.Request, user_id: int) -> dict[str, bool]:
    """The account page's "my data" section: whether to offer the children's readers."""
    async with request.app[keys.SESSIONS]() as db:
        roles = await roles_of(db, user_id)
    return {
        "family_account": bool(roles & FAMILY_ROLES),
        "has_children": Role.PARENT in roles,
    }


async def _stream(request: web.Request, ctx: Ctx, subject_id: int) -> web.StreamResponse:
    """Open the export (checks access, audits, commits), then stream the archive."""
    scope = await open_export(ctx, subject_id)
    await ctx.session.commit()
    stamp = scope.exported_at.astimezone(ctx.zone).strftime("%Y-%m-%d")
    response = web.StreamResponse(
        headers={
            "Content-Type": ZIP_TYPE,
            "Content-Disposition": (
                f'attachment; filename="personal-data-{subject_id}-{stamp}.zip"'
            ),
            "Cache-Control": "no-store",
        }
    )
    response.enable_chunked_encoding()
    await response.prepare(request)

    async def send(data: bytes) -> None:
        if data:
            await response.write(data)

    await write_archive(ctx, scope, send, ctx.zone)
    await response.write_eof()
    return response


async def export_own(request: web.Request) -> web.StreamResponse:
    """``POST /account/personal-data``: everything the diary holds about the signed-in
    person and the children he is the confirmed parent of."""
    actor = await auth.request_actor(request)
    async with request.app[keys.SESSIONS]() as db:
        ctx = Ctx(db, actor, auth.clock_of(request), auth.school_zone(request))
        return await _stream(request, ctx, actor.user_id)


def _user_id(raw: object) -> int:
    try:
        value = int(str(raw))
    except ValueError:
        raise InvalidInput(f"номер учётной записи должен быть числом, а не «{raw}»") from None
    if value < 1:
        raise InvalidInput("номер учётной записи должен быть положительным")
    return value


async def admin_page(request: web.Request) -> web.Response:
    """``GET /console/admin/personal-data?q=``: find the person of a written request."""
    actor, school_id = await admin_actor(request)
    query = request.query.get("q", "").strip()
    people: list[PersonChoice] = []
    if query:
        async with request.app[keys.SESSIONS]() as db:
            ctx = Ctx(db, actor, auth.clock_of(request), auth.school_zone(request))
            people = await school_people(ctx, school_id, query)
    return page("personal_data.html", request, {"query": query, "people": people})


async def admin_export(request: web.Request) -> web.StreamResponse:
    """``POST /console/admin/personal-data``: the archive of one person of the school."""
    actor, _ = await admin_actor(request)
    form = await request.post()
    subject_id = _user_id(form.get("user_id", ""))
    async with request.app[keys.SESSIONS]() as db:
        ctx = Ctx(db, actor, auth.clock_of(request), auth.school_zone(request))
        return await _stream(request, ctx, subject_id)


async def who_looked_page(request: web.Request) -> web.Response:
    """``GET /account/who-looked?pupil=``: who read the child's marks, attendance or
    messages in the last 90 days."""
    actor = await auth.request_actor(request)
    places = sorted(actor.family_places, key=lambda p: p.pupil_id)
    async with request.app[keys.SESSIONS]() as db:
        ctx = Ctx(db, actor, auth.clock_of(request), auth.school_zone(request))
        labels = await pupil_labels(ctx, {p.pupil_id for p in places})
        chosen: int | None = None
        readers: list[Reader] = []
        if "pupil" in request.query:
            chosen = _user_id(request.query["pupil"])
        elif places:
            chosen = places[0].pupil_id
        if chosen is not None:
            readers = await pupil_readers(ctx, chosen)
    return render(
        "who_looked.html",
        request,
        {
            "pupils": [(p.pupil_id, labels.get(p.pupil_id, "")) for p in places],
            "chosen": chosen,
            "readers": readers,
            "days": READERS_DAYS,
        },
    )
