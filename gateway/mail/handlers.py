"""Pages of the mail feature: the one-click unsubscribe link every mail carries.

``POST /mail/unsubscribe/{token}`` is RFC 8058's one-click unsubscribe: mail clients send
it without a session or a CSRF token, so the token in the address is the only credential —
256 random bits, one per person, good for nothing but switching his mail off. A wrong
token answers 404 and changes nothing. ``GET`` (a person following the link in the text)
only shows a confirmation form; it never unsubscribes, because mail scanners fetch links.
"""

from __future__ import annotations

from aiohttp import web

from gateway import keys
from gateway.mail import preferences
from gateway.pages import render

UNSUBSCRIBE_PREFIX = "/mail/unsubscribe/"


async def unsubscribe_page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    async with request.app[keys.SESSIONS]() as db:
        known = await preferences.known_token(db, token)
    if not known:
        return render("mail/unsubscribe_unknown.html", request, {}, status=404)
    return render("mail/unsubscribe.html", request, {"token": token, "done": False})


async def unsubscribe_submit(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    async with request.app[keys.SESSIONS]() as db:
        found = await preferences.unsubscribe(db, token, request.app[keys.CLOCK].now())
        await db.commit()
    if not found:
        return render("mail/unsubscribe_unknown.html", request, {}, status=404)
    return render("mail/unsubscribe.html", request, {"token": token, "done": True})
