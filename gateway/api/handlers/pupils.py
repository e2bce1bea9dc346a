"""A family's pupils, and one pupil's marks and attendance (policy: ``READ_PUPIL``)."""

from __future__ import annotations

from datetime import date

from diary_core import api_views, families, pupil_report
from diary_core.context import Ctx
from diary_core.errors import InvalidInput
from gateway.api import serialize
from gateway.api.spec import DATE, ApiCall, Endpoint, Json, array, path_id, query, ref


def date_range(call: ApiCall) -> tuple[date, date]:
    """``from`` and ``to`` of the query, in order (a reversed range names ``to``)."""
    start, end = call.params["from"], call.params["to"]
    if end < start:
        raise InvalidInput("to: конец периода раньше его начала", field="to")
    return start, end


async def my_pupils(call: ApiCall) -> Json:
    pupils = await call.run(families.my_pupils)
    return [serialize.pupil(p) for p in pupils]


async def pupil_marks(call: ApiCall) -> Json:
    start, end = date_range(call)

    async def use_case(ctx: Ctx) -> Json:
        report = await pupil_report.pupil_marks(ctx, call.params["pupil_id"], start, end)
        return serialize.pupil_marks(report)

    return await call.run(use_case)


async def pupil_attendance(call: ApiCall) -> Json:
    start, end = date_range(call)

    async def use_case(ctx: Ctx) -> Json:
        found = await api_views.pupil_attendance(ctx, call.params["pupil_id"], start, end)
        return serialize.pupil_attendance(found)

    return await call.run(use_case)


RANGE = (
    query("from", DATE, "первый день периода, ГГГГ-ММ-ДД"),
    query("to", DATE, "последний день периода, ГГГГ-ММ-ДД"),
)
PUPIL = path_id("pupil_id", "обучающийся")

ENDPOINTS = (
    Endpoint(
        "GET",
        "/me/pupils",
        "listMyPupils",
        "Дети родителя (подтверждённые) или сам обучающийся",
        "Дневник",
        my_pupils,
        response=array(ref("Pupil")),
        errors=(),
    ),
    Endpoint(
        "GET",
        "/pupils/{pupil_id}/marks",
        "getPupilMarks",
        "Отметки по предметам со средним взвешенным и итоговыми отметками",
        "Дневник",
        pupil_marks,
        params=(PUPIL, *RANGE),
        response=ref("PupilMarks"),
        errors=(404,),
    ),
    Endpoint(
        "GET",
        "/pupils/{pupil_id}/attendance",
        "getPupilAttendance",
        "Пропуски, болезни и опоздания за период",
        "Дневник",
        pupil_attendance,
        params=(PUPIL, *RANGE),
        response=ref("PupilAttendance"),
        errors=(404,),
    ),
)
