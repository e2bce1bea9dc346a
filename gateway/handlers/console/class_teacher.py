"""The class teacher's pages: his class's pupils and parents, issuing their credentials and
ESIA link codes on printable slips, pending guardianships, class announcements (including
parent meetings, :mod:`~gateway.handlers.console.class_announcements`) and timetable changes
(:mod:`~gateway.handlers.console.class_timetable`) (docs/regulation.md, clauses 3.1, 4.1 and 2.3).

Security decision: a one-time password or link code is shown once. The POST that issues it
keeps the slip sealed in the issuer's session and answers 303; the GET of the slip's address
shows it (``no-store``) and removes it, so a reload issues nothing and shows nothing secret
(:mod:`gateway.slips`). The database holds only hashes of the passwords and codes. Issuing
again to someone who already has a login (or an unused link code) cancels what he has, so it
needs a deliberate confirmation in the form (``reissue=yes``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from diary_core import accounts, families, rosters, school
from diary_core.context import Ctx
from diary_core.errors import InvalidInput, NotFound
from diary_core.models import OneTimeCode
from gateway import auth, keys, sessions, slips
from gateway.handlers.console import NO_STORE, form_text, page, parse_id, staff_actor

ISSUE_KINDS = ("password", "link_code")


def class_id_of(request: web.Request) -> int:
    return int(request.match_info["class_id"])


async def posted_form(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}


# --- the class: roster, credentials, guardianships ---------------------------------------


async def _class_context(ctx: Ctx, class_id: int) -> dict[str, Any]:
    roster = await rosters.class_roster(ctx, class_id)
    return {
        "roster": roster,
        "pending": await families.pending_guardianships(ctx, class_id),
        "tab": "class",
    }


async def _render_class(
    request: web.Request, *, error: str = "", status: int = 200, selected: set[int] | None = None
) -> web.Response:
    class_id = class_id_of(request)
    context = await auth.run(request, lambda ctx: _class_context(ctx, class_id))
    context.update(
        error=error,
        selected=selected or set(),
        done=request.query.get("done", ""),
    )
    return page("console/class.html", request, context, status=status)


async def class_page(request: web.Request) -> web.Response:
    await staff_actor(request)
    return await _render_class(request)


@dataclass(frozen=True)
class Slip:
    """One printed slip: whose account, and the secret shown this once."""

    full_name: str
    role: str
    login: str
    password: str
    code: str


SLIP_PLACE = "class"
REISSUE_TITLES = {"password": "логин и пароль", "link_code": "код привязки Госуслуг"}


class NeedsReissueConfirmation(Exception):
    """Some of the people already have what the form would issue; nothing was issued."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


async def _with_live_link_code(ctx: Ctx, user_ids: list[int]) -> set[int]:
    """Who of ``user_ids`` holds an unused, unexpired link code (a new one would cancel it)."""
    rows = await ctx.session.scalars(
        select(OneTimeCode.user_id).where(
            OneTimeCode.user_id.in_(user_ids),
            OneTimeCode.purpose == "esia_link",
            OneTimeCode.used_at.is_(None),
            OneTimeCode.expires_at > ctx.now(),
        )
    )
    return set(rows)


async def _issue(
    ctx: Ctx, class_id: int, user_ids: list[int], kind: str, *, reissue: bool
) -> dict[str, Any]:
    """Issue to people of this class only: anyone else named in the form is "not found".
    Without ``reissue``, nobody who already has a login (or a live link code) gets a new
    one: :class:`NeedsReissueConfirmation` names them, and nothing is issued."""
    roster = await rosters.class_roster(ctx, class_id)
    people = []
    for user_id in user_ids:
        found = roster.person(user_id)
        if found is None:
            raise NotFound("человек не найден в этом классе")
        name, pupil = found
        role = "обучающийся" if pupil.user_id == user_id else f"родитель: {pupil.full_name}"
        people.append((user_id, name, role, _access_of(pupil, user_id)))
    if not reissue:
        if kind == "password":
            holders = {uid for uid, _, _, access in people if access.login}
        else:
            holders = await _with_live_link_code(ctx, user_ids)
        if holders:
            raise NeedsReissueConfirmation([n for uid, n, _, _ in people if uid in holders])
    slips = []
    for user_id, name, role, _ in people:
        if kind == "password":
            issued = await accounts.issue_credentials(ctx, user_id)
            await sessions.end_all(ctx.session, user_id)  # the old password's sessions
            slips.append(Slip(name, role, issued.login, issued.one_time_password, ""))
        else:
            code = await accounts.issue_link_code(ctx, user_id)
            slips.append(Slip(name, role, "", "", code))
    return {
        "roster": roster,
        "slips": slips,
        "kind": kind,
        "expires": ctx.now() + accounts.LINK_CODE_TTL,
    }


