"""Messages for every signed-in person (docs/regulation.md, clauses 2.2, 3.2, 5.1) and the question
to the administrator (docs/regulation.md, clause 6.1).

``/messages`` lists the actor's threads with unread counts; for staff, threads awaiting a
reply and overdue ones are marked (``?awaiting=1`` shows only those). ``/messages/new``
offers only the people the policy lets him write to; ``/messages/{id}`` is a thread (reading
marks it read) with a reply form; to a non-participant it does not exist.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from diary_core import families, messaging
from diary_core.context import Ctx
from diary_core.errors import Conflict, InvalidInput, NotFound
from diary_core.roles import Role
from gateway import auth
from gateway.pages import render

FormData = MultiDictProxy[Any]


def _int(raw: object, label: str, field: str) -> int:
    try:
        return int(str(raw))
    except ValueError:
        raise InvalidInput(f"{label}: ожидается число", field=field) from None


def _conversation_id(request: web.Request) -> int:
    raw = request.match_info["conversation_id"]
    if not raw.isdigit():
        raise NotFound("переписка не найдена")
    return int(raw)


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


# --- the list ----------------------------------------------------------------------------


async def list_page(request: web.Request) -> web.Response:
    """The actor's threads, newest first; staff see what awaits their reply."""
    awaiting_only = request.query.get("awaiting") == "1"

    async def load(ctx: Ctx) -> dict[str, Any]:
        threads = await messaging.list_conversations(ctx)
        labels = await messaging.pupil_labels(ctx, {t.pupil_id for t in threads if t.pupil_id})
        awaiting = [t for t in threads if t.awaiting_reply_since is not None]
        return {
            "threads": awaiting if awaiting_only and ctx.actor.is_staff else threads,
            "labels": labels,
            "is_staff": ctx.actor.is_staff,
            "awaiting_count": len(awaiting),
            "overdue_count": sum(1 for t in awaiting if t.overdue),
            "awaiting_only": awaiting_only and ctx.actor.is_staff,
            "unread_total": sum(t.unread for t in threads),
            "now": ctx.now(),
        }

    return render("messages.html", request, await auth.run(request, load, commit=False))


# --- a new conversation ---------------------------------------------------------------------


async def _new_form(ctx: Ctx) -> dict[str, Any]:
    recipients = await messaging.message_recipients(ctx)
    groups: dict[str, list[messaging.Recipient]] = {}
    for r in recipients:
        groups.setdefault(r.group, []).append(r)
    children = await families.my_pupils(ctx) if ctx.actor.has(Role.PARENT) else []
    return {"groups": groups, "children": children}


def _render_new(
    request: web.Request,
    context: dict[str, Any],
    values: dict[str, str],
    error: str = "",
    status: int = 200,
) -> web.Response:
    context = {**context, "values": values, "error": error, "csrf_token": auth.csrf_token(request)}
    return render("messages_new.html", request, context, status=status)


async def new_page(request: web.Request) -> web.Response:
    context = await auth.run(request, _new_form, commit=False)
    values = {"recipient": request.query.get("to", ""), "pupil": request.query.get("pupil", "")}
    return _render_new(request, context, {**values, "topic": "", "body": ""})


async def new_submit(request: web.Request) -> web.Response:
    """Start a conversation. A recipient the policy does not allow is refused by the core
    (404, nothing written); a mistake in what was typed shows the form again, kept."""
    form = await request.post()
    values = {k: _text(form, k).strip() for k in ("recipient", "pupil", "topic")}
    values["body"] = _text(form, "body")

    async def send(ctx: Ctx) -> int:
        if not values["recipient"]:
            raise InvalidInput("выберите, кому написать", field="recipient")
        recipient = _int(values["recipient"], "Получатель", "recipient")
        pupil = _int(values["pupil"], "Ребёнок", "pupil") if values["pupil"] else None
        return await messaging.start_conversation(
            ctx, [recipient], values["topic"], values["body"], pupil_id=pupil
        )

    try:
        conversation_id = await auth.run(request, send)
    except InvalidInput as exc:
        context = await auth.run(request, _new_form, commit=False)
        return _render_new(request, context, values, str(exc), status=400)
    raise web.HTTPSeeOther(f"/messages/{conversation_id}")


# --- a thread ----------------------------------------------------------------------------


async def _thread(ctx: Ctx, conversation_id: int) -> dict[str, Any]:
    thread = await messaging.read_conversation(ctx, conversation_id)
    labels = await messaging.pupil_labels(ctx, {thread.pupil_id} if thread.pupil_id else set())
    return {"thread": thread, "pupil_label": labels.get(thread.pupil_id or 0, "")}


def _render_thread(
    request: web.Request,
    context: dict[str, Any],
    body: str = "",
    error: str = "",
    status: int = 200,
) -> web.Response:
    view = auth.current_session(request)
    context = {
        **context,
        "body": body,
        "error": error,
        "csrf_token": auth.csrf_token(request),
        "me": view.user_id if view else None,
    }
    return render("messages_thread.html", request, context, status=status)


async def thread_page(request: web.Request) -> web.Response:
    """A thread the actor takes part in; reading it marks it read for him."""
    conversation_id = _conversation_id(request)

    async def load(ctx: Ctx) -> dict[str, Any]:
        return await _thread(ctx, conversation_id)

    return _render_thread(request, await auth.run(request, load))


async def reply_submit(request: web.Request) -> web.Response:
    conversation_id = _conversation_id(request)
    body = _text(await request.post(), "body")

    async def send(ctx: Ctx) -> int:
        return await messaging.reply(ctx, conversation_id, body)

    async def load(ctx: Ctx) -> dict[str, Any]:
        return await _thread(ctx, conversation_id)

    try:
        await auth.run(request, send)
    except InvalidInput as exc:
        return _render_thread(request, await auth.run(request, load), body, str(exc), status=400)
    raise web.HTTPSeeOther(f"/messages/{conversation_id}#last")


# --- the question to the administrator (docs/regulation.md, clause 6.1) ---------------------------


def _render_question(
    request: web.Request,
    schools: list[messaging.SchoolChoice],
    values: dict[str, str],
    error: str = "",
    status: int = 200,
) -> web.Response:
    context = {
        "schools": schools,
        "values": values,
        "error": error,
        "csrf_token": auth.csrf_token(request),
    }
    return render("question.html", request, context, status=status)


async def question_page(request: web.Request) -> web.Response:
    schools = await auth.run(request, messaging.question_schools, commit=False)
    return _render_question(request, schools, {"school": "", "topic": "", "body": ""})


async def question_submit(request: web.Request) -> web.Response:
    """Send the question to every administrator of the chosen school (the only one, usually)."""
    form = await request.post()
    values = {"school": _text(form, "school"), "topic": _text(form, "topic")}
    values["body"] = _text(form, "body")

    async def ask(ctx: Ctx) -> int:
        schools = await messaging.question_schools(ctx)
        if not schools:
            raise NotFound("школа не найдена")
        if values["school"]:
            school_id = _int(values["school"], "Школа", "school")
        elif len(schools) == 1:
            school_id = schools[0].id
        else:
            raise InvalidInput("выберите школу", field="school")
        return await messaging.ask_administration(ctx, school_id, values["topic"], values["body"])

    try:
        conversation_id = await auth.run(request, ask)
    except (InvalidInput, Conflict) as exc:
        schools = await auth.run(request, messaging.question_schools, commit=False)
        status = 409 if isinstance(exc, Conflict) else 400
        return _render_question(request, schools, values, str(exc), status=status)
    raise web.HTTPSeeOther(f"/messages/{conversation_id}")
