"""The class teacher's pages: his class's pupils and parents, issuing their credentials and
ESIA link codes on printable slips, pending guardianships, class announcements (including
parent meetings) and timetable changes (docs/regulation.md, clauses 3.1, 4.1, 2.3).

Security decision: a one-time password or link code is shown once. The POST that issues it
keeps the slip sealed in the issuer's session and answers 303; the GET of the slip's address
shows it (``no-store``) and removes it, so a reload issues nothing and shows nothing secret
(:mod:`gateway.slips`). The database holds only hashes of the passwords and codes. Issuing
again to someone who already has a login (or an unused link code) cancels what he has, so it
needs a deliberate confirmation in the form (``reissue=yes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from aiohttp import web
from sqlalchemy import select

from diary_core import accounts, announcements, families, school, staff_views, timetable
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput, NotFound
from diary_core.models import OneTimeCode
from diary_core.policy import Action, ClassTarget, allowed
from gateway import auth, keys, sessions, slips
from gateway.handlers.announcements import shown_through
from gateway.handlers.console import NO_STORE, form_text, page, parse_day, parse_id, staff_actor

ISSUE_KINDS = ("password", "link_code")
KIND_TITLES = {"general": "Объявление", "parent_meeting": "Родительское собрание"}
CHANGE_TITLES = {
    "substitution": "Замена учителя",
    "cancellation": "Отмена урока",
    "room_change": "Смена кабинета",
    "moved": "Перенос урока",
}
WEEKDAYS = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота")


def _class_id(request: web.Request) -> int:
    return int(request.match_info["class_id"])


async def _form(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}


# --- the class: roster, credentials, guardianships ---------------------------------------


async def _class_context(ctx: Ctx, class_id: int) -> dict[str, Any]:
    roster = await staff_views.class_roster(ctx, class_id)
    return {
        "roster": roster,
        "pending": await families.pending_guardianships(ctx, class_id),
        "tab": "class",
    }


async def _render_class(
    request: web.Request, *, error: str = "", status: int = 200, selected: set[int] | None = None
) -> web.Response:
    class_id = _class_id(request)
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
    roster = await staff_views.class_roster(ctx, class_id)
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


def _access_of(pupil: staff_views.RosterPupil, user_id: int) -> staff_views.Access:
    if pupil.user_id == user_id:
        return pupil.access
    return next(p.access for p in pupil.parents if p.user_id == user_id)


async def issue_submit(request: web.Request) -> web.Response:
    """Issue passwords or link codes to the ticked people; 303 to their slips, shown once."""
    await staff_actor(request)
    class_id = _class_id(request)
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
    class_id = _class_id(request)
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
    class_id = _class_id(request)
    link_id = int(request.match_info["link_id"])
    decision = form_text(await _form(request), "decision")
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


# --- announcements --------------------------------------------------------------------------


async def _announcements_context(ctx: Ctx, class_id: int) -> dict[str, Any]:
    cls = await school.get_class(ctx, class_id)
    items = [a for a in await announcements.announcements_for(ctx) if a.class_id == cls.id]
    return {
        "cls": cls,
        "items": items,
        "may_announce": allowed(ctx.actor, Action.ANNOUNCE, ClassTarget(cls.school_id, cls.id)),
        "kinds": KIND_TITLES,
        "tab": "announcements",
    }


async def _render_announcements(
    request: web.Request, form: Mapping[str, str], error: str = "", status: int = 200
) -> web.Response:
    class_id = _class_id(request)
    context = await auth.run(
        request, lambda ctx: _announcements_context(ctx, class_id), commit=False
    )
    context.update(form=form, error=error, posted=request.query.get("posted", ""))
    context["shown_through"] = shown_through(request)
    return page("console/class_announcements.html", request, context, status=status)


async def announcements_page(request: web.Request) -> web.Response:
    await staff_actor(request)
    return await _render_announcements(request, {"kind": "general"})


def _expiry(form: Mapping[str, str], zone: tzinfo) -> datetime | None:
    """Shown through the school's calendar day given (to its local midnight), or without end
    when none is given."""
    raw = form_text(form, "expires").strip()
    if not raw:
        return None
    return announcements.end_of_day(parse_day(raw, "показывать до"), zone)


async def announcement_submit(request: web.Request) -> web.Response:
    await staff_actor(request)
    class_id = _class_id(request)
    form = await _form(request)

    async def post(ctx: Ctx) -> None:
        cls = await school.get_class(ctx, class_id)
        await announcements.announce(
            ctx,
            form_text(form, "title"),
            form_text(form, "body"),
            form_text(form, "kind"),
            cls.school_id,
            cls.id,
            expires_at=_expiry(form, auth.school_zone(request)),
        )

    try:
        await auth.run(request, post)
    except InvalidInput as exc:
        return await _render_announcements(request, form, str(exc), status=400)
    raise web.HTTPSeeOther(f"/console/class/{class_id}/announcements?posted=1")


# --- the week and its changes -----------------------------------------------------------------


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def _timetable_context(ctx: Ctx, class_id: int, week: date | None) -> dict[str, Any]:
    cls = await school.get_class(ctx, class_id)
    today = ctx.today()
    monday = _monday(week or today)
    target = ClassTarget(cls.school_id, cls.id)
    may_change = allowed(ctx.actor, Action.CHANGE_TIMETABLE, target)
    return {
        "cls": cls,
        "week": await timetable.week_timetable(ctx, class_id, monday),
        "prev_week": monday - timedelta(days=7),
        "next_week": monday + timedelta(days=7),
        "options": await staff_views.timetable_change_options(ctx, class_id)
        if may_change
        else None,
        "tomorrow": today + timedelta(days=1),
        "change_titles": CHANGE_TITLES,
        "weekdays": WEEKDAYS,
        "tab": "timetable",
    }


async def _render_timetable(
    request: web.Request,
    week: date | None,
    form: Mapping[str, str],
    error: str = "",
    status: int = 200,
) -> web.Response:
    class_id = _class_id(request)
    context = await auth.run(
        request, lambda ctx: _timetable_context(ctx, class_id, week), commit=False
    )
    context.update(form=form, error=error, notified=request.query.get("notified", ""))
    return page("console/class_timetable.html", request, context, status=status)


async def timetable_page(request: web.Request) -> web.Response:
    await staff_actor(request)
    raw = request.query.get("week")
    week = parse_day(raw, "неделя") if raw else None
    return await _render_timetable(request, week, {})


def _optional_id(form: Mapping[str, str], name: str, label: str) -> int | None:
    raw = form_text(form, name).strip()
    return parse_id(raw, label) if raw else None


def change_request(form: Mapping[str, str]) -> timetable.ChangeRequest:
    """The change as the form describes it; fields of other kinds are ignored."""
    kind = form_text(form, "kind")
    moved_day = form_text(form, "moved_to_date").strip()
    moved_lesson = form_text(form, "moved_to_lesson").strip()
    return timetable.ChangeRequest(
        kind=kind,
        teacher_id=_optional_id(form, "teacher_id", "заменяющий учитель")
        if kind == "substitution"
        else None,
        subject_id=_optional_id(form, "subject_id", "предмет") if kind == "substitution" else None,
        room=form_text(form, "room") if kind == "room_change" else None,
        moved_to_date=parse_day(moved_day, "перенести на дату")
        if kind == "moved" and moved_day
        else None,
        moved_to_lesson=parse_id(moved_lesson, "номер урока переноса")
        if kind == "moved" and moved_lesson
        else None,
        note=form_text(form, "note"),
    )


async def timetable_submit(request: web.Request) -> web.Response:
    """One lesson of one date changes; the class's families are notified
    (docs/regulation.md, clause 4.1)."""
    await staff_actor(request)
    class_id = _class_id(request)
    form = await _form(request)
    day: date | None = None
    try:
        day = parse_day(form_text(form, "date"), "дата")
        number = parse_id(form_text(form, "lesson_number"), "номер урока")
        req = change_request(form)

        async def change(ctx: Ctx) -> timetable.ChangeInfo:
            return await timetable.change_timetable(
                ctx, class_id, day, number, req, announce=form.get("announce") == "1"
            )

        info = await auth.run(request, change)
    except (InvalidInput, Conflict) as exc:
        status = 409 if isinstance(exc, Conflict) else 400
        return await _render_timetable(request, day, form, str(exc), status=status)
    raise web.HTTPSeeOther(
        f"/console/class/{class_id}/timetable?week={_monday(day).isoformat()}"
        f"&notified={info.notified}"
    )