def _access_of(pupil: rosters.RosterPupil, user_id: int) -> rosters.Access:
    if pupil.user_id == user_id:
        return pupil.access
    return next(p.access for p in pupil.parents if p.user_id == user_id)


async def issue_submit(request: web.Request) -> web.Response:
    """Issue passwords or link codes to the ticked people; 303 to their slips, shown once."""
    await staff_actor(request)
    class_id = class_id_of(request)
    posted = await request.post()
    kind = str(posted.get("what", ""))
    if kind not in ISSUE_KINDS:
        raise InvalidInput("неизвестный вид доступа", field="what")
    user_ids = [parse_id(v, "пользователь") for v in posted.getall("user_id", [])]
    if not user_ids:
        return await _render_class(
            request, error="Отметьте, кому выдать доступ.", status=400, selected=set()
        )
    reissue = posted.get("reissue") == "yes"
    try:
        context = await auth.run(
            request, lambda ctx: _issue(ctx, class_id, user_ids, kind, reissue=reissue)
        )
    except NeedsReissueConfirmation as exc:
        error = (
            f"Уже выдано ({REISSUE_TITLES[kind]}): {', '.join(exc.names)}. Ничего не выдано. "
            "Новая выдача отменит прежний пароль или код — если это нужно, отметьте "
            "«Выдать заново» и нажмите кнопку ещё раз."
        )
        return await _render_class(request, error=error, status=409, selected=set(user_ids))
    roster = context["roster"]
    about = {
        "place": SLIP_PLACE,
        "class_id": class_id,
        "class_name": roster.class_name,
        "school_name": roster.school_name,
        "kind": kind,
        "people": [
            [uid, s.full_name, s.role] for uid, s in zip(user_ids, context["slips"], strict=True)
        ],
    }
    secret = {
        "slips": [asdict(s) for s in context["slips"]],
        "expires": context["expires"].isoformat(),
    }
    slip_id = await slips.keep(request, about, secret)
    raise web.HTTPSeeOther(f"/console/class/{class_id}/credentials?slip={slip_id}")


async def slips_gone(request: web.Request) -> web.Response:
    """``GET .../credentials?slip=<id>``: the slips of one issue, shown once; a reload shows
    who they were for and no secret. Without a slip of this session, why there is none."""
    await staff_actor(request)
    class_id = class_id_of(request)
    cls = await auth.run(request, lambda ctx: school.get_class(ctx, class_id), commit=False)
    opened = await slips.open_once(request, request.query.get("slip", ""), SLIP_PLACE)
    if opened is None or opened.about.get("class_id") != class_id:
        return _gone(request, cls.id, cls.name, None)
    if opened.secret is None:
        return _gone(request, cls.id, cls.name, opened.about)
    context = {
        "roster": {
            "class_id": class_id,
            "class_name": opened.about["class_name"],
            "school_name": opened.about["school_name"],
        },
        "kind": opened.about["kind"],
        "slips": [Slip(**s) for s in opened.secret["slips"]],
        "expires": datetime.fromisoformat(opened.secret["expires"]),
        "login_url": request.app[keys.SETTINGS].server.public_url.rstrip("/") + "/login",
    }
    return page("console/slips.html", request, context, headers=NO_STORE)


def _gone(
    request: web.Request, class_id: int, class_name: str, about: dict[str, Any] | None
) -> web.Response:
    context = {"class_id": class_id, "class_name": class_name, "about": about}
    return page("console/slips_gone.html", request, context, headers=NO_STORE)


async def guardianship_submit(request: web.Request) -> web.Response:
    """Confirm or reject a pending parent–pupil link of this class."""
    await staff_actor(request)
    class_id = class_id_of(request)
    link_id = int(request.match_info["link_id"])
    decision = form_text(await posted_form(request), "decision")
    if decision not in ("confirm", "reject"):
        raise InvalidInput("неизвестное решение", field="decision")

    async def decide(ctx: Ctx) -> None:
        pending = await families.pending_guardianships(ctx, class_id)
        if all(p.guardianship_id != link_id for p in pending):
            raise NotFound("заявка на связь не найдена среди ожидающих в этом классе")
        await families.decide_guardianship(ctx, link_id, accept=decision == "confirm")

    await auth.run(request, decide)
    done = "confirmed" if decision == "confirm" else "rejected"
    raise web.HTTPSeeOther(f"/console/class/{class_id}?done={done}")
