"""Timetable subscription over HTTP: the feed at ``/calendar/<token>.ics`` and the account's
forms that make, renew and revoke its address (docs/calendar.md).

Security decisions:
- The feed needs no session: the token in its address is the credential (calendar apps keep
  no cookies). An unknown, malformed or revoked token, and a disabled account, are all the
  same bare 404, so the answer tells nothing about which it was.
- The feed is read as the token's owner (the core's policy on every read); the owner's
  confirmed children are read afresh on each request, so an ended guardianship takes the
  child out of the next poll.
- The address is shown once, right after it is made (:mod:`gateway.slips`, sealed under the
  browser's session cookie); the database keeps only the token's SHA-256.
- Polling is cheap: the strong ETag is computed from the events' fingerprints and revisions
  (:func:`gateway.calendar.feed.etag`) before anything is written out, so a request whose
  ``If-None-Match`` matches gets 304 without the calendar being rendered. Last-Modified is
  when the address's content last changed (kept on its row), for ``If-Modified-Since``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from diary_core.actors import load_actor
from diary_core.context import Ctx
from diary_core.errors import NotFound
from diary_core.models import User
from gateway import auth, keys, slips
from gateway.calendar import feed, tokens, versions

SLIP_PLACE = "calendar"
FEED_PATH = "/calendar/{token}.ics"
CONTENT_TYPE = "text/calendar; charset=utf-8"


def feed_url(request: web.Request, token: str) -> str:
    base = request.app[keys.SETTINGS].server.public_url.rstrip("/")
    return base + FEED_PATH.format(token=token)


def _host(request: web.Request) -> str:
    """The domain in event UIDs: the gateway's public host name."""
    return urlsplit(request.app[keys.SETTINGS].server.public_url).hostname or "ediary"


def _not_found() -> web.Response:
    return web.Response(status=404, text="Not Found", headers={"Cache-Control": "no-store"})


def _etag_matches(header: str, etag: str) -> bool:
    """``If-None-Match`` (a list of tags or ``*``) against the current tag, weakly
    compared as RFC 9110 asks for this header."""
    given = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in given or etag in given


def _not_modified_since(header: str, last_modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= since


async def calendar_feed(request: web.Request) -> web.StreamResponse:
    """The timetable of the token's owner as iCalendar; 304 when the client has it."""
    clock, zone = auth.clock_of(request), auth.school_zone(request)
    now = clock.now()
    async with request.app[keys.SESSIONS]() as db:
        feed_row = await tokens.live_by_token(db, request.match_info["token"])
        if feed_row is None:
            return _not_found()
        try:
            actor = await load_actor(db, feed_row.user_id)
        except NotFound:
            return _not_found()
        user = await db.get(User, feed_row.user_id)
        assert user is not None
        ctx = Ctx(db, actor, clock, zone)
        window = feed.Window.around(ctx.today())
        host = _host(request)
        lessons = await feed.family_lessons(ctx, window, host)
        lessons += await feed.teacher_lessons(ctx, window, host)
        events, written = await versions.revisions(db, lessons, now, window.first)
        name = f"Расписание — {user.full_name}"
        tag = feed.etag(name, zone, window, events)
        if feed_row.content_etag != tag or feed_row.content_changed_at is None:
            feed_row.content_etag, feed_row.content_changed_at = tag, now
            written = True
        last_modified = feed_row.content_changed_at
        if written:
            await db.commit()
    headers = {
        "ETag": f'"{tag}"',
        "Last-Modified": format_datetime(last_modified.astimezone(UTC), usegmt=True),
        "Cache-Control": "private, no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
    }
    if _fresh(request, f'"{tag}"', last_modified):
        return web.Response(status=304, headers=headers)
    body = feed.render(name, zone, window, events)
    headers["Content-Disposition"] = 'inline; filename="timetable.ics"'
    return web.Response(body=body, headers={**headers, "Content-Type": CONTENT_TYPE})


def _fresh(request: web.Request, etag: str, last_modified: datetime) -> bool:
    """Whether the client's copy is current: ``If-None-Match`` decides when sent (RFC 9110,
    13.2.2), else ``If-Modified-Since``."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return _etag_matches(if_none_match, etag)
    since = request.headers.get("If-Modified-Since")
    return since is not None and _not_modified_since(since, last_modified)


def _account_user(request: web.Request) -> int:
    view = auth.current_session(request)
    if view is None or view.user_id is None:
        raise web.HTTPSeeOther("/login?next=/account")
    return view.user_id


async def issue_submit(request: web.Request) -> web.Response:
    """Make the account's subscription address, or renew it (the old one stops at once);
    the new address is shown once on the account page."""
    user_id = _account_user(request)
    token = await _issue(request, user_id)
    slip_id = await slips.keep(request, {"place": SLIP_PLACE}, {"url": feed_url(request, token)})
    raise web.HTTPSeeOther(f"/account?calendar={slip_id}#calendar")


async def _issue(request: web.Request, user_id: int) -> str:
    """A new address; a second one made at the same moment (a double click) loses the race
    on the one-live-address index and is made once more, revoking the first."""
    try:
        return await _issue_once(request, user_id)
    except IntegrityError:
        return await _issue_once(request, user_id)


async def _issue_once(request: web.Request, user_id: int) -> str:
    async with request.app[keys.SESSIONS]() as db:
        token = await tokens.issue(db, user_id, auth.clock_of(request).now())
        await db.commit()
    return token


async def revoke_submit(request: web.Request) -> web.Response:
    """Revoke the account's subscription address: calendars polling it get 404 from now on."""
    user_id = _account_user(request)
    async with request.app[keys.SESSIONS]() as db:
        revoked = await tokens.revoke(db, user_id, auth.clock_of(request).now())
        await db.commit()
    raise web.HTTPSeeOther("/account?calendar_revoked=1#calendar" if revoked else "/account")


async def account_section(request: web.Request, user_id: int) -> dict[str, object]:
    """What the account page shows of the subscription: since when the live address exists,
    and the address itself right after it was made (once)."""
    async with request.app[keys.SESSIONS]() as db:
        live = await tokens.live_feed(db, user_id)
    url = None
    slip_id = request.query.get("calendar")
    if slip_id:
        opened = await slips.open_once(request, slip_id, SLIP_PLACE)
        if opened is not None and opened.secret is not None:
            url = str(opened.secret["url"])
    return {
        "calendar_since": live.created_at if live is not None else None,
        "calendar_url": url,
        "calendar_revoked": request.query.get("calendar_revoked") == "1",
    }
