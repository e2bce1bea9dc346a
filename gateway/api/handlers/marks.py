"""Entering, correcting and deleting marks, their history, and attendance (policy:
``WRITE_MARKS`` for the teacher of the class and subject; history: ``READ_PUPIL``)."""

from __future__ import annotations

from diary_core import marks
from diary_core.context import Ctx
from gateway.api import serialize
from gateway.api.schemas import ATTENDANCE_INPUT, MARK_CORRECTION, NEW_MARK
from gateway.api.spec import ApiCall, Endpoint, Json, array, path_id, query, ref

MARK = path_id("mark_id", "отметка")


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
        return serialize.mark(mark)

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
        )
        return serialize.mark(mark)

    return await call.run(use_case)


async def delete_mark(call: ApiCall) -> None:
    async def use_case(ctx: Ctx) -> None:
        await marks.delete_mark(ctx, call.params["mark_id"], call.params.get("reason", ""))

    await call.run(use_case)


async def mark_history(call: ApiCall) -> Json:
    async def use_case(ctx: Ctx) -> Json:
        return [
            serialize.mark_change(e) for e in await marks.mark_history(ctx, call.params["mark_id"])
        ]

    return await call.run(use_case)


async def set_attendance(call: ApiCall) -> Json:
    b = call.body

    async def use_case(ctx: Ctx) -> None:
        await marks.set_attendance(
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
    ),
    Endpoint(
        "PATCH",
        "/marks/{mark_id}",
        "correctMark",
        "Исправить отметку; прежнее значение остаётся в истории",
        "Журнал",
        correct_mark,
        params=(MARK,),
        body=MARK_CORRECTION,
        response=ref("Mark"),
    ),
    Endpoint(
        "DELETE",
        "/marks/{mark_id}",
        "deleteMark",
        "Удалить отметку; история сохраняет её последнее значение",
        "Журнал",
        delete_mark,
        params=(
            MARK,
            query("reason", {"type": "string", "maxLength": 500}, "причина", required=False),
        ),
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
