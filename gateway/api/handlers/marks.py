"""Entering, correcting and deleting marks, their history, and attendance (policy:
``WRITE_MARKS`` for the teacher of the class and subject; reading and history:
``READ_PUPIL``).

A mark is answered with an ``ETag``, a strong validator of its stored state
(:func:`diary_core.marks.mark_version`). Correcting or deleting it requires ``If-Match``
with that ETag: two clients that read the same mark cannot both overwrite it, the second
gets 412 and reads it again. The comparison and the write are one transaction, with the
pupil's row locked (:func:`diary_core.journal_writes.lock_pupils`).
"""

from __future__ import annotations

from diary_core import attendance, marks
from diary_core.context import Ctx
from diary_core.models import Mark
from gateway.api import serialize
from gateway.api.bodies import ATTENDANCE_INPUT, MARK_CORRECTION, NEW_MARK
from gateway.api.spec import ApiCall, ApiProblem, Endpoint, Json, array, path_id, query, ref

MARK = path_id("mark_id", "отметка")


def etag(mark: Mark) -> str:
    return f'"{marks.mark_version(mark)}"'


def _answer(call: ApiCall, mark: Mark) -> Json:
    call.headers["ETag"] = etag(mark)
    return serialize.mark(mark)


async def expected_versions(ctx: Ctx, call: ApiCall) -> list[str]:
    """The mark versions the request's ``If-Match`` accepts: its strong ETags, or for ``*``
    the mark's current one. Weak validators (``W/"…"``) never match: If-Match compares
    strongly (RFC 9110 §13.1.1). Without the header: 428, once the mark is known to exist
    and be the actor's to write (so a mark that is not his answers as before: 404/403)."""
    raw = call.request.headers.get("If-Match", "").strip()
    tags = [t.strip() for t in raw.split(",") if t.strip()]
    if not tags or "*" in tags:
        mark = await marks.writable_mark(ctx, call.params["mark_id"])
        if tags:
            return [marks.mark_version(mark)]
        raise ApiProblem(
            428,
            "precondition_required",
            "Нужен заголовок If-Match",
            "изменить или удалить отметку можно только с заголовком If-Match, равным её ETag "
            "(его возвращает GET /api/v1/marks/{mark_id})",
        )
    return [t[1:-1] for t in tags if len(t) >= 2 and t[0] == t[-1] == '"']


def _stale(exc: marks.MarkChanged) -> ApiProblem:
    return ApiProblem(
        412,
        "precondition_failed",
        "Отметка изменилась",
        f"{exc}; получите отметку заново (GET) и повторите запрос с её новым ETag",
    )


async def get_mark(call: ApiCall) -> Json:
    async def use_case(ctx: Ctx) -> Json:
        return _answer(call, await marks.get_mark(ctx, call.params["mark_id"]))

    return await call.run(use_case)


async def record_mark(call: ApiCall) -> Json:
    b = call.body

    async def use_case(ctx: Ctx) -> Json:
        mark = await marks.record_mark(
            ctx,
            pupil_id=b["pupil_id"],
            subject_id=b["subject_id"],
            day=b["date"],
            value=b["value"],
            work_type_id=b["work_type_id"],
            weight=b.get("weight"),
            counts=b.get("counts", True),
            comment=b.get("comment", ""),
            lesson_id=b.get("lesson_id"),
        )
        return _answer(call, mark)

    return await call.run(use_case)


async def correct_mark(call: ApiCall) -> Json:
    b = call.body

    async def use_case(ctx: Ctx) -> Json:
        mark = await marks.correct_mark(
            ctx,
            call.params["mark_id"],
            value=b.get("value"),
            weight=b.get("weight"),
            counts=b.get("counts"),
            comment=b.get("comment"),
            reason=b.get("reason", ""),
            expected_versions=await expected_versions(ctx, call),
        )
        return _answer(call, mark)

    try:
        return await call.run(use_case)
    except marks.MarkChanged as exc:
        raise _stale(exc) from None


async def delete_mark(call: ApiCall) -> None:
    async def use_case(ctx: Ctx) -> None:
        await marks.delete_mark(
            ctx,
            call.params["mark_id"],
            call.params.get("reason", ""),
            expected_versions=await expected_versions(ctx, call),
        )

    try:
        await call.run(use_case)
    except marks.MarkChanged as exc:
        raise _stale(exc) from None


async def mark_history(call: ApiCall) -> Json:
    async def use_case(ctx: Ctx) -> Json:
        return [
            serialize.mark_change(e) for e in await marks.mark_history(ctx, call.params["mark_id"])
        ]

    return await call.run(use_case)


async def set_attendance(call: ApiCall) -> Json:
    b = call.body

    async def use_case(ctx: Ctx) -> None:
        await attendance.set_attendance(
            ctx, pupil_id=b["pupil_id"], lesson_id=b["lesson_id"], kind=b["kind"]
        )

    await call.run(use_case)
    return {"pupil_id": b["pupil_id"], "lesson_id": b["lesson_id"], "kind": b["kind"]}


ENDPOINTS = (
    Endpoint(
        "POST",
        "/marks",
        "recordMark",
        "Поставить отметку (учитель этого предмета в этом классе)",
        "Журнал",
        record_mark,
        body=NEW_MARK,
        response=ref("Mark"),
        status=201,
        etag=True,
    ),
    Endpoint(
        "GET",
        "/marks/{mark_id}",
        "getMark",
        "Отметка с заголовком ETag — его нужно передать в If-Match, чтобы исправить или удалить её",
        "Журнал",
        get_mark,
        params=(MARK,),
        response=ref("Mark"),
        etag=True,
    ),
    Endpoint(
        "PATCH",
        "/marks/{mark_id}",
        "correctMark",
        "Исправить отметку (If-Match: её ETag); прежнее значение остаётся в истории",
        "Журнал",
        correct_mark,
        params=(MARK,),
        body=MARK_CORRECTION,
        response=ref("Mark"),
        etag=True,
        if_match=True,
    ),
    Endpoint(
        "DELETE",
        "/marks/{mark_id}",
        "deleteMark",
        "Удалить отметку (If-Match: её ETag); история сохраняет её последнее значение",
        "Журнал",
        delete_mark,
        params=(
            MARK,
            query("reason", {"type": "string", "maxLength": 500}, "причина", required=False),
        ),
        if_match=True,
    ),
    Endpoint(
        "GET",
        "/marks/{mark_id}/history",
        "getMarkHistory",
        "История отметки: что было, что стало, кто и когда",
        "Журнал",
        mark_history,
        params=(MARK,),
        response=array(ref("MarkChange")),
    ),
    Endpoint(
        "PUT",
        "/attendance",
        "setAttendance",
        "Отметить отсутствие (н), болезнь (б) или опоздание (оп) на уроке; null — снять",
        "Журнал",
        set_attendance,
        body=ATTENDANCE_INPUT,
        response=ref("AttendanceState"),
    ),
)
